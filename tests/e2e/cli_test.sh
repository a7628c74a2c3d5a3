#!/usr/bin/env bash
# The `nonevent` command line as a user meets it (issue 23.8, 23.11): help on stdout with exit 0
# for every subcommand, mistakes named with exit 2, and `plan` never aborting whatever the
# input: every document planned or refused, unknown zones and thin snapshots said, stdin read.
#
# usage: cli_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$src/tests/e2e/lib.sh"
rc() {  # rc WANT command... : the command exits WANT (its output is shown on failure)
  local want="$1" out code
  shift
  out=$("$@" 2>&1)
  code=$?
  [ "$code" = "$want" ] || { echo "exit $code, want $want:"; echo "$out"; return 1; }
}
says() {  # says WANT "needle" command... : exits WANT and prints needle (stdout or stderr)
  local want="$1" needle="$2" out code
  shift 2
  out=$("$@" 2>&1)
  code=$?
  [ "$code" = "$want" ] || { echo "exit $code, want $want:"; echo "$out"; return 1; }
  grep -qF -- "$needle" <<<"$out" || { echo "expected \"$needle\" in:"; echo "$out"; return 1; }
}

for sub in "" "version" "kube get" "operator" "plan" "sim serve"; do
  # shellcheck disable=SC2086
  check "nonevent $sub --help: usage on stdout, exit 0" bash -c "out=\$('$bin' $sub --help 2>/dev/null) && grep -q Usage <<<\"\$out\""
done
check "operator --help names --time-scale and --time-epoch" bash -c "'$bin' operator --help | grep -q -- --time-epoch"
check "sim serve --help names --snapshot" bash -c "'$bin' sim serve --help | grep -q -- --snapshot"
check "an unknown flag is named, exit 2" says 2 "--kubeconfg" "$bin" kube get nodes --kubeconfg x
check "no subcommand: exit 2" rc 2 "$bin"
check "a Lease its holder could not give up in time is refused, exit 2" \
  says 2 "--leader-elect-lease-duration (10s) must be longer than --leader-elect-renew-deadline (10s)" \
  "$bin" operator --leader-elect --leader-elect-lease-duration 10s --kubeconfig /nonexistent
check "a renew deadline within the retry period is refused, exit 2" \
  says 2 "--leader-elect-renew-deadline (1s) must be longer than --leader-elect-retry-period (2s)" \
  "$bin" operator --leader-elect --leader-elect-lease-duration 15s --leader-elect-renew-deadline 1s --kubeconfig /nonexistent
check "a metrics certificate directory without --metrics-secure is refused, exit 2" \
  says 2 "--metrics-cert-dir needs --metrics-secure" "$bin" operator --metrics-cert-dir /tmp --kubeconfig /nonexistent
check "a metrics certificate directory without tls.crt is named, exit 2" \
  says 2 "--metrics-cert-dir: cannot read /nonexistent/tls.crt" "$bin" operator --metrics-secure --metrics-cert-dir /nonexistent --kubeconfig /nonexistent
check "an unknown API content type is refused naming the choices, exit 2" \
  says 2 "--kube-api-content-type: application/xml not in {application/json,application/vnd.kubernetes.protobuf}" \
  "$bin" operator --kube-api-content-type application/xml --kubeconfig /nonexistent

# A two-zone snapshot with one pod and no PodDisruptionBudget.
node() {
  cat <<YAML
- apiVersion: v1
  kind: Node
  metadata: {name: $1, labels: {topology.kubernetes.io/zone: $2, kubernetes.io/hostname: $1, nonevent.dev/image-version: v1}}
  status:
    allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
    conditions: [{type: Ready, status: "True"}]
YAML
}
{
  echo "apiVersion: v1"
  echo "kind: List"
  echo "items:"
  node a1 a
  node a2 a
  node b1 b
  node c1 c
  cat <<'YAML'
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-1
    namespace: shop
    labels: {app: web}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: u1, controller: true}]
  spec: {nodeName: a1, containers: [{name: c, image: x}]}
  status: {phase: Running}
