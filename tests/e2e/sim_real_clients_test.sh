#!/usr/bin/env bash
# Real clients against `nonevent sim serve`: kubectl (the machine's, and any other versions
# found on PATH as kubectl.1.NN) and the Python client, over HTTP and over TLS with a token,
# plus the 1.32 OpenAPI conformance check of what the server returns.
#
# usage: sim_real_clients_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"
src="$2"
work=$(mktemp -d)
pids=()
trap end_test EXIT

source "$src/tests/e2e/lib.sh"

cat >"$work/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 64Mi}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
YAML
cat >"$work/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  scope: Cluster
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], categories: [demo]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, description: How big the widget is.}
              color: {type: string, default: blue, enum: [blue, red]}
YAML
cat >"$work/widget.yaml" <<'YAML'
apiVersion: example.dev/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
YAML
cat >"$work/bad-widget.yaml" <<'YAML'
apiVersion: example.dev/v1
kind: Widget
metadata: {name: w2}
spec: {size: 0, color: green}
YAML

kubectl_versions=(kubectl)
for k in /usr/lib/google-cloud-sdk/bin/kubectl.1.27 /usr/lib/google-cloud-sdk/bin/kubectl.1.31 \
         /usr/lib/google-cloud-sdk/bin/kubectl.1.33 "$src/.tools/kubectl-1.35/kubectl"; do
  command -v "$k" >/dev/null 2>&1 && kubectl_versions+=("$k")
done

