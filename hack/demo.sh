#!/usr/bin/env bash
# The README's first command: a zone maintenance rehearsed on the embedded cluster.
#
# Starts `nonevent sim serve` with examples/ (three zones, shop and data workloads, a
# DaemonSet, a bare pod) at 60x real time, installs the CRDs, starts `nonevent operator`
# on the same clock, and applies a MaintenanceWindow for us-east-1a that opens 40 (virtual)
# minutes later with a 30-minute evacuateBefore, first rehearsed (`nonevent rehearse` on a
# snapshot of the cluster: the same window on virtual time in seconds, its timeline and
# report) and then done for real; at the end the two are compared. It shows the zone cordoned and drained
# ahead of time, held during the window and restored after, with each workload's Ready
# replicas per zone before, during and after. Ends by itself in about two minutes and leaves
# no process behind.
#
# `hack/demo.sh campaign` rehearses the other half: a PatchCampaign rolls a patched image
# across the same cluster zone by zone (canary, then a node per zone at a time), with the
# nodes' versions per zone as it goes.
set -euo pipefail
mode="${1:-window}"
[[ "$mode" == window || "$mode" == campaign ]] || { echo "usage: hack/demo.sh [window|campaign]" >&2; exit 2; }
cd "$(dirname "$0")/.."
root=$PWD
hack/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target nonevent >/dev/null
bin=$root/build/release/operator/nonevent
source hack/lib/background.sh

scale=60
epoch=$(date +%s)
vnow() { python3 -c "import time,datetime; e=$epoch; t=e+(time.time()-e)*$scale; print(datetime.datetime.fromtimestamp(t+$1*60, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting the embedded cluster (3 zones, 11 nodes) at ${scale}x real time"
"$bin" sim serve --cluster examples/cluster.yaml --manifests examples/workloads --time-scale $scale --time-epoch "$epoch" \
  --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.1; done
head -1 "$work/sim.log"
export KUBECONFIG=$work/kubeconfig
kubectl apply -f crds/ >/dev/null
kubectl wait --for=condition=Established crd/maintenancewindows.nonevent.dev --timeout=20s >/dev/null
kubectl wait --for=condition=Available deploy --all -n shop --timeout=60s >/dev/null

spread_table() {  # Ready replicas of each workload per zone
  kubectl get nodes,pods -A -o json | python3 -c '
import json, sys, collections
items = json.load(sys.stdin)["items"]
zone = {i["metadata"]["name"]: i["metadata"]["labels"].get("topology.kubernetes.io/zone", "?") for i in items if i["kind"] == "Node"}
zones = sorted(set(zone.values()))
counts = collections.defaultdict(collections.Counter)
for p in items:
    if p["kind"] != "Pod" or p["metadata"].get("deletionTimestamp"): continue
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    refs = p["metadata"].get("ownerReferences", [])
    kind = refs[0]["kind"] if refs else "Pod"
    if kind == "DaemonSet" or not ready: continue
    name = p["metadata"]["labels"].get("app", p["metadata"]["name"])
    counts[p["metadata"]["namespace"] + "/" + name][zone.get(p["spec"].get("nodeName"), "?")] += 1
print("  %-22s" % "WORKLOAD" + "".join("%12s" % z for z in zones))
for w in sorted(counts):
    print("  %-22s" % w + "".join("%12d" % counts[w][z] for z in zones))
'
}

say "Before: Ready replicas per zone"
spread_table

say "Starting the operator (leader election on, same clock)"
"$bin" operator --leader-elect --metrics-bind-address 127.0.0.1:0 --time-scale $scale --time-epoch "$epoch" >"$work/operator.log" 2>&1 &
pids+=($!)

if [[ "$mode" == campaign ]]; then
  versions_table() {  # nodes per zone by reported image version, and what the operator is doing
    kubectl get nodes -o json | python3 -c '
import json, sys, collections
rows = collections.defaultdict(collections.Counter)
for n in json.load(sys.stdin)["items"]:
    l, a = n["metadata"]["labels"], n["metadata"].get("annotations", {})
    state = a.get("nonevent.dev/state", "")
    rows[l.get("topology.kubernetes.io/zone", "?")][l.get("nonevent.dev/image-version", "?") + (" (" + state + ")" if state else "")] += 1
for z in sorted(rows):
    print("  %-12s %s" % (z, ", ".join("%d x %s" % (k, v) for v, k in sorted(rows[z].items()))))'
  }
  cat >"$work/campaign.yaml" <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: cve-2014-6271}
spec:
  target: {version: bash-4.3-25}
  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 1, soak: 5m}}
  inPlace:
    jobTemplate:
      metadata: {annotations: {sim.nonevent.dev/run-seconds: "120"}}
      spec:
        containers: [{name: patch, image: registry.example.com/ops/node-patcher:2024.9, args: [--package, bash=4.3-25, --reboot]}]
  drain: {evictUnmanagedPods: true}
  deadline: 12h
