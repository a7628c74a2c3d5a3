#!/usr/bin/env bash
# The real `kubectl drain`, node by node over a zone, against the operator evacuating the same
# zone for a MaintenanceWindow — each on a fresh `nonevent sim serve` of examples/ in real time
# (--time-scale 1), so both see the same cluster, the same PDBs and the same pod timings.
#
# usage: bench/kubectl_drain_vs_operator.sh [path/to/nonevent] [kubectl]
# Prints `<metric> <value> <unit>` lines: kubectl_drain_wall_s, operator_wall_s and their ratio.
# Both first apply the fix `nonevent plan` names for the spread trap in examples/ (checkout's
# nodeTaintsPolicy: Honor); without it kubectl drain waits forever on checkout's PDB.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/release/operator/nonevent}")
kubectl=${2:-kubectl}
zone=us-east-1a
source hack/lib/background.sh

start_cluster() {  # a fresh embedded cluster, settled, with the spread-trap fix applied
  "$bin" sim serve --cluster examples/cluster.yaml --manifests examples/workloads --kubeconfig-out "$work/kubeconfig" \
    >"$work/sim.log" 2>&1 &
  sim_pid=$!
  pids+=("$sim_pid")
  for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.1; done
  export KUBECONFIG=$work/kubeconfig
  "$kubectl" apply -f crds/ >/dev/null
  "$kubectl" wait --for=condition=Established crd/maintenancewindows.nonevent.dev --timeout=20s >/dev/null
  "$kubectl" -n shop patch deploy checkout --type json \
    -p '[{"op":"add","path":"/spec/template/spec/topologySpreadConstraints/0/nodeTaintsPolicy","value":"Honor"}]' >/dev/null
  "$kubectl" wait --for=condition=Available deploy --all -A --timeout=120s >/dev/null
  sleep 10  # the rollout's old pods gone, every PDB settled
}
stop_cluster() {
  kill "$sim_pid"
  wait "$sim_pid" 2>/dev/null || true
}

# 1. kubectl drain, as a person would: the zone cordoned, then node by node.
start_cluster
nodes=$("$kubectl" get nodes -l topology.kubernetes.io/zone=$zone -o name)
t0=$(date +%s.%N)
"$kubectl" cordon -l topology.kubernetes.io/zone=$zone >/dev/null
for n in $nodes; do
  "$kubectl" drain "$n" --ignore-daemonsets --delete-emptydir-data --force --timeout=600s >"$work/drain.log" 2>&1 ||
    { cat "$work/drain.log"; exit 1; }
done
t1=$(date +%s.%N)
stop_cluster

# 2. The operator, for a window whose evacuation starts now.
start_cluster
"$bin" operator --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 >"$work/operator.log" 2>&1 &
pids+=($!)
start=$(date -u -d '+30 minutes' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '+90 minutes' +%Y-%m-%dT%H:%M:%SZ)
t2=$(date +%s.%N)
cat <<YAML | "$kubectl" apply -f - >/dev/null
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: bench}
spec: {zones: [$zone], start: "$start", end: "$end", evacuateBefore: 30m, drain: {evictUnmanagedPods: true, deleteEmptyDirData: true}}
YAML
for _ in $(seq 1 1200); do
  [[ "$("$kubectl" get mw bench -o jsonpath='{.status.phase}')" == Evacuated ]] && break
  sleep 0.25
done
t3=$(date +%s.%N)
[[ "$("$kubectl" get mw bench -o jsonpath='{.status.phase}')" == Evacuated ]] || { "$kubectl" get mw bench -o yaml; exit 1; }
stop_cluster

python3 - "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:])
print("kubectl_drain_wall_s %.1f s" % (t1 - t0))
print("operator_wall_s %.1f s" % (t3 - t2))
print("kubectl_drain_over_operator %.2f ratio" % ((t1 - t0) / (t3 - t2)))
PY
