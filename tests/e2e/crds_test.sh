#!/usr/bin/env bash
# The nonevent.dev CRDs (crds/) with real kubectl against `nonevent sim serve`: they are
# accepted and Established, the examples apply with their defaults filled in, printer
# columns, short names and the `nonevent` category work, `kubectl explain` reads the schema,
# and bad specs are refused naming the field.
#
# usage: crds_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
work=$(mktemp -d)
"$bin" sim serve --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.05; done
export KUBECONFIG="$work/kubeconfig"
source "$src/tests/e2e/lib.sh"
refused() {  # refused "needle" yaml : apply must fail and the message must contain needle
  local needle="$1" yaml="$2" out
  if out=$(echo "$yaml" | kubectl apply -f - 2>&1); then echo "accepted: $out"; return 1; fi
  grep -qF -- "$needle" <<<"$out" || { echo "expected \"$needle\" in:"; echo "$out"; return 1; }
}

check "the CRDs pass the structural lint" python3 "$src/tests/e2e/crd_lint.py" "$src/crds"
check "kubectl apply -f crds/" kubectl apply -f "$src/crds/"
check "both become Established" kubectl wait --for=condition=Established crd/maintenancewindows.nonevent.dev crd/patchcampaigns.nonevent.dev --timeout=10s
check "the example MaintenanceWindow applies" contains "maintenancewindow.nonevent.dev/aws-reboot-use1a created" kubectl apply -f "$src/examples/maintenancewindow.yaml"
check "the example PatchCampaign applies" contains "patchcampaign.nonevent.dev/cve-2014-6271 created" kubectl apply -f "$src/examples/patchcampaign.yaml"
check "the scheduled, health-gated example PatchCampaign applies" contains "patchcampaign.nonevent.dev/kernel-6-1-119 created" \
  kubectl apply -f "$src/examples/patchcampaign-scheduled.yaml"
check "re-apply is unchanged" contains "unchanged" kubectl apply -f "$src/examples/maintenancewindow.yaml"
check "MaintenanceWindow defaults (zoneLabel, restore, rebalance, drain, safety)" bash -c \
  "[ \"\$(kubectl get mw aws-reboot-use1a -o jsonpath='{.spec.zoneLabel}/{.spec.restore}/{.spec.rebalance}/{.spec.drain.maxConcurrentEvictions}/{.spec.drain.gracePeriodSeconds}/{.spec.safety.minAvailableZones}/{.spec.timeZone}')\" = 'topology.kubernetes.io/zone/Uncordon/true/50/-1/2/UTC' ]"
check "PatchCampaign defaults (source, key, strategy, failure policy)" bash -c \
  "[ \"\$(kubectl get pcamp cve-2014-6271 -o jsonpath='{.spec.target.source}/{.spec.target.key}/{.spec.strategy.zonesInParallel}/{.spec.strategy.maxSurge}/{.spec.failurePolicy.action}/{.spec.inPlace.timeout}')\" = 'Label/nonevent.dev/image-version/1/0/Pause/30m' ]"
check "mw printer columns" contains "PHASE   ZONES" kubectl get mw
check "pcamp printer columns" contains "ETA" kubectl get pcamp
check "kubectl get nonevent lists both kinds" bash -c "out=\$(kubectl get nonevent); grep -q aws-reboot-use1a <<<\"\$out\" && grep -q cve-2014-6271 <<<\"\$out\""
check "kubectl explain reads the schema" contains "onBlocked" kubectl explain mw.spec.drain
check "an empty zone list is refused naming spec.zones" refused "spec.zones" "apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: bad1}
spec: {zones: [], start: '2026-12-01T02:00:00Z', end: '2026-12-01T06:00:00Z'}"
check "an unknown restore mode is refused naming spec.restore" refused "spec.restore" "apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: bad2}
spec: {zones: [a], restore: Maybe, start: '2026-12-01T02:00:00Z', end: '2026-12-01T06:00:00Z'}"
check "a malformed duration is refused naming spec.evacuateBefore" refused "spec.evacuateBefore" "apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: bad3}
spec: {zones: [a], evacuateBefore: two hours, start: '2026-12-01T02:00:00Z', end: '2026-12-01T06:00:00Z'}"
check "a malformed time is refused naming spec.start" refused "spec.start" "apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: bad4}
spec: {zones: [a], start: tomorrow, end: '2026-12-01T06:00:00Z'}"
check "a campaign without target.version is refused naming it" refused "spec.target.version" "apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: bad5}
spec: {target: {source: Label}}"
check "an unknown strategy is refused naming spec.strategy.type" refused "spec.strategy.type" "apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: bad6}
spec: {target: {version: x}, strategy: {type: Reimage}}"
check "a window that ends before it starts is refused by its CEL rule" refused "end must be after start" "apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: bad7}
spec: {zones: [a], start: '2026-12-01T06:00:00Z', end: '2026-12-01T02:00:00Z'}"
check "maxUnavailable that is neither a count nor a percent is refused by its CEL rule" refused "spec.strategy.maxUnavailable" "apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: bad8}
spec: {target: {version: x}, strategy: {type: External, maxUnavailable: ten}}"
for mu in 150% 101% 100000; do
  check "maxUnavailable $mu is refused (issue 23.2: it took a whole zone)" refused "spec.strategy.maxUnavailable" "apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: bad-mu}