YAML
  say "Preflight: nonevent plan -f campaign.yaml"
  "$bin" plan -f "$work/campaign.yaml" --kubeconfig "$KUBECONFIG" --batch-duration 4m || true
  say "Before: nodes per zone by image version"
  versions_table
  say "Applying the PatchCampaign (InPlace: a Job patches each drained node, which reboots)"
  kubectl apply -f "$work/campaign.yaml"
  last=""
  deadline=$((SECONDS + 200))
  while ((SECONDS < deadline)); do
    line=$(kubectl get pcamp cve-2014-6271 -o jsonpath='{.status.phase} updated={.status.nodes.updated}/{.status.nodes.total} zone={.status.currentZone} batch={.status.currentBatch} eta={.status.estimatedCompletion}' 2>/dev/null || true)
    if [[ "$line" != "$last" ]]; then
      printf '  [virtual %s] %s\n' "$(vnow 0)" "$line"
      last=$line
    fi
    [[ "${line%% *}" == "Completed" ]] && break
    sleep 1
  done
  say "After: every node reports the patched version"
  kubectl get pcamp
  versions_table
  spread_table
  say "Events the operator recorded"
  kubectl get events -A --field-selector involvedObject.kind=PatchCampaign 2>/dev/null | tail -8 || true
  exit 0
fi

say "Preflight: nonevent plan -f window.yaml (touches nothing)"
cat >"$work/plan-window.yaml" <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: aws-reboot-use1a}
spec: {zones: [us-east-1a], start: "$(vnow 40)", end: "$(vnow 70)", evacuateBefore: 30m, drain: {evictUnmanagedPods: true}}
YAML
"$bin" plan -f "$work/plan-window.yaml" --kubeconfig "$KUBECONFIG" || true
say "Applying the fix the plan names: checkout's spread constraint gets nodeTaintsPolicy: Honor"
kubectl -n shop patch deploy checkout --type json \
  -p '[{"op":"add","path":"/spec/template/spec/topologySpreadConstraints/0/nodeTaintsPolicy","value":"Honor"}]'
kubectl -n shop rollout status deploy/checkout --timeout=60s >/dev/null || true

start=$(vnow 40)
end=$(vnow 70)
cat >"$work/window.yaml" <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: aws-reboot-use1a}
spec:
  zones: [us-east-1a]
  start: "$start"
  end: "$end"
  evacuateBefore: 30m
  drain: {evictUnmanagedPods: true}
YAML
say "Rehearsal first: nonevent rehearse -f window.yaml on a snapshot of the cluster (virtual time, a few seconds)"
kubectl get nodes,pods,pdb,deployments,replicasets,statefulsets,daemonsets -A -o yaml >"$work/snapshot.yaml"
rehearsal_rc=0
"$bin" rehearse -f "$work/window.yaml" --snapshot "$work/snapshot.yaml" --report "$work/rehearsal.html" | sed -n '/^TIMELINE/,$p' || rehearsal_rc=$?
"$bin" rehearse -f "$work/window.yaml" --snapshot "$work/snapshot.yaml" -o json >"$work/rehearsal.json" 2>/dev/null || true
echo "  (exit $rehearsal_rc; the report with a chart per workload: $work/rehearsal.html, removed at the end)"

say "Now for real: a MaintenanceWindow for us-east-1a, $start to $end (virtual), evacuateBefore 30m"
cat "$work/window.yaml"
kubectl apply -f "$work/window.yaml"

last=""
shown_during=false
deadline=$((SECONDS + 150))
while ((SECONDS < deadline)); do
  line=$(kubectl get mw aws-reboot-use1a -o jsonpath='{.status.phase} drained={.status.nodes.drained}/{.status.nodes.total} evicted={.status.pods.evicted} blocked={.status.pods.blocked}' 2>/dev/null || true)
  phase=${line%% *}
  if [[ "$line" != "$last" ]]; then
    printf '  [virtual %s] %s\n' "$(vnow 0)" "$line"
    last=$line
  fi
  if [[ ("$phase" == "Evacuated" || "$phase" == "InProgress") && -z "${evacuated_at:-}" ]]; then
    evacuated_at=$(kubectl get mw aws-reboot-use1a -o jsonpath='{.status.conditions[?(@.type=="Evacuated")].lastTransitionTime}')
  fi
  if [[ "$phase" == "InProgress" && $shown_during == false ]]; then
    say "During the window: zone us-east-1a is empty and cordoned"
    kubectl get nodes -l topology.kubernetes.io/zone=us-east-1a
    spread_table
    shown_during=true
  fi
  [[ "$phase" == "Completed" ]] && break
  sleep 1
done

say "After: the window is over; nodes restored and displaced replicas rebalanced back into the zone"
kubectl get mw
kubectl get nodes -l topology.kubernetes.io/zone=us-east-1a
spread_table
say "Events the operator recorded"
kubectl get events -A --field-selector source=nonevent-operator 2>/dev/null | head -15 || true
say "Rehearsal against the real run: evacuation (cordon to Evacuated) and the lowest Ready of each workload"
python3 -c '
import json, sys, datetime
rehearsed = json.load(open(sys.argv[1]))
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
phases = {p["phase"].split(" ")[0]: p["at"] for p in rehearsed["phases"]}
print("  rehearsed: zone empty %4.0f s after evacuation began" % (phases.get("Evacuated", 0) - phases.get("Evacuating", 0)))
if sys.argv[2]:
    began = t(sys.argv[3]) - datetime.timedelta(minutes=30)
    print("  real:      zone empty %4.0f s after evacuation began (at 60x, the operator and the cluster share a real clock)" % (t(sys.argv[2]) - began).total_seconds())
for w in rehearsed["workloads"]:
    if len(w["series"]) > 1: print("  rehearsed: %-28s lowest Ready %d of %d" % (w["workload"], w["minReady"], w["readyAtStart"]))
' "$work/rehearsal.json" "${evacuated_at:-}" "$start" || true
