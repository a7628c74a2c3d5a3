#!/usr/bin/env bash
# A realistic imperative kubectl session against `nonevent sim serve`, as a new user types it,
# with each kubectl the machine has (1.32 and 1.35 from hack/install-tools.sh; 1.31 too): the
# typed commands send protobuf and read protobuf answers, apply --server-side meets conflicts
# and forces them, a client-side-applied object moves to server-side apply, drain evicts.
#
# usage: kubectl_session_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
work=$(mktemp -d)
pids=()
trap end_test EXIT
source "$src/tests/e2e/lib.sh"

kubectls=()
for v in 1.32 1.35 1.31; do
  [ -x "$src/.tools/kubectl-$v/kubectl" ] && kubectls+=("$src/.tools/kubectl-$v/kubectl")
done
if [ ${#kubectls[@]} -eq 0 ]; then
  echo "no kubectl under .tools (hack/install-tools.sh fetches them)"
  exit 1
fi

start_sim session
export KUBECONFIG="$work/session.kubeconfig"

# A value that eventually reads as expected (the simulated controllers work in the background).
eventually() {  # eventually "expected" command...
  local want="$1" got=""
  shift
  for _ in $(seq 1 100); do
    got=$("$@" 2>&1) && [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  echo "expected \"$want\", last got: $got"
  return 1
}

for k in "${kubectls[@]}"; do
  v=$("$k" version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')
  ns="s${v//[^0-9]/}"
  kc() { "$k" -n "$ns" "$@"; }
  check "[$v] create namespace (protobuf)" contains "namespace/$ns created" "$k" create namespace "$ns"
  check "[$v] create deployment (protobuf)" contains "deployment.apps/web created" kc create deployment web --image=nginx:1.27 --replicas=3
  check "[$v] create pdb (protobuf)" contains "poddisruptionbudget.policy/web created" kc create pdb web --selector=app=web --min-available=2
  check "[$v] create service clusterip (protobuf)" contains "service/web created" kc create service clusterip web --tcp=80:8080
  check "[$v] create job (protobuf)" contains "job.batch/once created" kc create job once --image=busybox -- true
  check "[$v] create configmap (protobuf)" contains "configmap/settings created" kc create configmap settings --from-literal=level=info
  check "[$v] create secret (protobuf, bytes)" contains "secret/creds created" kc create secret generic creds --from-literal=password=s3cret
  check "[$v] the secret's bytes round-trip" eventually "s3cret" bash -c "$k -n $ns get secret creds -o jsonpath='{.data.password}' | base64 -d"
  check "[$v] the service got a cluster IP and its port" contains "80/TCP" kc get service web
  check "[$v] the deployment becomes available" eventually "3" kc get deployment web -o jsonpath='{.status.availableReplicas}'
  check "[$v] scale (scale subresource)" contains "deployment.apps/web scaled" kc scale deployment web --replicas=4
  check "[$v] scaled to 4" eventually "4" kc get deployment web -o jsonpath='{.status.readyReplicas}'
  check "[$v] label" contains "labeled" kc label deployment web tier=front
  check "[$v] annotate" contains "annotated" kc annotate deployment web owner=shop
  check "[$v] patch --type=json" contains "patched" kc patch deployment web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":3}]'
  check "[$v] patch --type=merge" contains "patched" kc patch deployment web --type=merge -p '{"metadata":{"labels":{"merged":"yes"}}}'
  check "[$v] patch --type=strategic merges containers by name" contains "patched" \
    kc patch deployment web -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"MODE","value":"prod"}]}]}}}}'
  check "[$v] the strategic patch kept the image and added env" eventually "nginx:1.27 MODE" \
    kc get deployment web -o jsonpath='{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].name}'
  check "[$v] rollout restart" contains "restarted" kc rollout restart deployment web
  check "[$v] rollout status" contains "successfully rolled out" kc rollout status deployment web --timeout=60s

  # Server-side apply: a conflict with another manager, then forced.
  cat >"$work/cm.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: applied, namespace: $ns}
data: {a: "1", b: "2"}
YAML
  check "[$v] apply --server-side creates" contains "serverside-applied" kc apply --server-side -f "$work/cm.yaml"
  check "[$v] another manager changes a field" contains "patched" kc patch configmap applied --type=merge -p '{"data":{"a":"x"}}' --field-manager=someone-else
  check "[$v] apply --server-side conflicts, naming field and manager" bash -c \
    "! $k -n $ns apply --server-side -f $work/cm.yaml >$work/out 2>&1 && grep -q 'conflict with \"someone-else\"' $work/out && grep -q '.data.a' $work/out"
  check "[$v] apply --server-side --force-conflicts takes it" contains "serverside-applied" kc apply --server-side --force-conflicts -f "$work/cm.yaml"
  check "[$v] the applied value is back" eventually "1" kc get configmap applied -o jsonpath='{.data.a}'
  sed -i 's/b: "2"/c: "3"/' "$work/cm.yaml"
  check "[$v] a field dropped from the configuration is removed" bash -c \
    "$k -n $ns apply --server-side -f $work/cm.yaml >/dev/null && [ \"\$($k -n $ns get configmap applied -o jsonpath='{.data}')\" = '{\"a\":\"1\",\"c\":\"3\"}' ]"

  # Client-side apply, then server-side: kubectl's migration, no conflict, the dropped
  # container removed.
  cat >"$work/mig.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: mig, namespace: $ns}
