#!/usr/bin/env bash
# The built operator against the built embedded cluster (60x time, one shared clock):
#  - /healthz and /readyz answer; the live /metrics passes `promtool check metrics`;
#  - a real Prometheus (Debian's, on loopback) scrapes it while a PatchCampaign falls behind
#    its deadline, and the chart's NoneventCampaignBehindDeadline alert becomes firing;
#  - every request the operator made (the embedded cluster records them) is allowed by the
#    chart's ClusterRole and Role, and the chart grants nothing the operator did not use;
#  - with helm, metrics are secure as the chart sets them (metrics.secure): HTTPS, 401 without
#    a token, 403 for an account RBAC does not allow, and Prometheus scrapes with the token of
#    an account bound to the chart's metrics-reader ClusterRole; the probes stay plain HTTP.
#
# usage: operator_observability_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
work=$(mktemp -d)
pids=()
trap end_test EXIT
[ -n "${KEEP_WORK:-}" ] && trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; echo "work kept in $work"' EXIT
helm=""
for h in "$src/.tools/kubectl-1.31/helm" "$src/.tools/kubectl-1.35/helm"; do [ -x "$h" ] && helm="$h" && break; done
scale=60
epoch=$(date +%s)

# The example cluster plus kured and node-maintenance-operator, so the operator's reads of
# their marks are real requests the RBAC check below sees.
{ cat "$src/examples/cluster.yaml"; printf 'disruptors: {kured: {periodSeconds: 3600}, nodeMaintenance: {}}\n'; } >"$work/cluster.yaml"
# With helm the cluster enforces RBAC (--tls --rbac) and the operator runs as the chart's
# ServiceAccount with the chart's flags, bound by the chart's roles: a request the chart does
# not allow is refused here as on a real cluster.
rbac=()
[ -n "$helm" ] && rbac=(--tls --rbac)
"$bin" sim serve --cluster "$work/cluster.yaml" --manifests "$src/examples/workloads" --time-scale $scale \
  --time-epoch "$epoch" --kubeconfig-out "$work/kubeconfig" "${rbac[@]}" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.05; done
export KUBECONFIG="$work/kubeconfig"
server=$(awk '/server:/ {print $2; exit}' "$KUBECONFIG")
# The embedded cluster's own endpoints, as the admin of the kubeconfig.
python3 - "$KUBECONFIG" "$work" <<'PY'
import base64, sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
c, u = k["clusters"][0]["cluster"], k["users"][0]["user"]
open(sys.argv[2] + "/ca.pem", "wb").write(base64.b64decode(c["certificate-authority-data"]) if "certificate-authority-data" in c else b"")
open(sys.argv[2] + "/admin.token", "w").write(u.get("token", ""))
PY
sim_curl() { if [ -s "$work/ca.pem" ]; then curl --cacert "$work/ca.pem" -H "Authorization: Bearer $(cat "$work/admin.token")" "$@"; else curl "$@"; fi; }
kubectl apply -f "$src/crds/" >/dev/null
check "kubectl create namespace (protobuf body)" kubectl create namespace nonevent-system
kubectl wait --for=condition=Established crd/patchcampaigns.nonevent.dev --timeout=20s >/dev/null
kubectl wait --for=condition=Available deploy --all -n shop --timeout=60s >/dev/null

# nonevent plan: the preflight against the live cluster and against a snapshot, touching nothing.
# The example window, moved to a time ahead of this run (its own date may have passed).
sed -e "s/^  start: .*/  start: \"$(vnow 300)\"/" -e "s/^  end: .*/  end: \"$(vnow 540)\"/" \
  "$src/examples/maintenancewindow.yaml" >"$work/example-window.yaml"
check "plan names the spread trap and the fix, and exits 3 for blockers" bash -c \
  "out=\$('$bin' plan -f '$work/example-window.yaml' --kubeconfig '$KUBECONFIG'); rc=\$?; echo \"\$out\"; \
   [ \$rc = 3 ] && grep -q 'SpreadTrap' <<<\"\$out\" && grep -q 'nodeTaintsPolicy: Honor' <<<\"\$out\" && grep -q 'UnmanagedPod' <<<\"\$out\""
kubectl get nodes,pods,pdb -A -o yaml >"$work/snapshot.yaml"
check "plan -o json from a snapshot lists batches per zone and the projection" bash -c \
  "'$bin' plan -f '$src/examples/patchcampaign.yaml' --snapshot '$work/snapshot.yaml' -o json | \
   python3 -c 'import json,sys; o=json.load(sys.stdin); assert len(o[\"batches\"]) == 11 and o[\"batches\"][0][\"canary\"] and o[\"fitsDeadline\"], o'"
