#!/usr/bin/env bash
# `kubectl nonevent` (issue 29.3): the binary as a kubectl plugin, run through kubectl itself
# against the embedded cluster with the operator rolling a campaign and holding a window:
# status (table, -o json, -o yaml, -w, --context), plan, pause, resume and abort.
#
# usage: kubectl_plugin_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin=$(realpath "$1")
src="$2"
source "$src/tests/e2e/lib.sh"
work=$(mktemp -d)
pids=()
trap end_test EXIT
kubectl="$src/.tools/kubectl-1.35/kubectl"
[ -x "$kubectl" ] || kubectl=$(command -v kubectl)
[ -x "$(dirname "$bin")/kubectl-nonevent" ] || { echo "FAIL the build made no kubectl-nonevent beside $bin"; exit 1; }
# kubectl finds plugins on PATH; only this build's (and kubectl) are there.
mkdir -p "$work/bin"
ln -s "$(dirname "$bin")/kubectl-nonevent" "$work/bin/kubectl-nonevent"
ln -s "$kubectl" "$work/bin/kubectl"
export PATH="$work/bin:/usr/bin:/bin"
scale=60
epoch=$(date +%s)

start_sim plugin --manifests "$src/examples/workloads" --time-scale $scale --time-epoch "$epoch"
export KUBECONFIG="$work/plugin.kubeconfig"
check "kubectl plugin list finds kubectl-nonevent" contains "kubectl-nonevent" kubectl plugin list
kubectl apply -f "$src/crds/" >/dev/null
kubectl wait --for=condition=Established crd/patchcampaigns.nonevent.dev crd/maintenancewindows.nonevent.dev --timeout=20s >/dev/null
check "status with nothing to show says so" contains "No MaintenanceWindows or PatchCampaigns." kubectl nonevent status
fix_spread_trap >/dev/null
"$bin" operator --metrics-bind-address 127.0.0.1:0 --time-scale $scale --time-epoch "$epoch" >"$work/operator.log" 2>&1 &
pids+=($!)
kubectl apply -f - >/dev/null <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: plugin-window}
spec: {zones: [us-east-1c], start: "$(vnow 20)", end: "$(vnow 40)", evacuateBefore: 15m, drain: {evictUnmanagedPods: true}}
---
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: fleet}
spec:
  target: {version: bash-4.3-25}
  zones: [us-east-1a, us-east-1b]
  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}
  inPlace:
    jobTemplate:
      metadata: {annotations: {sim.nonevent.dev/run-seconds: "600"}}
      spec: {containers: [{name: patch, image: registry.example.com/node-patcher:1}]}
  deadline: 12h
  drain: {evictUnmanagedPods: true, deleteEmptyDirData: true}
YAML
check "the campaign starts rolling" wait_for 60 bash -c "[ \"\$(kubectl get pcamp fleet -o jsonpath='{.status.phase}')\" = Progressing ]"
check "the window has a status" wait_for 30 bash -c "[ -n \"\$(kubectl get mw plugin-window -o jsonpath='{.status.phase}')\" ]"

kubectl nonevent status >"$work/status.txt" 2>&1
check "status lists the window with its zone and a drained bar" bash -c \
  "grep -A1 '^plugin-window ' '$work/status.txt' | grep -q 'zones us-east-1c' && grep -qE '^  drained \[[#-]{20}\] [0-9]+/[0-9]+' '$work/status.txt'"
check "status lists the campaign with a bar per zone" bash -c \
  "grep -qE '^fleet  Progressing  [0-9]+/[0-9]+ nodes on bash-4.3-25' '$work/status.txt' && grep -qE '^  us-east-1a  \[[#-]{20}\] [0-9]+/[0-9]+' '$work/status.txt' && grep -qE '^  us-east-1b  \[[#-]{20}\] [0-9]+/[0-9]+' '$work/status.txt'"
check "status prints no colour when stdout is not a terminal" bash -c "! grep -q $'\\033' '$work/status.txt'"
check "status -o json is a List of both objects" python3 -c '
import json, subprocess
l = json.loads(subprocess.check_output(["kubectl", "nonevent", "status", "-o", "json"]))
kinds = sorted(i["kind"] for i in l["items"])
assert l["kind"] == "List" and kinds == ["MaintenanceWindow", "PatchCampaign"], kinds'
check "status -o yaml reads back as the same List" python3 -c '
import json, subprocess, yaml
y = yaml.safe_load(subprocess.check_output(["kubectl", "nonevent", "status", "-o", "yaml"]))
assert y["kind"] == "List" and {i["metadata"]["name"] for i in y["items"]} == {"fleet", "plugin-window"}, y'
check "status -w prints, then keeps following (stopped here after 4 s)" bash -c \
  "timeout 4 kubectl nonevent status -w --interval 1s >'$work/watch.txt'; [ \$? = 124 ] && grep -q '^fleet ' '$work/watch.txt'"
