#!/usr/bin/env python3
"""Holds the chart's RBAC to the operator's real requests, both ways.

usage: rbac_check.py CHART_RENDER.yaml REQUESTS.json NAMESPACE USER_AGENT_PREFIX

Every request (from the embedded cluster's /sim/v1/requests record) by a client whose user
agent starts with the prefix must be allowed by a ClusterRole bound to the operator's
ServiceAccount (in NAMESPACE), or by a Role bound to it in the request's namespace. Every (group, resource, verb) the chart grants must have been used, except
the few listed below with the code path that uses them (not taken by the e2e scenario)."""
import json
import sys

import yaml

# Granted but not exercised by the e2e scenario, each with the path that needs it.
NOT_EXERCISED = {
    ("batch", "jobs", "delete"): "a failed node's patch Job is removed when a paused campaign is resumed",
    ("", "events", "patch"): "the event recorder patches an Event's count when the same Event repeats",
    ("", "pods", "delete"): "onBlocked: Force deletes a pod a policy blocks (integration test OnBlockedForceDeletesAfterForceAfterAndSaysSo)",
    ("", "nodes", "get"): "drain.rollout ends a move recorded on a Deployment whose node no longer lists it (integration test AMoveWhoseNodeNoLongerListsItIsEndedAndTheDrainGoesOn)",
    ("cluster.x-k8s.io", "machines", "delete"): "Replace deletes the Machine of a node Cluster API manages (integration test)",
    ("cluster.x-k8s.io", "machines", "get"): "maxSurge finds a node's MachineDeployment through its Machine (integration tests)",
    ("cluster.x-k8s.io", "machines", "patch"): "maxSurge marks an old node's Machine to be deleted first (integration tests)",
    ("cluster.x-k8s.io", "machinedeployments", "get"): "maxSurge reads a MachineDeployment to scale it (integration tests)",
    ("cluster.x-k8s.io", "machinedeployments", "list"): "maxSurge finds the deployments a campaign scaled; also on deletion (integration tests)",
    ("cluster.x-k8s.io", "machinedeployments", "patch"): "maxSurge scales a MachineDeployment up and back (integration tests)",
}

chart, requests, namespace, agent = sys.argv[1:5]
docs = [d for d in yaml.safe_load_all(open(chart)) if d]
# The operator's ServiceAccount (the Deployment's), and only the roles bound to it: the
# chart's ClusterRoles for people are not the operator's grants.
deployment = next(d for d in docs if d["kind"] == "Deployment")
account = (deployment["spec"]["template"]["spec"]["serviceAccountName"], namespace)
def binds_operator(b):
    return any(s["kind"] == "ServiceAccount" and (s["name"], s.get("namespace", b["metadata"].get("namespace"))) == account
               for s in b.get("subjects", []))
cluster_roles = {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] == "ClusterRole"}
roles = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["rules"] for d in docs if d["kind"] == "Role"}
cluster_rules, ns_rules_by_ns = [], {}
for b in docs:
    if b["kind"] == "ClusterRoleBinding" and binds_operator(b):
        cluster_rules += cluster_roles[b["roleRef"]["name"]]
    elif b["kind"] == "RoleBinding" and binds_operator(b):
        ns = b["metadata"]["namespace"]
        ref = b["roleRef"]
        ns_rules_by_ns.setdefault(ns, []).extend(roles[(ns, ref["name"])] if ref["kind"] == "Role" else cluster_roles[ref["name"]])

def grants(rules):
    out = set()
    for r in rules:
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                for v in r.get("verbs", []):
                    out.add((g, res, v))
    return out


cluster_grants = grants(cluster_rules)
ns_grants = {ns: grants(rules) for ns, rules in ns_rules_by_ns.items()}
used, problems = set(), []
reqs = [r for r in json.load(open(requests))["items"] if r["userAgent"].startswith(agent)]
if not reqs:
    sys.exit("no requests recorded for user agent " + agent)
for r in reqs:
    res = r["resource"] + ("/" + r["subresource"] if r["subresource"] else "")
    key = (r["group"], res, r["verb"])
    if key in cluster_grants:
        used.add(("cluster",) + key)
    elif key in ns_grants.get(r["namespace"], set()):
        used.add((r["namespace"],) + key)
    else:
        problems.append(f"not allowed by the chart: {r['verb']} {r['group'] or 'core'}/{res} in namespace '{r['namespace']}' "
                        f"({r['count']} request(s), answered {r['code']})")
for scope, granted in [("cluster", cluster_grants)] + sorted(ns_grants.items()):
    for key in sorted(granted):
        if (scope,) + key not in used and key not in NOT_EXERCISED:
            where = "ClusterRole" if scope == "cluster" else f"Role in {scope}"
            problems.append(f"granted but never used: {key[2]} {key[0] or 'core'}/{key[1]} ({where})")
for key, why in NOT_EXERCISED.items():
    print(f"not exercised here: {key[2]} {key[0] or 'core'}/{key[1]}: {why}")
print(f"{len(reqs)} distinct requests by {agent}*, {len(used)} grants used")
if problems:
    print("\n".join(problems))
    sys.exit(1)
