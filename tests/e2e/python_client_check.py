#!/usr/bin/python3
"""The official Kubernetes Python client (Debian python3-kubernetes) against the embedded
cluster: list, watch from a resourceVersion, patch a node, evictions (201 and 429 paths), and
what the client's own e2e suite (kubernetes/e2e_test at v22.6.0) found wanting: Service
defaults and strategic merge of its ports, ReplicationControllers, APIServices,
deletecollection, and a 409's body byte for byte as kube-apiserver writes it.

usage: /usr/bin/python3 python_client_check.py KUBECONFIG"""
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
policy = client.PolicyV1Api()
failures = []


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


nodes = v1.list_node()
expect(len(nodes.items) == 11, f"list nodes: {len(nodes.items)}")
rv = nodes.metadata.resource_version

# Watch from the list's resourceVersion sees a change made after it.
seen = []
def watcher():
    for ev in watch.Watch().stream(v1.list_node, resource_version=rv, timeout_seconds=3):
        seen.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.labels.get("py")))
t = threading.Thread(target=watcher)
t.start()
time.sleep(0.5)
v1.patch_node("general-us-east-1a-0", {"metadata": {"labels": {"py": "yes"}}})
t.join()
expect(("MODIFIED", "general-us-east-1a-0", "yes") in seen, f"watch from rv {rv} saw the patch: {seen}")
expect(v1.read_node("general-us-east-1a-0").metadata.labels.get("py") == "yes", "patched label reads back")

# Evictions: a PDB with one disruption allowed, then none.
ns = "evict"
v1.create_namespace({"metadata": {"name": ns}})
for i in range(3):
    v1.create_namespaced_pod(ns, {
        "metadata": {"name": f"db-{i}", "labels": {"app": "db"}},
        "spec": {"nodeName": "general-us-east-1b-0", "containers": [{"name": "db", "image": "postgres:16"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
policy.create_namespaced_pod_disruption_budget(ns, {
    "metadata": {"name": "db"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}}})
policy.patch_namespaced_pod_disruption_budget_status("db", ns, {"status": {
    "observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}})
body = client.V1Eviction(metadata=client.V1ObjectMeta(name="db-0", namespace=ns))
try:
    v1.create_namespaced_pod_eviction("db-0", ns, body)
    expect(True, "eviction within budget answered 201")
except ApiException as e:
    expect(False, f"eviction within budget: {e.status} {e.body}")
evicted = [p for p in v1.list_namespaced_pod(ns).items if p.metadata.name == "db-0"]
expect(not evicted or evicted[0].metadata.deletion_timestamp is not None, "evicted pod is terminating or gone")
pdb = policy.read_namespaced_pod_disruption_budget("db", ns)
expect(pdb.status.disruptions_allowed == 0, f"budget spent: disruptionsAllowed={pdb.status.disruptions_allowed}")
try:
    v1.create_namespaced_pod_eviction("db-1", ns, client.V1Eviction(metadata=client.V1ObjectMeta(name="db-1", namespace=ns)))
    expect(False, "eviction over budget was allowed")
except ApiException as e:
    expect(e.status == 429 and "DisruptionBudget" in e.body, f"eviction over budget answered {e.status} with cause DisruptionBudget")
refused = v1.read_namespaced_pod("db-1", ns)
expect(refused.metadata.deletion_timestamp is None, "the refused pod stays, not terminating")

# A Service as the client's test_service_apis creates it: defaults, a cluster IP, status.
svc = v1.create_namespaced_service(ns, {"metadata": {"name": "frontend"}, "spec": {"ports": [
    {"name": "http", "port": 80, "targetPort": 80}], "selector": {"name": "frontend"}}})
expect(svc.spec.type == "ClusterIP" and svc.spec.cluster_ip and svc.status is not None,
       f"a Service gets type {svc.spec.type}, clusterIP {svc.spec.cluster_ip} and a status")
svc = v1.patch_namespaced_service("frontend", ns, {"spec": {"ports": [{"name": "new", "port": 8080, "targetPort": 8080}]}})
expect(sorted(p.port for p in svc.spec.ports) == [80, 8080], f"a strategic merge of spec.ports merges on port: {[p.port for p in svc.spec.ports]}")

# A ReplicationController is served and runs its pods.
rc = v1.create_namespaced_replication_controller(ns, {"metadata": {"name": "frontend"}, "spec": {
    "replicas": 2, "selector": {"name": "frontend"}, "template": {"metadata": {"labels": {"name": "frontend"}},
    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
expect(rc.metadata.name == "frontend", "create a ReplicationController")
for _ in range(100):
    pods = v1.list_namespaced_pod(ns, label_selector="name=frontend").items
    if len(pods) == 2:
        break
    time.sleep(0.1)
expect(len(pods) == 2, f"the ReplicationController made its 2 pods: {len(pods)}")

# An APIService is stored; creating it twice is a 409 whose body is kube-apiserver's, bytes and all.
reg = client.ApiregistrationV1Api()
api_service = {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1alpha1.wardle.k8s.io"},
               "spec": {"group": "wardle.k8s.io", "version": "v1alpha1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                        "service": {"name": "api", "namespace": "wardle"}}}
reg.create_api_service(api_service)
try:
    reg.create_api_service(api_service)
    expect(False, "a second APIService of the same name was created")
except ApiException as e:
    want = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            '"message":"apiservices.apiregistration.k8s.io \\"v1alpha1.wardle.k8s.io\\" already exists","reason":"AlreadyExists",'
            '"details":{"name":"v1alpha1.wardle.k8s.io","group":"apiregistration.k8s.io","kind":"apiservices"},"code":409}\n')
    expect(e.status == 409 and e.body == want, f"the 409 body is kube-apiserver's: {e.body!r}")

# deletecollection with a label selector.
v1.delete_collection_namespaced_pod(ns, label_selector="app=db")
left = [p.metadata.name for p in v1.list_namespaced_pod(ns, label_selector="app=db").items if p.metadata.deletion_timestamp is None]
expect(left == [], f"deletecollection by label left {left}")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