check "plan touched nothing" bash -c "! kubectl get nodes | grep -q SchedulingDisabled"
check "plan of a window that is over says so and exits 3 (issue 23.5)" bash -c \
  "sed -e 's/^  start: .*/  start: \"2020-01-01T02:00:00Z\"/' -e 's/^  end: .*/  end: \"2020-01-01T06:00:00Z\"/' '$src/examples/maintenancewindow.yaml' >'$work/past.yaml'; \
   out=\$('$bin' plan -f '$work/past.yaml' --kubeconfig '$KUBECONFIG'); rc=\$?; echo \"\$out\"; [ \$rc = 3 ] && grep -q 'the window is over' <<<\"\$out\""
check "plan says which flag is missing" contains "--filename is required" bash -c "'$bin' plan --snapshot '$work/snapshot.yaml' 2>&1; [ \$? = 2 ]"

# The fix the preflight names, so the window below can proceed.
check "kubectl patch checkout with nodeTaintsPolicy: Honor (the fix plan names)" fix_spread_trap

operator_kubeconfig="$KUBECONFIG"
operator_args=()
if [ -n "$helm" ]; then
  "$helm" template nonevent "$src/charts/nonevent" -n nonevent-system --set metrics.secure=true >"$work/chart.yaml"
  # The chart's namespaces, accounts and roles, its operator's flags, and a token of its account.
  python3 -c 'import sys,yaml