YAML
} >"$work/snap.yaml"
window() {  # window NAME [zones]
  printf 'apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: %s}\nspec: {zones: [%s], start: "2099-01-01T02:00:00Z", end: "2099-01-01T06:00:00Z"}\n' "$1" "${2:-a}"
}
campaign() {  # campaign NAME [zones]
  printf 'apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: %s}\nspec:\n  target: {version: v2}\n  zones: [%s]\n  strategy: {type: External}\n' "$1" "${2:-a}"
}
plan() { "$bin" plan --snapshot "$work/snap.yaml" "$@"; }

window w1 >"$work/one.yaml"
check "a window plans from a snapshot (exit 0)" rc 0 plan -f "$work/one.yaml"
check "a snapshot without PodDisruptionBudgets is said" says 0 "no PodDisruptionBudget" plan -f "$work/one.yaml"
check "-f - reads standard input" bash -c "window() { $(declare -f window | tail -n +2); }; window w1 | '$bin' plan --snapshot '$work/snap.yaml' -f - | grep -q 'MaintenanceWindow w1'"
{ window w1; echo "---"; campaign c1 b; } >"$work/two.yaml"
check "every document of a file is planned" bash -c "out=\$('$bin' plan --snapshot '$work/snap.yaml' -f '$work/two.yaml' 2>&1); grep -q 'MaintenanceWindow w1' <<<\"\$out\" && grep -q 'PatchCampaign c1' <<<\"\$out\""
printf 'apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nspec: {zones: [a]}\n' >"$work/nometa.yaml"
check "missing metadata: named, exit 2, no abort" says 2 "metadata.name: required" plan -f "$work/nometa.yaml"
printf 'apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {}\nspec: {zones: [a]}\n' >"$work/emptymeta.yaml"
check "empty metadata: named, exit 2" says 2 "metadata.name: required" plan -f "$work/emptymeta.yaml"
printf 'apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: 5}\nspec: {zones: [a]}\n' >"$work/numname.yaml"
check "name: 5 is named, exit 2" says 2 "metadata.name: must be a non-empty string" plan -f "$work/numname.yaml"
campaign mars mars-1z >"$work/mars.yaml"
check "a campaign naming an unknown zone is refused naming it (exit 1)" says 1 "spec.zones: no node has topology.kubernetes.io/zone=mars-1z" plan -f "$work/mars.yaml"
window wm mars-1z >"$work/wmars.yaml"
check "a window naming an unknown zone is refused naming it (exit 1)" says 1 "mars-1z" plan -f "$work/wmars.yaml"
check "--batch-duration -5m is refused (exit 2)" says 2 "--batch-duration" plan -f "$work/one.yaml" --batch-duration -5m
check "a file that does not exist is named (exit 2)" says 2 "cannot read $work/nope.yaml" plan -f "$work/nope.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' >"$work/cm.yaml"
check "another kind is refused naming it (exit 2)" says 2 "kind ConfigMap is not MaintenanceWindow or PatchCampaign" plan -f "$work/cm.yaml"
printf 'apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: old}\nspec: {zones: [a], start: "2020-01-01T02:00:00Z", end: "2020-01-01T06:00:00Z"}\n' >"$work/past.yaml"
check "a window that is over says so (exit 3)" says 3 "the window is over" plan -f "$work/past.yaml"
printf ': not yaml: [\n' >"$work/bad.yaml"
check "text that is not YAML: an error, no abort" bash -c "'$bin' plan --snapshot '$work/snap.yaml' -f '$work/bad.yaml' >/dev/null 2>&1; c=\$?; [ \$c = 1 ] || [ \$c = 2 ]"