start_sim plain
export KUBECONFIG="$work/plain.kubeconfig"
for k in "${kubectl_versions[@]}"; do
  v=$("$k" version --client -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')
  check "[$v] get nodes lists the 11 nodes of examples/cluster.yaml" bash -c "[ \$($k get nodes --no-headers | wc -l) -eq 11 ]"
  check "[$v] get nodes -o wide has INTERNAL-IP and OS-IMAGE" contains "OS-IMAGE" "$k" get nodes -o wide
  check "[$v] get pods -A" "$k" get pods -A
  cm="apiVersion: v1
kind: ConfigMap
metadata: {name: cm-${v//[^a-z0-9]/-}, namespace: default}
data: {k: v}"
  # kubectl <= 1.27 validates against OpenAPI v2 fetched as protobuf, which the embedded
  # cluster does not serve (1.28+ use OpenAPI v3, which it does).
  validate=""
  [[ "$v" == v1.27.* ]] && validate="--validate=false"
  check "[$v] apply -f ${validate:-with default validation}" contains "created" bash -c "echo \"$cm\" | $k apply $validate -f -"
  check "[$v] re-apply prints unchanged" contains "unchanged" bash -c "echo \"$cm\" | $k apply $validate -f -"
done
check "apply -f (default validation) creates a Deployment and a PDB" contains "deployment.apps/web created" kubectl apply -f "$work/web.yaml"
check "re-apply prints unchanged" contains "deployment.apps/web unchanged" kubectl apply -f "$work/web.yaml"
check "get deploy shows READY UP-TO-DATE AVAILABLE" contains "UP-TO-DATE" kubectl get deploy web
check "apply a CRD" contains "created" kubectl apply -f "$work/crd.yaml"
check "the CRD becomes Established" kubectl wait --for=condition=Established crd/widgets.example.dev --timeout=10s
check "apply a CR of it" contains "widget.example.dev/w1 created" kubectl apply -f "$work/widget.yaml"
check "get CR shows its printer columns (defaults applied)" contains "w1     3      blue" kubectl get widgets
check "short name and category resolve" contains "w1" kubectl get wd
check "kubectl reads aggregated discovery (no per-group requests)" bash -c "out=\$(kubectl get deploy -A -v=6 --cache-dir $work/discovery-cache 2>&1); grep -q 'GET .*/apis?timeout' <<<\"\$out\" && ! grep -q 'GET .*/apis/apps/v1?timeout' <<<\"\$out\""
check "aggregated /apis lists the CRD with its short name and pods/eviction in /api" bash -c "server=\$(grep server: \$KUBECONFIG | awk '{print \$2}'); h='Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'; curl -s -H \"\$h\" \$server/apis | grep -q '\"shortNames\":\\[\"wd\"\\]' && curl -s -H \"\$h\" \$server/api | grep -q '\"subresource\":\"eviction\"'"
check "explain a CR field from its schema" contains "How big the widget is" kubectl explain widget.spec.size
check "an invalid CR is rejected naming the fields" bash -c "! kubectl apply -f $work/bad-widget.yaml 2>$work/bad.txt && grep -q 'spec.size' $work/bad.txt && grep -q 'spec.color' $work/bad.txt"
check "a strategic merge patch on a CR is refused (415)" bash -c "out=\$(kubectl patch widget w1 --type=strategic -p '{\"spec\":{\"size\":4}}' 2>&1); [ \$? -ne 0 ] && grep -q 'strategic-merge-patch+json is not supported' <<<\"\$out\""
check "describe node" contains "Conditions:" kubectl describe node general-us-east-1a-0
check "wait --for=condition=Ready node" kubectl wait --for=condition=Ready node/general-us-east-1b-0 --timeout=5s
check "cordon shows SchedulingDisabled" bash -c "kubectl cordon general-us-east-1c-0 >/dev/null && kubectl get node general-us-east-1c-0 | grep -q SchedulingDisabled"
check "uncordon clears it" bash -c "kubectl uncordon general-us-east-1c-0 >/dev/null && ! kubectl get node general-us-east-1c-0 | grep -q SchedulingDisabled"
( timeout 4 kubectl get nodes -w --no-headers >"$work/watch.txt" 2>&1 & )
sleep 1.5
kubectl label node infra-us-east-1a-0 watched=yes >/dev/null
sleep 1.5
check "get -w sees a change made while watching" bash -c "[ \$(grep -c infra-us-east-1a-0 $work/watch.txt) -ge 2 ]"
check "delete --wait removes the CR" bash -c "kubectl delete widget w1 --wait --timeout=10s && ! kubectl get widget w1 2>/dev/null"
check "deleting the Deployment answers" contains "deleted" kubectl delete deploy web --wait --timeout=10s
check "Python client: list, watch from a resourceVersion, patch, evictions 201/429" /usr/bin/python3 "$src/tests/e2e/python_client_check.py" "$KUBECONFIG"
check "objects match the Kubernetes 1.32 OpenAPI schemas" python3 "$src/tests/e2e/openapi_conformance.py" "$KUBECONFIG"

start_sim tls --tls
check "TLS: kubectl verifies the sim's CA and authenticates with its token" contains "general-us-east-1a-0" kubectl --kubeconfig "$work/tls.kubeconfig" get nodes
check "TLS: a request without the token is refused (401)" bash -c "server=\$(grep server: $work/tls.kubeconfig | awk '{print \$2}'); [ \$(curl -sk -o /dev/null -w '%{http_code}' \$server/api/v1/nodes) = 401 ]"
check "TLS: the Python client works too" /usr/bin/python3 -c "
from kubernetes import client, config
config.load_kube_config('$work/tls.kubeconfig')
assert len(client.CoreV1Api().list_node().items) == 11"

# The simulated cluster with the example workloads, 4x real time: kubectl drain uses the
# eviction API, is held by the PDB's 429 and finishes once the replacement is Ready.
start_sim workloads --manifests "$src/examples/workloads" --time-scale 4
export KUBECONFIG="$work/workloads.kubeconfig"
check "the example workloads come up Ready" kubectl wait --for=condition=Available deploy/web deploy/api -n shop --timeout=30s
cat >"$work/hold.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: hold, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: hold}}
  template:
    metadata: {labels: {app: hold}}
    spec: {containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: hold, namespace: shop}
spec: {minAvailable: 1, selector: {matchLabels: {app: hold}}}
YAML
target=general-us-east-1b-0
others=$(kubectl get nodes -o name | grep -v "$target")
for n in $others; do kubectl cordon "$n" >/dev/null; done
kubectl apply -f "$work/hold.yaml" >/dev/null
check "two pods of one budget land on the node to drain" kubectl wait --for=condition=Available deploy/hold -n shop --timeout=30s
for n in $others; do kubectl uncordon "$n" >/dev/null; done
kubectl drain "$target" --ignore-daemonsets --timeout=90s >"$work/drain.txt" 2>&1
check "kubectl drain completes" grep -q "node/$target drained" "$work/drain.txt"
check "kubectl drain was held by the PDB (429) and retried" grep -q "would violate the pod's disruption budget" "$work/drain.txt"
check "kubectl drain skipped the DaemonSet pod" grep -q "ignoring DaemonSet-managed Pods" "$work/drain.txt"
check "the drained workload is Ready elsewhere" bash -c "kubectl wait --for=condition=Available deploy/hold -n shop --timeout=30s >/dev/null && ! kubectl get pods -n shop -l app=hold -o wide | grep -q $target"
check "the cordoned node carries the unschedulable taint" contains "node.kubernetes.io/unschedulable" kubectl get node "$target" -o jsonpath='{.spec.taints}'
bare_node=$(kubectl get pod debug-shell -o jsonpath='{.spec.nodeName}')
check "a bare pod blocks kubectl drain without --force, naming it" bash -c "out=\$(kubectl drain $bare_node --ignore-daemonsets --timeout=10s 2>&1); rc=\$?; [ \$rc -ne 0 ] && grep -q 'declare no controller' <<<\"\$out\" && grep -q 'default/debug-shell' <<<\"\$out\""
kubectl uncordon "$bare_node" >/dev/null 2>&1

summary