keep={"Namespace","ServiceAccount","ClusterRole","ClusterRoleBinding","Role","RoleBinding"}
print(yaml.safe_dump_all([d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] in keep]))' "$work/chart.yaml" >"$work/chart-rbac.yaml"
  check "the chart's namespaces, ServiceAccounts and RBAC apply" kubectl apply -f "$work/chart-rbac.yaml"
  mapfile -t operator_args < <(python3 -c 'import sys,yaml
d=[d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"]=="Deployment"][0]
for a in d["spec"]["template"]["spec"]["containers"][0]["args"]:
  if a.startswith(("--patch-job", "--allowed-patch-job", "--allow-", "--kured-daemonset", "--metrics-secure")): print(a)' "$work/chart.yaml")
  token=$(kubectl create token nonevent -n nonevent-system)
  check "kubectl create token issues a token for the chart's ServiceAccount" test -n "$token"
  sed "s|^    token: .*|    token: $token|" "$KUBECONFIG" >"$work/operator.kubeconfig"
  operator_kubeconfig="$work/operator.kubeconfig"
  check "the chart's ServiceAccount may not do what the chart does not grant (403, kube-apiserver's words)" contains \
    'User "system:serviceaccount:nonevent-system:nonevent" cannot create resource "deployments" in API group "apps" in the namespace "shop"' \
    bash -c "kubectl --kubeconfig '$operator_kubeconfig' -n shop create deployment nope --image=nginx 2>&1; true"
fi
mport=$(free_port)
hport=$(free_port)
"$bin" operator --kubeconfig "$operator_kubeconfig" --leader-elect --namespace nonevent-system --metrics-bind-address "127.0.0.1:$mport" \
  --health-probe-bind-address "127.0.0.1:$hport" --time-scale $scale --time-epoch "$epoch" "${operator_args[@]}" >"$work/operator.log" 2>&1 &
pids+=($!)
probes="http://127.0.0.1:$hport"
metrics="http://127.0.0.1:$mport"
# A scraper of /metrics, as a script so checks in `bash -c` can run it.
printf '#!/bin/sh\nexec curl "$@"\n' >"$work/mcurl" && chmod +x "$work/mcurl"
check "/readyz turns 200 once the caches are synced" wait_for 30 curl -sf "$probes/readyz"
check "/healthz answers 200" curl -sf "$probes/healthz"
check "an unknown path is 404" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$probes/nope')\" = 404 ]"
if [[ " ${operator_args[*]} " == *" --metrics-secure "* ]]; then
  metrics="https://127.0.0.1:$mport"
  code() { curl -sk -o /dev/null -w '%{http_code}' "$@"; }
  check "secure metrics: the plain probe port serves no /metrics (404)" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$probes/metrics')\" = 404 ]"
  check "secure metrics: HTTPS without a token is 401" bash -c "[ \"\$(curl -sk -o /dev/null -w '%{http_code}' '$metrics/metrics')\" = 401 ]"
  check "secure metrics: a token RBAC does not allow GET /metrics is 403, naming the user" contains \
    'user "system:serviceaccount:nonevent-system:nonevent" may not get /metrics' \
    curl -sk -H "Authorization: Bearer $token" "$metrics/metrics"
  kubectl create namespace monitoring >/dev/null
  kubectl -n monitoring create serviceaccount prometheus >/dev/null
  check "kubectl create clusterrolebinding to the chart's metrics-reader (as NOTES.txt says)" kubectl create clusterrolebinding \
    prometheus-reads-nonevent --clusterrole=nonevent-metrics-reader --serviceaccount=monitoring:prometheus
  kubectl -n monitoring create token prometheus >"$work/prometheus.token"
  printf '#!/bin/sh\nexec curl -k -H "Authorization: Bearer $(cat %s)" "$@"\n' "$work/prometheus.token" >"$work/mcurl"
  check "secure metrics: the bound account reads them over HTTPS" bash -c "[ \"\$(curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $(cat "$work/prometheus.token")' '$metrics/metrics')\" = 200 ]"
  check "secure metrics: the probes answer on the HTTPS port too, without a token" bash -c "[ \"\$(curl -sk -o /dev/null -w '%{http_code}' '$metrics/healthz')\" = 200 ]"
fi
check "this replica leads (nonevent_leader 1)" wait_for 20 bash -c "$work/mcurl -sf '$metrics/metrics' | grep -qx 'nonevent_leader 1'"

# Prometheus scrapes from before the scenario starts, so every rate() on the dashboard sees
# its counters move.
if command -v prometheus >/dev/null 2>&1 && [ -n "$helm" ]; then
  # The chart's own rules, with behindDeadlineFor 0s so the test need not wait ten minutes.
  "$helm" template nonevent "$src/charts/nonevent" -n nonevent-system --set prometheusRule.enabled=true \
    --set prometheusRule.behindDeadlineFor=0s | python3 "$src/tests/e2e/chart_rules.py" "$work/rules.yaml" >/dev/null
  cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [$work/rules.yaml]
scrape_configs:
- job_name: nonevent
  static_configs: [{targets: ["127.0.0.1:$mport"]}]
EOF
  if [ -s "$work/prometheus.token" ]; then  # as the chart's ServiceMonitor sets it up for secure metrics
    cat >>"$work/prometheus.yml" <<EOF
  scheme: https
  tls_config: {insecure_skip_verify: true}
  authorization: {credentials_file: $work/prometheus.token}
EOF
  fi
  pport=$(free_port)
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$pport" \
    >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  prom="http://127.0.0.1:$pport"
  check "Prometheus is up and scrapes the operator" wait_for 30 bash -c \
    "curl -sf '$prom/api/v1/targets' | python3 -c 'import json,sys; t=json.load(sys.stdin)[\"data\"][\"activeTargets\"]; sys.exit(0 if t and t[0][\"health\"]==\"up\" else 1)'"
fi

# The scenario: a window on us-east-1c, a campaign that cannot meet its deadline on the
# general pool, and a Replace campaign for the infra pool (new nodes come with the new image).
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: nonevent-sim-provisioner, namespace: kube-system}
data: {imageVersion: bash-4.3-25}
---
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: use1c}
spec: {zones: [us-east-1c], start: "$(vnow 30)", end: "$(vnow 45)", evacuateBefore: 25m}
---
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: late}
spec:
  target: {version: bash-4.3-25}
  nodeSelector: {matchLabels: {nonevent.dev/pool: general}}
  zones: [us-east-1a, us-east-1b]
  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}
  inPlace:
    jobTemplate:
      metadata: {annotations: {sim.nonevent.dev/run-seconds: "300"}}
      spec: {containers: [{name: patch, image: registry.example.com/node-patcher:1}]}
  deadline: 20m
  drain: {evictUnmanagedPods: true, deleteEmptyDirData: true}
---
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: infra}
spec:
  target: {version: bash-4.3-25}
  nodeSelector: {matchLabels: {nonevent.dev/pool: infra}}
  strategy: {type: Replace, maxUnavailable: 1, canary: {nodes: 0}}
  deadline: 2h
EOF

if command -v promtool >/dev/null 2>&1; then
  check "the live /metrics passes promtool check metrics" bash -c "$work/mcurl -sf '$metrics/metrics' | promtool check metrics"
  check "metrics about the campaigns are served" contains 'nonevent_campaign_phase{campaign="late",phase="Progressing"}' \
    bash -c "sleep 3; $work/mcurl -sf '$metrics/metrics'"
else
  echo "SKIP: promtool not found (Debian package prometheus, installed by hack/install-deps.sh)"
fi

