#!/usr/bin/env bash
# `nonevent rehearse` (issue 30) on snapshots of the examples' cluster taken with kubectl:
#  - the spread trap: exit 3 naming checkout's Pending replacement, its workload and the
#    scheduler's reason; with the fix applied (and a fresh snapshot) exit 0, and the JSON and
#    the HTML report show web's zones going 2/2/2 -> 0/3/3 -> 2/2/2;
#  - the same input and seed give byte-identical JSON;
#  - a snapshot of nodes and pods only: warnings for the missing owners and PDBs;
#  - a campaign that cannot meet its deadline: exit 3 with the projected end; one whose drain
#    waits on a bare pod: exit 3 naming the pod;
#  - --kubeconfig reads the live cluster and changes nothing in it;
#  - bad input: exit 1 or 2 naming what is wrong.
#
# usage: rehearse_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
work=$(mktemp -d)
pids=()
trap end_test EXIT
start_sim live --manifests "$src/examples/workloads"
export KUBECONFIG="$work/live.kubeconfig"
kubectl wait --for=condition=Available deploy --all -n shop --timeout=60s >/dev/null
sleep 2  # the last pods Ready
kinds=nodes,pods,pdb,deployments,replicasets,statefulsets,daemonsets
kubectl get $kinds -A -o yaml >"$work/trap.yaml"
kubectl get nodes,pods -A -o yaml >"$work/thin.yaml"
at() { date -u -d "+$1 min" +%Y-%m-%dT%H:%M:%SZ; }
cat >"$work/window.yaml" <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: use1a}
spec:
  zones: [us-east-1a]
  start: "$(at 60)"
  end: "$(at 120)"
  evacuateBefore: 30m
  safety: {requireCapacity: false}
  drain: {evictUnmanagedPods: true}
YAML
rehearse() { "$bin" rehearse "$@" 2>"$work/stderr"; }

check "the spread trap: exit 3" bash -c "'$bin' rehearse -f '$work/window.yaml' --snapshot '$work/trap.yaml' >'$work/trap.out' 2>&1; [ \$? = 3 ]"
check "it names checkout's Pending replacement, its workload and the scheduler's reason" bash -c \
  "grep -E 'pod shop/checkout-[a-z0-9-]+ Pending from \+[0-9]+m[0-9]+s to \+[0-9]+m[0-9]+s \(shop/Deployment/checkout: 0/11 nodes are available: .*topology spread' '$work/trap.out'"
check "the table has the timeline: cordoned, empty, Pending, completed" bash -c \
  "grep -q 'zone us-east-1a: every node cordoned' '$work/trap.out' && grep -q 'zone us-east-1a: empty' '$work/trap.out' && grep -q 'Completed' '$work/trap.out'"
check "the bare pod is named as gone for good (a warning, not a failure)" grep -q 'pod default/debug-shell has no owner: once evicted it is gone for good' "$work/trap.out"
check "timings inferred per workload, the rest defaulted" bash -c \
  "grep -q 'shop/Deployment/web .*inferred from 6 pod' '$work/trap.out' && grep -q 'pod termination: .*(defaulted)' '$work/trap.out'"

# The fix plan names, then a fresh snapshot.
check "the fix: nodeTaintsPolicy Honor, rolled out" bash -c "$(declare -f fix_spread_trap); fix_spread_trap && kubectl -n shop rollout status deploy/checkout --timeout=60s"
sleep 2
kubectl get $kinds -A -o yaml >"$work/fixed.yaml"
check "with the fix: exit 0" bash -c "'$bin' rehearse -f '$work/window.yaml' --snapshot '$work/fixed.yaml' -o json --report '$work/report.html' >'$work/fixed.json' 2>'$work/stderr'"
check "the JSON: web goes 2/2/2 -> 0/3/3 -> 2/2/2, never below 5 Ready, no problem" python3 - "$work/fixed.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["problems"] == [], t["problems"]
web = [w for w in t["workloads"] if w["workload"] == "shop/Deployment/web"][0]
seq = [tuple(p["ready"][z] for z in ("us-east-1a", "us-east-1b", "us-east-1c")) for p in web["series"]]
assert seq[0] == (2, 2, 2), seq
assert (0, 3, 3) in seq, seq
assert seq[-1] == (2, 2, 2), seq
assert seq.index((0, 3, 3)) > 0
assert web["minReady"] >= 5, web
assert t["phase"] == "Completed" and t["pending"] == [], t
PY
check "the HTML report is one self-contained file with web's chart" bash -c \
  "grep -q '<svg' '$work/report.html' && grep -q 'shop/Deployment/web' '$work/report.html' && ! grep -qiE '<script|https?://' '$work/report.html'"
