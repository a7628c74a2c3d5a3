#!/usr/bin/env bash
# Health gates against a real Prometheus (issue 26): the built operator and embedded cluster
# (60x time), Debian's Prometheus scraping a small exporter on loopback whose error ratio the
# test sets, and an alerting rule on it. A PatchCampaign gated on the ratio (a query with max)
# and on critical alerts (firingAlerts):
#  - rolls while the ratio is low; when it climbs, no new batch starts and after
#    failureThreshold evaluations it pauses, the value and the firing alert in its status;
#  - stays paused when the ratio recovers until `nonevent resume`, then rolls on;
#  - with Prometheus stopped the gate fails closed (paused, "did not answer"), and with it back
#    and a resume the campaign completes.
#
# usage: health_gates_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
if ! command -v prometheus >/dev/null 2>&1; then
  echo "SKIP: prometheus not found (Debian package prometheus, installed by hack/install-deps.sh)"
  exit 0
fi
work=$(mktemp -d)
pids=()
trap end_test EXIT
scale=60
epoch=$(date +%s)

# The exporter: shop's error ratio, whatever $work/ratio says.
echo 0.001 >"$work/ratio"
eport=$(free_port)
cat >"$work/exporter.py" <<'PY'
import http.server, sys
port, path = int(sys.argv[1]), sys.argv[2]
class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("# TYPE shop_http_error_ratio gauge\nshop_http_error_ratio{service=\"shop\"} %s\n" % open(path).read().strip()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Metrics).serve_forever()
PY
python3 "$work/exporter.py" "$eport" "$work/ratio" >"$work/exporter.log" 2>&1 &
pids+=($!)
cat >"$work/rules.yaml" <<YAML
groups:
- name: shop
  rules:
  - alert: ShopErrorsHigh
    expr: shop_http_error_ratio > 0.01
    labels: {severity: critical}
YAML
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [$work/rules.yaml]
scrape_configs:
- job_name: shop
  static_configs: [{targets: ["127.0.0.1:$eport"]}]
YAML
pport=$(free_port)
start_prometheus() {
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$pport" \
    >>"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  pids+=($prom_pid)
}
start_prometheus
prom="http://127.0.0.1:$pport"
check "Prometheus scrapes the exporter" wait_for 30 bash -c \
  "curl -sf '$prom/api/v1/query?query=shop_http_error_ratio' | grep -q '\"0.001\"'"

"$bin" sim serve --cluster "$src/examples/cluster.yaml" --manifests "$src/examples/workloads" --time-scale $scale \
  --time-epoch "$epoch" --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.05; done
export KUBECONFIG="$work/kubeconfig"
kubectl apply -f "$src/crds/" >/dev/null
kubectl create namespace nonevent-system >/dev/null
kubectl wait --for=condition=Established crd/patchcampaigns.nonevent.dev --timeout=20s >/dev/null
kubectl wait --for=condition=Available deploy --all -n shop --timeout=60s >/dev/null

mport=$(free_port)
"$bin" operator --namespace nonevent-system --metrics-bind-address "127.0.0.1:$mport" --prometheus-url "$prom" --prometheus-timeout 2s \
  --time-scale $scale --time-epoch "$epoch" >"$work/operator.log" 2>&1 &
pids+=($!)

cat >"$work/campaign.yaml" <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: gated}
spec:
  target: {version: bash-4.3-25}
  nodeSelector: {matchLabels: {nonevent.dev/pool: general}}
  zones: [us-east-1a, us-east-1b]
  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}
  inPlace:
    jobTemplate:
      metadata: {annotations: {sim.nonevent.dev/run-seconds: "120"}}
      spec: {containers: [{name: patch, image: registry.example.com/node-patcher:1}]}
  deadline: 12h
  drain: {evictUnmanagedPods: true, deleteEmptyDirData: true}
  healthChecks:
    interval: 30s
    failureThreshold: 3
    checks:
    - name: error-rate
      prometheus: {query: 'max(shop_http_error_ratio)', max: 0.01}
    - name: no-critical-alerts
      prometheus: {firingAlerts: {severity: critical}}
YAML
check "kubectl apply the gated campaign" kubectl apply -f "$work/campaign.yaml"
jp() { kubectl get pcamp gated -o jsonpath="$1"; }
updated() { jp '{.status.nodes.updated}'; }