spec:
  replicas: 1
  selector: {matchLabels: {app: mig}}
  template:
    metadata: {labels: {app: mig}}
    spec:
      containers:
      - {name: main, image: "nginx:1.26"}
      - {name: side, image: "busybox:1.36"}
YAML
  check "[$v] client-side apply" contains "created" kc apply -f "$work/mig.yaml"
  sed -i 's/nginx:1.26/nginx:1.27/; /name: side/d' "$work/mig.yaml"
  check "[$v] then apply --server-side migrates without a conflict" contains "serverside-applied" kc apply --server-side -f "$work/mig.yaml"
  check "[$v] the migrated object has the new image and one container" eventually "main nginx:1.27" \
    kc get deployment mig -o jsonpath='{.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].image}'
  check "[$v] and kubectl owns it by Apply" contains '"manager":"kubectl","operation":"Apply"' kc get deployment mig -o jsonpath='{.metadata.managedFields}'

  # A rolling update as kube-controller-manager runs it (maxSurge 1, maxUnavailable 0): Ready
  # never below the replica count; undo, pause and resume; the revision history.
  if [ "$k" = "${kubectls[0]}" ]; then
    cat >"$work/roll.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: roll, namespace: $ns}
spec:
  replicas: 4
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: roll}}
  template:
    metadata: {labels: {app: roll}}
    spec: {containers: [{name: app, image: "nginx:1.26"}]}
YAML
    check "[$v] rolling: create" contains "created" kc apply -f "$work/roll.yaml"
    check "[$v] rolling: first rollout completes" contains "successfully rolled out" kc rollout status deployment roll --timeout=60s
    ( for _ in $(seq 1 200); do kc get deployment roll -o jsonpath='{.status.readyReplicas} {.status.replicas}{"\n"}'; sleep 0.1; done ) >"$work/samples" &
    sampler=$!
    check "[$v] rolling: set image" contains "image updated" kc set image deployment/roll app=nginx:1.27
    check "[$v] rolling: rollout status ends 0" contains "successfully rolled out" kc rollout status deployment roll --timeout=90s
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    check "[$v] rolling: Ready never below 4, never more than 5 pods (maxSurge 1)" bash -c \
      "[ -s $work/samples ] && awk 'NF==2 && (\$1<4 || \$2>5) {bad=1; print} END {exit bad}' $work/samples"
    check "[$v] rolling: two revisions in the history" contains "2 " kc rollout history deployment roll
    check "[$v] rolling: undo" contains "rolled back" kc rollout undo deployment roll
    check "[$v] rolling: undo rolls out the old image as revision 3" eventually "nginx:1.26 3" \
      kc get deployment roll -o jsonpath='{.spec.template.spec.containers[0].image} {.metadata.annotations.deployment\.kubernetes\.io/revision}'
    check "[$v] rolling: undo reuses the old ReplicaSet" eventually "2" bash -c "$k -n $ns get rs -l app=roll --no-headers | wc -l"
    check "[$v] rolling: pause" contains "paused" kc rollout pause deployment roll
    kc set image deployment/roll app=nginx:1.28 >/dev/null
    sleep 1
    check "[$v] rolling: paused, no new ReplicaSet" eventually "2" bash -c "$k -n $ns get rs -l app=roll --no-headers | wc -l"
    check "[$v] rolling: resume rolls it out" contains "resumed" kc rollout resume deployment roll
    check "[$v] rolling: the resumed rollout completes" contains "successfully rolled out" kc rollout status deployment roll --timeout=90s
    # `kubectl rollout restart` (the template annotation drain.rollout also sets), sampled.
    ( for _ in $(seq 1 200); do kc get deployment roll -o jsonpath='{.status.readyReplicas} {.status.replicas}{"\n"}'; sleep 0.1; done ) >"$work/samples" &
    sampler=$!
    check "[$v] rolling: rollout restart" contains "restarted" kc rollout restart deployment roll
    check "[$v] rolling: the restart's rollout status ends 0" contains "successfully rolled out" kc rollout status deployment roll --timeout=90s
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    check "[$v] rolling: restart kept Ready at 4, never more than 5 pods" bash -c \
      "[ -s $work/samples ] && awk 'NF==2 && (\$1<4 || \$2>5) {bad=1; print} END {exit bad}' $work/samples"
  fi

  # Drain a node that runs one of the web pods: evictions honour the PDB.
  node=$(kc get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')
  check "[$v] drain evicts through the eviction API" contains "drained" "$k" drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout=90s
  check "[$v] the node is cordoned" contains "SchedulingDisabled" "$k" get node "$node"
  check "[$v] uncordon" contains "uncordoned" "$k" uncordon "$node"
  # An autoscaler as kubectl 1.33+ writes it (autoscaling/v2; older kubectls send v1, which
  # the embedded cluster does not serve).
  if [[ "$v" == v1.35* ]]; then
    check "[$v] autoscale" contains "autoscaled" kc autoscale deployment web --min=2 --max=5 --cpu=70%
    check "[$v] get hpa" contains "Deployment/web" kc get hpa web
    check "[$v] delete hpa" contains "deleted" kc delete hpa web
  fi
  check "[$v] delete --all deployments" contains "deleted" kc delete deployment --all
  check "[$v] delete pdb,svc,job,cm,secret --all" contains "deleted" kc delete pdb,svc,job,cm,secret --all
  check "[$v] nothing of the session's kinds left" eventually "" kc get deployment,pdb,svc,job -o name
done

summary