check "status --context with an unknown context names it, exit 1" bash -c \
  "out=\$(kubectl nonevent status --context nope 2>&1); rc=\$?; echo \"\$out\"; [ \$rc = 1 ] && grep -q nope <<<\"\$out\""
check "an unknown -o is refused naming the choices, exit 2" bash -c \
  "out=\$(kubectl nonevent status -o wide 2>&1); rc=\$?; echo \"\$out\"; [ \$rc = 2 ] && grep -q 'table,json,yaml' <<<\"\$out\""
check "plan -f against the current context (exit 0, or 3 naming a blocker)" bash -c \
  "kubectl nonevent plan -f '$src/examples/patchcampaign.yaml' >'$work/plan.txt' 2>&1; rc=\$?; cat '$work/plan.txt'; [ \$rc = 0 ] || [ \$rc = 3 ]"

check "pause says what it changed" contains "patchcampaign.nonevent.dev/fleet paused (was Progressing)" kubectl nonevent pause fleet
check "spec.paused is true" bash -c "[ \"\$(kubectl get pcamp fleet -o jsonpath='{.spec.paused}')\" = true ]"
check "the operator says Paused" wait_for 30 bash -c "[ \"\$(kubectl get pcamp fleet -o jsonpath='{.status.phase}')\" = Paused ]"
check "status says what it waits for: the pause" wait_for 10 bash -c "kubectl nonevent status | grep -q 'waiting for: paused (PausedBySpec)'"
check "pause again: already paused, exit 0" contains "already paused" kubectl nonevent pause fleet
check "resume says what it changed" contains "patchcampaign.nonevent.dev/fleet resumed (was Paused)" kubectl nonevent resume fleet
check "the operator says Progressing again" wait_for 30 bash -c "[ \"\$(kubectl get pcamp fleet -o jsonpath='{.status.phase}')\" = Progressing ]"
check "pause of a campaign that does not exist: 404 named, exit 1" bash -c \
  "out=\$(kubectl nonevent pause nope 2>&1); rc=\$?; echo \"\$out\"; [ \$rc = 1 ] && grep -q 'not found' <<<\"\$out\""
check "abort says what it asked for" contains "patchcampaign.nonevent.dev/fleet abort requested" kubectl nonevent abort fleet --reason "plugin test"
check "the annotation carries the reason" bash -c "[ \"\$(kubectl get pcamp fleet -o jsonpath='{.metadata.annotations.nonevent\\.dev/abort}')\" = 'plugin test' ]"
check "the operator aborts it: Failed" wait_for 30 bash -c "[ \"\$(kubectl get pcamp fleet -o jsonpath='{.status.phase}')\" = Failed ]"
check "no node is left claimed by the campaign" wait_for 30 bash -c \
  "! kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.annotations.nonevent\\.dev/claimed-by}{\"\\n\"}{end}' | grep -q PatchCampaign/fleet"
check "the log says it was aborted on request" grep -q 'msg=aborted campaign=fleet requested=true' "$work/operator.log"
check "abort of a Failed campaign: nothing to abort, exit 1" bash -c \
  "out=\$(kubectl nonevent abort fleet 2>&1); rc=\$?; echo \"\$out\"; [ \$rc = 1 ] && grep -q 'is Failed' <<<\"\$out\""

# A campaign created inside a blackout (issue 26): status says what it waits for, and until when.
kubectl apply -f - >/dev/null <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: frozen}
spec:
  target: {version: bash-4.3-25}
  strategy: {type: External, maxUnavailable: 1}
  schedule: {blackouts: [{start: "$(vnow -60)", end: "$(vnow 600)", reason: Change freeze}]}
YAML
check "a campaign in a blackout says so: Progressing=False, Blackout" wait_for 30 bash -c \
  "[ \"\$(kubectl get pcamp frozen -o jsonpath='{.status.conditions[?(@.type==\"Progressing\")].reason}')\" = Blackout ]"
check "status says it waits for the blackout, naming it" bash -c "kubectl nonevent status | grep -q 'waiting for: blackout: blackout \"Change freeze\"'"
kubectl delete pcamp frozen >/dev/null

# A campaign gated on Prometheus while the operator has none to ask (no --prometheus-url): it
# fails closed, and status says so.
kubectl apply -f - >/dev/null <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: gated}
spec:
  target: {version: bash-4.3-25}
  strategy: {type: External, maxUnavailable: 1}
  healthChecks: {failureThreshold: 1000, checks: [{name: error-rate, prometheus: {query: "max(errors)", max: 0.01}}]}
YAML
check "status says the health check fails closed without --prometheus-url" wait_for 30 bash -c \
  "kubectl nonevent status | grep -q 'waiting for: health: health check error-rate failing (max(errors)): no Prometheus to ask: the operator runs without --prometheus-url'"
summary
