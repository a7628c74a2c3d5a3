#!/usr/bin/python3
"""The official Kubernetes Python client (Debian python3-kubernetes) against the embedded
cluster: list, watch from a resourceVersion, patch a node, evictions (201 and 429 paths).

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

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