if [ -n "${prom:-}" ]; then
  firing() {
    curl -sf "$prom/api/v1/alerts" | python3 -c '
import json, sys
alerts = json.load(sys.stdin)["data"]["alerts"]
sys.exit(0 if any(a["labels"]["alertname"] == "NoneventCampaignBehindDeadline" and a["labels"].get("campaign") == "late"
                  and a["state"] == "firing" for a in alerts) else 1)'
  }
  check "the campaign falls behind its deadline (status condition)" wait_for 90 bash -c \
    "[ \"\$(kubectl get pcamp late -o jsonpath='{.status.conditions[?(@.type==\"BehindDeadline\")].status}')\" = True ]"
  check "NoneventCampaignBehindDeadline is firing in Prometheus" wait_for 60 firing
  check "NoneventOperatorDown stays quiet while a replica leads" bash -c \
    "curl -sf '$prom/api/v1/alerts' | python3 -c 'import json,sys; a=json.load(sys.stdin)[\"data\"][\"alerts\"]; sys.exit(any(x[\"labels\"][\"alertname\"]==\"NoneventOperatorDown\" for x in a))'"
else
  echo "SKIP: prometheus or helm not found (hack/install-deps.sh and hack/install-tools.sh install them)"
fi

check "the window evacuates its zone" wait_for 90 bash -c \
  "p=\$(kubectl get mw use1c -o jsonpath='{.status.phase}'); [ \"\$p\" = Evacuated ] || [ \"\$p\" = InProgress ]"
check "the Replace campaign replaces the infra nodes" wait_for 120 bash -c \
  "[ \"\$(kubectl get pcamp infra -o jsonpath='{.status.phase}')\" = Completed ]"
# Issue 23.9: an SRE can follow the drain from the log alone.
check "the log says each cordon, with the claim (an Event line)" grep -q 'level=info logger=event msg="cordoned for MaintenanceWindow/use1c"' "$work/operator.log"
check "the log says each eviction, naming the pod and node" grep -qE 'level=info logger=drain msg=evicted node=[^ ]+ pod=[^ ]+/' "$work/operator.log"
check "the log says each phase change of the window" grep -qE 'logger=maintenancewindow msg=phase window=use1c from=[A-Za-z-]+ to=(Evacuating|Evacuated)' "$work/operator.log"
check "the log says when the caches synced" grep -q 'msg="caches synced; starting the controllers"' "$work/operator.log"
check "kubectl get mw: Start is a time, not 0s, and Summary says what it does (issue 23.10)" bash -c \
  "out=\$(kubectl get mw use1c); echo \"\$out\"; grep -qE 'use1c +[A-Za-z]+ .*20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]+Z +(evacuating|us-east-1c empty|holding)' <<<\"\$out\""
check "eviction metrics count successes" bash -c \
  "$work/mcurl -sf '$metrics/metrics' | grep -E '^nonevent_evictions_total\{controller=\"maintenancewindow\",result=\"success\"\} [1-9]'"
if [ -n "${prom:-}" ]; then
  # Issue 29.2: every panel of the chart's Grafana dashboard, as the chart renders it, answers
  # with data from the real Prometheus that scraped this run.
  "$helm" template nonevent "$src/charts/nonevent" -n nonevent-system --set grafanaDashboard.enabled=true \
    -s templates/grafana-dashboard.yaml | python3 -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["data"]["nonevent.json"])' \
    >"$work/dashboard.json"
  check "the chart's dashboard ConfigMap carries the Grafana sidecar's label" bash -c \
    "'$helm' template nonevent '$src/charts/nonevent' --set grafanaDashboard.enabled=true -s templates/grafana-dashboard.yaml | grep -q 'grafana_dashboard: \"1\"'"
  check "every dashboard panel's query returns data from Prometheus" python3 "$src/tests/e2e/dashboard_queries.py" "$work/dashboard.json" "$prom" 5m
fi

if [ -n "$helm" ]; then
  sim_curl -sf "$server/sim/v1/requests" >"$work/requests.json"
  check "the cluster refused none of the operator's requests (RBAC enforced, 401/403)" python3 -c 'import json,sys
bad=[r for r in json.load(open(sys.argv[1]))["items"] if r["userAgent"].startswith("nonevent/") and r["code"] in (401,403)]
print("\n".join(str(r) for r in bad)); sys.exit(1 if bad else 0)' "$work/requests.json"
  check "the chart's RBAC allows every request the operator made, and grants nothing it did not use" \
    python3 "$src/tests/e2e/rbac_check.py" "$work/chart.yaml" "$work/requests.json" nonevent-system "nonevent/"
else
  echo "SKIP: no helm for the RBAC comparison"
fi
grep -q 'level=error' "$work/operator.log" && { echo "operator errors (not failures by themselves):"; grep 'level=error' "$work/operator.log" | sort | uniq -c | head -5; }
summary