# Issue 24.5: nodes other disruptors hold, said by plan with what they do to the batches.
{
  cat "$work/snap.yaml"
  cat <<'YAML'
---
apiVersion: nodemaintenance.medik8s.io/v1beta1
kind: NodeMaintenance
metadata: {name: disk-a2}
spec: {nodeName: a2, reason: disk}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kured
  namespace: kube-system
  annotations: {weave.works/kured-node-lock: '{"nodeID":"b1","metadata":{"unschedulable":false},"created":"2026-12-01T00:00:00Z","TTL":0}'}
spec: {selector: {matchLabels: {app: kured}}, template: {metadata: {labels: {app: kured}}, spec: {containers: [{name: kured, image: kured}]}}}
YAML
} >"$work/held.yaml"
campaign c2 "a, b" >"$work/c2.yaml"
check "plan names a node NodeMaintenance holds" says 0 "NodeMaintenance disk-a2 puts the node in maintenance" "$bin" plan --snapshot "$work/held.yaml" -f "$work/c2.yaml"
check "plan names the node kured's lock holds" says 0 "kured holds its reboot lock" "$bin" plan --snapshot "$work/held.yaml" -f "$work/c2.yaml"
check "plan -o json lists heldByOthers" bash -c "'$bin' plan --snapshot '$work/held.yaml' -f '$work/c2.yaml' -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert sorted(h[\"node\"] for h in d[\"heldByOthers\"])==[\"a2\",\"b1\"], d'"
check "a window plan names the held node of its zone" says 0 "HELD BY OTHER DISRUPTORS (1)" "$bin" plan --snapshot "$work/held.yaml" -f "$work/one.yaml"

# Issue 26: a campaign's schedule laid over its batches: each batch starts inside the allowed
# slot (02:00-03:00 UTC), and a deadline the schedule cannot meet is said.
{ campaign c3 "a"; printf '  deadline: 30h\n  schedule: {allowed: [{cron: "0 2 * * *", duration: 1h}]}\n'; } >"$work/c3.yaml"
check "plan starts every batch of a scheduled campaign inside its slot" bash -c \
  "'$bin' plan --snapshot '$work/snap.yaml' -f '$work/c3.yaml' --batch-duration 2h -o json | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"schedule\"]; s=d[\"batchStarts\"]; assert len(s)==2 and all(t[11:13]==\"02\" for t in s), d; assert d[\"fitsDeadline\"] is False, d'"
check "plan says the deadline cannot be met inside the schedule" says 0 "of open time before it): does NOT fit" plan -f "$work/c3.yaml" --batch-duration 2h
{ campaign c4 "a"; printf '  schedule: {allowed: [{cron: "0 25 * * *", duration: 1h}]}\n'; } >"$work/c4.yaml"
check "a bad slot is refused naming its field (exit 1)" says 1 "spec.schedule.allowed[0].cron" plan -f "$work/c4.yaml"

# Issue 25: a budget that allows no eviction is a blocker, unless drain.rollout moves the pods
# by their Deployment, which plan then says.
{
  cat "$work/snap.yaml"
  cat <<'YAML'
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
status: {disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1}
YAML
} >"$work/locked.yaml"
window w3 a >"$work/w3.yaml"
printf 'apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: w4}\nspec: {zones: [a], start: "2099-01-01T02:00:00Z", end: "2099-01-01T06:00:00Z", drain: {rollout: {when: WhenBlocked}}}\n' >"$work/w4.yaml"
check "a budget at zero is a blocker without drain.rollout (exit 3)" says 3 "PDBAtZero" "$bin" plan --snapshot "$work/locked.yaml" -f "$work/w3.yaml"
check "with drain.rollout the pods are said to move by their Deployment (exit 0)" says 0 "MOVED BY THEIR DEPLOYMENT" "$bin" plan --snapshot "$work/locked.yaml" -f "$work/w4.yaml"
check "plan -o json lists movedByDeployment" bash -c "'$bin' plan --snapshot '$work/locked.yaml' -f '$work/w4.yaml' -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"movedByDeployment\"] and not d[\"blockers\"], d'"
summary