check "the same input and seed: byte-identical JSON" bash -c \
  "'$bin' rehearse -f '$work/window.yaml' --snapshot '$work/fixed.yaml' -o json 2>/dev/null | cmp - '$work/fixed.json'"
check "...and once more" bash -c "'$bin' rehearse -f '$work/window.yaml' --snapshot '$work/fixed.yaml' -o json 2>/dev/null | cmp - '$work/fixed.json'"

check "a thin snapshot (nodes and pods only) warns of each missing owner and of no PDB" bash -c \
  "'$bin' rehearse -f '$work/window.yaml' --snapshot '$work/thin.yaml' >'$work/thin.out' 2>&1; \
   grep -q 'pod(s) of ReplicaSet shop/web-[a-z0-9]*, which is not in the snapshot: an evicted one is not replaced' '$work/thin.out' && \
   grep -q 'no PodDisruptionBudget in the snapshot' '$work/thin.out'"

# Campaigns.
sed 's/deadline: 12h/deadline: 20m/' "$src/examples/patchcampaign.yaml" >"$work/late.yaml"
check "a campaign that waits on a bare pod: exit 3 naming the pod and the policy" bash -c \
  "'$bin' rehearse -f '$src/examples/patchcampaign.yaml' --snapshot '$work/fixed.yaml' >'$work/campaign.out' 2>&1; [ \$? = 3 ] && \
   grep -q 'waiting on Pod default/debug-shell (UnmanagedPod' '$work/campaign.out'"
check "a campaign that cannot meet its deadline: exit 3 with the projected end" bash -c \
  "'$bin' rehearse -f '$work/late.yaml' --snapshot '$work/fixed.yaml' >'$work/late.out' 2>&1; [ \$? = 3 ] && \
   grep -qE 'projected to finish at [0-9T:-]+Z, after its deadline' '$work/late.out'"

# The live cluster, read-only.
before=$(kubectl get nodes,pods -A -o jsonpath='{range .items[*]}{.metadata.name}{.metadata.resourceVersion}{"\n"}{end}' | md5sum)
check "--kubeconfig rehearses the live cluster (exit 0 with the fix)" bash -c "'$bin' rehearse -f '$work/window.yaml' --kubeconfig '$KUBECONFIG' >'$work/live.out' 2>&1"
after=$(kubectl get nodes,pods -A -o jsonpath='{range .items[*]}{.metadata.name}{.metadata.resourceVersion}{"\n"}{end}' | md5sum)
check "...and changed nothing in it" test "$before" = "$after"
check "...and no MaintenanceWindow was created there" bash -c "! kubectl get mw use1a 2>/dev/null"

# Bad input.
check "a file without a window or campaign: exit 2 naming kind" bash -c \
  "out=\$('$bin' rehearse -f '$work/thin.yaml' --snapshot '$work/thin.yaml' 2>&1); [ \$? = 2 ] && grep -q 'kind: no MaintenanceWindow or PatchCampaign' <<<\"\$out\""
check "a snapshot without nodes: exit 1 saying so" bash -c \
  "echo 'apiVersion: v1
kind: List
items: []' >'$work/empty.yaml'; out=\$('$bin' rehearse -f '$work/window.yaml' --snapshot '$work/empty.yaml' 2>&1); [ \$? = 1 ] && grep -q 'no Node in the snapshot' <<<\"\$out\""
summary