spec: {target: {version: x}, strategy: {type: External, maxUnavailable: $mu}}"
done
for mu in 0 0%; do
  check "maxUnavailable $mu without maxSurge is refused (issue 23.7: it sat Pending)" refused "spec.strategy.maxUnavailable: Invalid value" "apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: bad-zero}
spec: {target: {version: x}, strategy: {type: External, maxUnavailable: $mu}}"
done
check "maxUnavailable 100% and 10000 are admitted" kubectl apply -f - <<<"apiVersion: nonevent.dev/v1alpha1
kind: PatchCampaign
metadata: {name: edge-mu}
spec: {target: {version: x}, strategy: {type: External, maxUnavailable: 100%, maxSurge: 0}}"
# Issue 23.7: one verdict everywhere. Every invalid spec of tests/fixtures/invalid-specs.yaml
# is refused by kubectl (the CRD) and by `nonevent plan`, each naming the table's field; the
# operator's own check of the same table is unit/controllers/validation_table_test.cpp.
mkdir -p "$work/invalid"
/usr/bin/python3 - "$src/tests/fixtures/invalid-specs.yaml" "$work/invalid" <<'PY'
import json, sys, yaml
for i, case in enumerate(yaml.safe_load(open(sys.argv[1]))):
    with open(f"{sys.argv[2]}/{i:02d}.json", "w") as f:
        json.dump(case["object"], f)
    with open(f"{sys.argv[2]}/{i:02d}.field", "w") as f:
        f.write(case["field"])
PY
cat >"$work/plan-snapshot.yaml" <<'YAML'
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: a1, labels: {topology.kubernetes.io/zone: a}}, status: {conditions: [{type: Ready, status: "True"}]}}
- {apiVersion: v1, kind: Node, metadata: {name: b1, labels: {topology.kubernetes.io/zone: b}}, status: {conditions: [{type: Ready, status: "True"}]}}
- {apiVersion: v1, kind: Node, metadata: {name: c1, labels: {topology.kubernetes.io/zone: c}}, status: {conditions: [{type: Ready, status: "True"}]}}
YAML
for obj in "$work"/invalid/*.json; do
  field=$(cat "${obj%.json}.field")
  name=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["name"])' "$obj")
  check "kubectl refuses $name naming $field" refused "$field" "$(cat "$obj")"
  check "plan refuses $name naming $field (exit 1)" bash -c \
    "out=\$('$bin' plan -f '$obj' --snapshot '$work/plan-snapshot.yaml' 2>&1); rc=\$?; echo \"\$out\"; [ \$rc = 1 ] && grep -qF -- '$field' <<<\"\$out\""
done
check "an unknown field is refused with kubectl's default fieldValidation=Strict, naming it" refused "evacuateBefor" "apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: typo}
spec: {zones: [a], start: '2099-01-01T02:00:00Z', end: '2099-01-01T06:00:00Z', evacuateBefor: 1h}"
check "with --validate=false the unknown field is pruned, not stored" bash -c \
  "echo \"apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: typo}
spec: {zones: [a], start: '2099-01-01T02:00:00Z', end: '2099-01-01T06:00:00Z', evacuateBefor: 1h}\" | kubectl apply --validate=false -f - && \
   kubectl get mw typo -o jsonpath='{.spec}' && [ -z \"\$(kubectl get mw typo -o jsonpath='{.spec.evacuateBefor}')\" ] && \
   [ \"\$(kubectl get mw typo -o jsonpath='{.spec.zones[0]}')\" = a ]"
summary
