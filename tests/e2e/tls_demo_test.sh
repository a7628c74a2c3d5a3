#!/usr/bin/env bash
# The demo's window over TLS (issue 27.4): `sim serve --tls` requires its bearer token of every
# client, its own simulated controllers included (they were refused and did nothing: no
# ReplicaSets, pods Pending). kubectl and the operator use the kubeconfig it writes (CA + token);
# the window evacuates its zone, holds it, restores it and completes.
#
# usage: tls_demo_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
work=$(mktemp -d)
pids=()
trap end_test EXIT
kubectl="$src/.tools/kubectl-1.35/kubectl"
[ -x "$kubectl" ] || kubectl=kubectl
scale=60
epoch=$(date +%s)

"$bin" sim serve --tls --cluster "$src/examples/cluster.yaml" --manifests "$src/examples/workloads" --time-scale $scale \
  --time-epoch "$epoch" --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.05; done
export KUBECONFIG="$work/kubeconfig"
k() { "$kubectl" "$@"; }
check "the server speaks https" grep -q "listening on https://" "$work/sim.log"
check "a client without the token is refused (401)" bash -c \
  "code=\$(curl -sk -o /dev/null -w '%{http_code}' \$(awk '/server:/ {print \$2; exit}' '$KUBECONFIG')/api/v1/nodes); [ \"\$code\" = 401 ]"
check "the simulated controllers work under TLS: every Deployment Available" \
  wait_for 60 "$kubectl" wait --for=condition=Available deploy --all -n shop --timeout=5s
k apply -f "$src/crds/" >/dev/null
k wait --for=condition=Established crd/maintenancewindows.nonevent.dev --timeout=20s >/dev/null
fix_spread_trap >/dev/null

"$bin" operator --metrics-bind-address 127.0.0.1:0 --time-scale $scale --time-epoch "$epoch" >"$work/operator.log" 2>&1 &
pids+=($!)
demo_window_runs tls-demo
[ "$fail" -eq 0 ] || { echo "--- operator log (tail)"; tail -20 "$work/operator.log"; }
summary