check "the campaign rolls while the checks pass (a node patched)" wait_for 60 bash -c "[ \"\$(kubectl get pcamp gated -o jsonpath='{.status.nodes.updated}')\" -ge 1 ]"
check "HealthChecksPassing=True with the checks' observed values" contains '"observed":"0.001"' \
  bash -c "kubectl get pcamp gated -o jsonpath='{.status.conditions[?(@.type==\"HealthChecksPassing\")].status} {.status.health.checks}' | grep '^True '"

# Errors climb.
echo 0.5 >"$work/ratio"
check "the campaign pauses after three failing evaluations" wait_for 30 bash -c "[ \"\$(kubectl get pcamp gated -o jsonpath='{.status.phase}')\" = Paused ]"
check "its Paused condition names the check, the query and the observed value" contains \
  "health check error-rate failing (max(shop_http_error_ratio)): outside max 0.01: 0.5" \
  jp '{.status.conditions[?(@.type=="Paused")].message}'
check "the reason is HealthCheckFailed and spec.paused was set" bash -c \
  "[ \"\$(kubectl get pcamp gated -o jsonpath='{.status.conditions[?(@.type==\"Paused\")].reason} {.spec.paused}')\" = 'HealthCheckFailed true' ]"
check "/metrics says the gate fails: nonevent_campaign_health_checks_passing 0, three failures in a row" bash -c \
  "m=\$(curl -sf http://127.0.0.1:$mport/metrics) && grep -qx 'nonevent_campaign_health_checks_passing{campaign=\"gated\"} 0' <<<\"\$m\" && grep -qE '^nonevent_campaign_health_consecutive_failures\\{campaign=\"gated\"\\} ([3-9]|[1-9][0-9]+)\$' <<<\"\$m\""
check "the firing alert shows in the checks (firingAlerts against /api/v1/alerts)" wait_for 20 bash -c \
  "kubectl get pcamp gated -o jsonpath='{.status.health.checks}' | grep -q 'ShopErrorsHigh'"
check "Events say HealthCheckFailing and CampaignPaused" bash -c \
  "kubectl get events -o jsonpath='{range .items[*]}{.reason}{\"\\n\"}{end}' | sort -u | grep -c -E '^(HealthCheckFailing|CampaignPaused)$' | grep -qx 2"
check "the batch in flight finishes and no node stays claimed" wait_for 30 bash -c \
  "[ \"\$(kubectl get nodes -o yaml | grep -c 'claimed-by: PatchCampaign/gated')\" = 0 ]"
held=$(updated)
echo 0.001 >"$work/ratio"
sleep 5  # 5 virtual minutes, ten evaluation intervals
check "healthy again, it stays paused until a person resumes (and patched nothing meanwhile)" bash -c \
  "[ \"\$(kubectl get pcamp gated -o jsonpath='{.status.phase} {.status.nodes.updated}')\" = 'Paused $held' ]"
check "nonevent resume" contains "resumed" "$bin" resume gated --kubeconfig "$KUBECONFIG"
check "resumed, it patches again" wait_for 60 bash -c "[ \"\$(kubectl get pcamp gated -o jsonpath='{.status.nodes.updated}')\" -gt $held ]"

# Prometheus stops: nothing answers, so nothing passes.
kill "$prom_pid"
wait "$prom_pid" 2>/dev/null
check "with Prometheus stopped the gate fails closed and pauses the campaign" wait_for 60 bash -c \
  "kubectl get pcamp gated -o jsonpath='{.status.phase} {.status.conditions[?(@.type==\"HealthChecksPassing\")].reason}' | grep -qx 'Paused HealthCheckUnavailable'"
check "it says Prometheus did not answer" contains "Prometheus at $prom did not answer" jp '{.status.health.message}'
start_prometheus
check "Prometheus is back" wait_for 30 bash -c "curl -sf '$prom/api/v1/query?query=shop_http_error_ratio' | grep -q '\"0.001\"'"
check "nonevent resume" contains "resumed" "$bin" resume gated --kubeconfig "$KUBECONFIG"
check "the campaign completes with every node patched" wait_for 120 bash -c \
  "[ \"\$(kubectl get pcamp gated -o jsonpath='{.status.phase} {.status.nodes.updated}/{.status.nodes.total}')\" = 'Completed 6/6' ]"
check "/metrics says the gate passes again" bash -c \
  "curl -sf http://127.0.0.1:$mport/metrics | grep -qx 'nonevent_campaign_health_checks_passing{campaign=\"gated\"} 1'"
check "the operator logged every failing evaluation at warn" bash -c \
  "[ \$(grep -c 'level=warn.*health check failing: no new batch' '$work/operator.log') -ge 6 ]"
summary
