#!/usr/bin/python3
"""The soak's independent checker (issue 28.1): its own list+watch of the cluster through the
official Python client, and design section 7's invariants evaluated at every event. It knows
the public contract (the CRDs' fields, the node annotation nonevent.dev/claimed-by, the patch
Jobs' label nonevent.dev/campaign) and nothing of the operator's code.

usage: checker.py --kubeconfig F --out RESULTS.json --scale X --epoch UNIX --zones a,b,c
                  --nodes-per-zone N [--lease NS/NAME]
Runs until SIGTERM, then checks what must hold at the end (nothing left claimed, annotated or
cordoned) and writes RESULTS.json: violations, lease transitions, counts.

Invariants (each violation is recorded with the virtual time and what was seen):
  pdb         a PodDisruptionBudget's healthy pods (Ready, not terminating, counted here from
              the pods) below its desired count, once it had been met
  zone        a zone that no window holds with more unavailable nodes (its full size less its
              Ready schedulable nodes) than the strictest running campaign's maxUnavailable
  zones       fewer schedulable zones (one Ready schedulable node or more) than 2, the
              minAvailableZones every soak CR asks for
  spread      a Deployment's skew across zones above its DoNotSchedule maxSkew while nothing
              runs (no window past Scheduled and not done, no campaign Progressing, no node
              cordoned, every replica Ready) for a settling minute
  claim       a node cordoned without a claim, or with a claim whose owner is gone or done,
              for longer than the grace (a failover and a sweep)
  patch       a node patched (a patch Job Succeeded) twice by one campaign
  leftover    at the end: a node cordoned, claimed or carrying nonevent.dev/ annotations
"""
import argparse
import json
import math
import signal
import sys
import threading
import time

from kubernetes import client, config

RESOURCES = {
    "nodes": "/api/v1/nodes",
    "pods": "/api/v1/pods",
    "pdbs": "/apis/policy/v1/poddisruptionbudgets",
    "deployments": "/apis/apps/v1/deployments",
    "windows": "/apis/nonevent.dev/v1alpha1/maintenancewindows",
    "campaigns": "/apis/nonevent.dev/v1alpha1/patchcampaigns",
    "jobs": "/apis/batch/v1/jobs",
}
ZONE_LABEL = "topology.kubernetes.io/zone"
CLAIM = "nonevent.dev/claimed-by"
CLAIM_GRACE_S = 600        # virtual: a failover (lease) plus the claim sweeper's pass
SPREAD_SETTLE_S = 60       # virtual: nothing running this long before spread is judged
WINDOW_DONE = {"Completed", "Missed", "Failed", "Blocked", "Scheduled", ""}
MIN_ZONES = 2


class Checker:
    def __init__(self, args):
        self.args = args
        self.zones = args.zones.split(",")
        self.lock = threading.Lock()
        self.objs = {k: {} for k in RESOURCES}
        self.synced = set()
        self.violations = []
        self.counts = {k: 0 for k in ("pdb", "zone", "zones", "spread", "claim", "patch", "leftover")}
        # How often each invariant was judged on a state where it could have failed: a check
        # that never had anything to judge proves nothing (the driver refuses such a run).
        self.judged = {k: 0 for k in ("pdb", "zone", "spread", "claim", "patch")}
        self.events = 0
        self.relists = 0
        self.pdb_armed = set()
        self.claim_bad_since = {}
        self.quiet_since = None
        self.patched = {}           # (campaign uid, node) -> succeeded job uids
        self.lease_holder = None
        self.lease_transitions = []  # [real time, holder]
        self.stop = threading.Event()
        self.open_violations = set()  # (kind, subject) currently violated: one record per episode

    def vnow(self):
        a = self.args
        return a.epoch + (time.time() - a.epoch) * a.scale

    def since_start(self):
        s = int(self.vnow() - self.args.epoch)
        return f"+{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"

    # ---- following the cluster ----
    def follow(self, kind, path, api):
        while not self.stop.is_set():
            try:
                r = api.call_api(path, "GET", query_params=[("limit", "0")], auth_settings=["BearerToken"],
                                 _preload_content=False, _request_timeout=30)
                lst = json.loads(r[0].data)
                rv = lst["metadata"]["resourceVersion"]
                with self.lock:
                    self.objs[kind] = {self.key(o): o for o in lst.get("items") or []}
                    self.synced.add(kind)
                    self.relists += 1
                    self.evaluate()
                while not self.stop.is_set():
                    resp = api.call_api(path, "GET", query_params=[("watch", "true"), ("resourceVersion", rv),
                                                                   ("allowWatchBookmarks", "true"), ("timeoutSeconds", "60")],
                                        auth_settings=["BearerToken"], _preload_content=False, _request_timeout=90)[0]
                    expired = False
                    for line in lines(resp):
                        if not line.strip():
                            continue
                        ev = json.loads(line)
                        t, o = ev["type"], ev["object"]
                        if t == "ERROR":
                            expired = True
                            break
                        rv = o["metadata"]["resourceVersion"]
                        if t == "BOOKMARK":
                            continue
                        with self.lock:
                            if t == "DELETED":
                                self.objs[kind].pop(self.key(o), None)
                            else:
                                self.objs[kind][self.key(o)] = o
                            self.events += 1
                            self.evaluate(kind, t, o)
                        if self.stop.is_set():
                            break
                    resp.release_conn()
                    if expired:
                        break  # relist
            except Exception:  # a dropped watch, a restarting server, a 410: list again
                time.sleep(0.2)

    @staticmethod
    def key(o):
        m = o["metadata"]
        return m.get("namespace", "") + "/" + m["name"]

    # ---- the invariants ----
    def violate(self, kind, subject, message):
        if (kind, subject) in self.open_violations:
            return
        self.open_violations.add((kind, subject))
        self.counts[kind] += 1
        if len(self.violations) < 200:
            self.violations.append({"kind": kind, "subject": subject, "atVirtual": self.since_start(), "message": message})
        print(f"checker: VIOLATION {kind} {subject}: {message}", file=sys.stderr, flush=True)

    def clear(self, kind, subject):
        self.open_violations.discard((kind, subject))

    def evaluate(self, kind=None, type_=None, obj=None):
        if len(self.synced) < len(RESOURCES):
            return
        if kind == "leases":
            return
        if kind == "jobs" and obj is not None:
            self.note_job(obj)
        nodes = self.objs["nodes"].values()
        self.check_pdbs()
        self.check_zones(nodes)
        self.check_claims(nodes)
        self.check_spread(nodes)

    def note_job(self, job):
        labels = job["metadata"].get("labels") or {}
        campaign = labels.get("nonevent.dev/campaign")
        node = (job["metadata"].get("annotations") or {}).get("nonevent.dev/node")
        if not campaign or not node or not (job.get("status") or {}).get("succeeded"):
            return
        owner = next((r.get("uid") for r in job["metadata"].get("ownerReferences") or [] if r.get("kind") == "PatchCampaign"), campaign)
        done = self.patched.setdefault((owner, node), set())
        done.add(job["metadata"]["uid"])
        self.judged["patch"] += 1
        if len(done) > 1:
            self.violate("patch", f"{campaign}/{node}", f"node patched {len(done)} times by one campaign")

    @staticmethod
    def ready(o, cond="Ready"):
        return any(c.get("type") == cond and c.get("status") == "True" for c in (o.get("status") or {}).get("conditions") or [])

    @staticmethod
    def selects(selector, labels):
        for k, v in (selector.get("matchLabels") or {}).items():
            if labels.get(k) != v:
                return False
        for e in selector.get("matchExpressions") or []:
            k, op, vals = e["key"], e["operator"], e.get("values") or []
            if op == "In" and labels.get(k) not in vals:
                return False
            if op == "NotIn" and labels.get(k) in vals:
                return False
            if op == "Exists" and k not in labels:
                return False
            if op == "DoesNotExist" and k in labels:
                return False
        return True

    @staticmethod
    def scaled(v, total, round_up):
        if isinstance(v, int):
            return v
        pct = int(str(v).rstrip("%"))
        return math.ceil(pct * total / 100) if round_up else math.floor(pct * total / 100)

    def check_pdbs(self):
        for key, pdb in self.objs["pdbs"].items():
            ns = pdb["metadata"]["namespace"]
            spec = pdb.get("spec") or {}
            pods = [p for p in self.objs["pods"].values()
                    if p["metadata"]["namespace"] == ns and self.selects(spec.get("selector") or {}, p["metadata"].get("labels") or {})]
            healthy = sum(1 for p in pods if self.ready(p) and not p["metadata"].get("deletionTimestamp"))
            expected = self.expected_pods(ns, spec.get("selector") or {})
            if "minAvailable" in spec:
                desired = self.scaled(spec["minAvailable"], expected, True)
            else:
                desired = max(0, expected - self.scaled(spec.get("maxUnavailable", 0), expected, True))
            if key in self.pdb_armed and any(not self.ready(p) or p["metadata"].get("deletionTimestamp") for p in pods):
                self.judged["pdb"] += 1  # a budget in use: some pod is out
            if healthy >= desired:
                self.pdb_armed.add(key)
                self.clear("pdb", key)
            elif key in self.pdb_armed:
                self.violate("pdb", key, f"{healthy} healthy pods, budget needs {desired} of {expected}")

    def expected_pods(self, ns, selector):
        # The replicas of the Deployments whose pods the budget selects (as the disruption
        # controller finds them: through the pod template's labels).
        n = 0
        for d in self.objs["deployments"].values():
            if d["metadata"]["namespace"] != ns:
                continue
            tpl = ((d.get("spec") or {}).get("template") or {}).get("metadata") or {}
            if self.selects(selector, tpl.get("labels") or {}):
                n += (d.get("spec") or {}).get("replicas", 1)
        return n

    def held_zones(self):
        # A window holds its zones from its evacuation start (spec.start less evacuateBefore:
        # the operator cordons then, a moment before its status says Evacuating) until its
        # status says it is done.
        held = set()
        now = self.vnow()
        for w in self.objs["windows"].values():
            spec = w.get("spec") or {}
            phase = (w.get("status") or {}).get("phase", "")
            if phase in ("Completed", "Missed", "Failed", "Blocked") or "start" not in spec:
                continue
            if phase not in ("", "Scheduled") or now >= parse_time(spec["start"]) - parse_duration(spec.get("evacuateBefore", "0s")) - 1:
                held.update(spec.get("zones") or [])
        return held

    def check_zones(self, nodes):
        per_zone = {z: [n for n in nodes if (n["metadata"].get("labels") or {}).get(ZONE_LABEL) == z] for z in self.zones}
        serving = {z: sum(1 for n in ns if self.ready(n) and not (n.get("spec") or {}).get("unschedulable")
                          and not n["metadata"].get("deletionTimestamp")) for z, ns in per_zone.items()}
        schedulable = [z for z in self.zones if serving[z] > 0]
        if len(schedulable) < MIN_ZONES:
            self.violate("zones", "cluster", f"{len(schedulable)} schedulable zones ({','.join(schedulable)}), at least {MIN_ZONES} required")
        else:
            self.clear("zones", "cluster")
        # Each campaign is held to its own maxUnavailable, counting every node out in the zone
        # (other campaigns', other disruptors'), whenever it holds one of the zone's nodes out
        # itself: a campaign with maxUnavailable 0 that is waiting is not at fault for the
        # node another campaign, under a budget of 1, is patching.
        held = self.held_zones()
        size = self.args.nodes_per_zone
        for z in self.zones:
            if z in held:
                self.clear("zone", z)
                continue
            out = size - serving[z]
            unavailable = [n for n in per_zone[z] if not self.ready(n) or (n.get("spec") or {}).get("unschedulable")]
            at_fault = None
            for c in self.objs["campaigns"].values():
                if (c.get("status") or {}).get("phase") not in ("Progressing", "Paused"):
                    continue
                own = [n for n in unavailable
                       if (n["metadata"].get("annotations") or {}).get(CLAIM) == "PatchCampaign/" + c["metadata"]["name"]]
                if not own:
                    continue
                self.judged["zone"] += 1
                limit = self.scaled((c["spec"].get("strategy") or {}).get("maxUnavailable", 1), size, False)
                if out > limit:
                    at_fault = f"PatchCampaign/{c['metadata']['name']} (maxUnavailable {limit})"
            if at_fault:
                names = sorted(n["metadata"]["name"] for n in unavailable)
                self.violate("zone", z, f"{out} of {size} nodes unavailable ({', '.join(names)}) while {at_fault} holds some")
            else:
                self.clear("zone", z)

    def live_owner(self, claim):
        kind, _, name = claim.partition("/")
        coll = {"MaintenanceWindow": "windows", "PatchCampaign": "campaigns"}.get(kind)
        if not coll:
            return False
        o = self.objs[coll].get("/" + name)
        if not o or o["metadata"].get("deletionTimestamp") and not o["metadata"].get("finalizers"):
            return False
        phase = (o.get("status") or {}).get("phase", "")
        return phase not in ("Completed", "Failed", "Missed")

    def check_claims(self, nodes):
        now = self.vnow()
        for n in nodes:
            name = n["metadata"]["name"]
            claim = (n["metadata"].get("annotations") or {}).get(CLAIM)
            cordoned = (n.get("spec") or {}).get("unschedulable", False)
            bad = cordoned and not (claim and self.live_owner(claim))
            if cordoned:
                self.judged["claim"] += 1
            if not bad:
                self.claim_bad_since.pop(name, None)
                self.clear("claim", name)
                continue
            since = self.claim_bad_since.setdefault(name, now)
            if now - since > CLAIM_GRACE_S:
                self.violate("claim", name, f"cordoned for {int(now - since)} s with claim {claim!r} and no live owner")

    def check_spread(self, nodes):
        now = self.vnow()
        busy = any((w.get("status") or {}).get("phase", "") not in WINDOW_DONE for w in self.objs["windows"].values()) \
            or any((c.get("status") or {}).get("phase") == "Progressing" for c in self.objs["campaigns"].values()) \
            or any((n.get("spec") or {}).get("unschedulable") or not self.ready(n) for n in nodes) \
            or any((d.get("status") or {}).get("readyReplicas", 0) != (d.get("spec") or {}).get("replicas", 1)
                   or (d.get("status") or {}).get("updatedReplicas", 0) != (d.get("spec") or {}).get("replicas", 1)
                   for d in self.objs["deployments"].values())
        if busy:
            self.quiet_since = None
            for d in self.objs["deployments"]:
                self.clear("spread", d)
            return
        if self.quiet_since is None:
            self.quiet_since = now
        if now - self.quiet_since < SPREAD_SETTLE_S:
            return
        zone_of = {n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get(ZONE_LABEL) for n in nodes}
        for key, d in self.objs["deployments"].items():
            tpl = (d.get("spec") or {}).get("template") or {}
            for c in (tpl.get("spec") or {}).get("topologySpreadConstraints") or []:
                if c.get("topologyKey") != ZONE_LABEL or c.get("whenUnsatisfiable") != "DoNotSchedule":
                    continue
                counts = {z: 0 for z in self.zones}
                for p in self.objs["pods"].values():
                    if p["metadata"]["namespace"] != d["metadata"]["namespace"] or p["metadata"].get("deletionTimestamp"):
                        continue
                    if not self.selects(c.get("labelSelector") or {}, p["metadata"].get("labels") or {}):
                        continue
                    z = zone_of.get((p.get("spec") or {}).get("nodeName"))
                    if z in counts:
                        counts[z] += 1
                skew = max(counts.values()) - min(counts.values())
                self.judged["spread"] += 1
                if skew > c.get("maxSkew", 1):
                    self.violate("spread", key, f"skew {skew} > maxSkew {c.get('maxSkew', 1)}: {counts}")
                else:
                    self.clear("spread", key)

    # ---- the Lease, for failover times ----
    def follow_lease(self, api):
        ns, name = self.args.lease.split("/")
        path = f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}"
        while not self.stop.is_set():
            try:
                r = api.call_api(path, "GET", auth_settings=["BearerToken"], _preload_content=False, _request_timeout=5)
                holder = (json.loads(r[0].data).get("spec") or {}).get("holderIdentity")
                if holder != self.lease_holder:
                    self.lease_holder = holder
                    self.lease_transitions.append([time.time(), holder])
            except Exception:
                pass
            time.sleep(0.05)

    # ---- the end ----
    def final(self):
        with self.lock:
            left = []
            for n in self.objs["nodes"].values():
                ann = {k: v for k, v in (n["metadata"].get("annotations") or {}).items() if k.startswith("nonevent.dev/")}
                if ann or (n.get("spec") or {}).get("unschedulable"):
                    left.append(n["metadata"]["name"])
                    self.violate("leftover", n["metadata"]["name"],
                                 f"unschedulable={bool((n.get('spec') or {}).get('unschedulable'))} annotations={sorted(ann)}")
            return left


def parse_time(text):
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def parse_duration(text):
    import re
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"([0-9.]+)([hms])", text))


def lines(resp):
    buf = b""
    for chunk in resp.stream(4096):
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line


def self_test():
    """Each invariant fires on a state that breaks it and stays quiet on one that does not (a
    checker that cannot fail proves nothing). Run by ctest as soak.checker_self_test."""
    args = argparse.Namespace(zones="a,b,c", nodes_per_zone=2, scale=1.0, epoch=time.time(), lease="x/y")
    failures = []

    def node(name, zone, cordoned=False, ready=True, claim=None):
        ann = {CLAIM: claim} if claim else {}
        return {"metadata": {"name": name, "labels": {ZONE_LABEL: zone}, "annotations": ann},
                "spec": {"unschedulable": cordoned}, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}

    def pod(name, node_name, ready=True):
        return {"metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}}, "spec": {"nodeName": node_name},
                "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}

    spread_rule = {"maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "DoNotSchedule",
                   "labelSelector": {"matchLabels": {"app": "web"}}}
    deployment = {"metadata": {"name": "web", "namespace": "shop"},
                  "spec": {"replicas": 6, "template": {"metadata": {"labels": {"app": "web"}},
                                                       "spec": {"topologySpreadConstraints": [spread_rule]}}},
                  "status": {"readyReplicas": 6, "updatedReplicas": 6}}
    pdb = {"metadata": {"name": "web", "namespace": "shop"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}
    campaign = {"metadata": {"name": "c"}, "spec": {"strategy": {"maxUnavailable": 1}}, "status": {"phase": "Progressing"}}

    def world(nodes, pods, campaigns=(), windows=()):
        c = Checker(args)
        c.synced = set(RESOURCES)
        c.objs["nodes"] = {"/" + n["metadata"]["name"]: n for n in nodes}
        c.objs["pods"] = {"shop/" + p["metadata"]["name"]: p for p in pods}
        c.objs["deployments"] = {"shop/web": deployment}
        c.objs["pdbs"] = {"shop/web": pdb}
        c.objs["campaigns"] = {"/" + x["metadata"]["name"]: x for x in campaigns}
        c.objs["windows"] = {"/" + x["metadata"]["name"]: x for x in windows}
        return c

    nodes = [node(f"{z}{i}", z) for z in "abc" for i in range(2)]
    spread = [pod(f"p{i}", f"{'abc'[i % 3]}{i % 2}") for i in range(6)]

    def expect(c, kinds, what):
        got = {k for k, v in c.counts.items() if v}
        if got != set(kinds):
            failures.append(f"{what}: expected {sorted(kinds)}, got {sorted(got)} {c.violations}")

    c = world(nodes, spread)
    c.evaluate()
    c.quiet_since -= SPREAD_SETTLE_S + 1
    c.evaluate()
    expect(c, [], "a settled, spread cluster")
    c.objs["pods"]["shop/p0"]["status"]["conditions"][0]["status"] = "False"
    c.objs["pods"]["shop/p1"]["status"]["conditions"][0]["status"] = "False"
    c.evaluate()
    expect(c, ["pdb"], "two of six pods down under maxUnavailable 1")
    piled = [pod(f"p{i}", "a0" if i < 4 else "b0") for i in range(6)]
    c = world(nodes, piled)
    c.evaluate()
    c.quiet_since -= SPREAD_SETTLE_S + 1
    c.evaluate()
    expect(c, ["spread"], "four of six in one zone with maxSkew 1")
    two_out = [node("a0", "a", cordoned=True, claim="PatchCampaign/c"), node("a1", "a", ready=False)] + nodes[2:]
    c = world(two_out, spread, campaigns=[campaign])
    c.evaluate()
    expect(c, ["zone"], "two nodes of a zone out under maxUnavailable 1")
    strict = {"metadata": {"name": "strict"}, "spec": {"strategy": {"maxUnavailable": 0}}, "status": {"phase": "Progressing"}}
    one_out = [node("a0", "a", ready=False, claim="PatchCampaign/c")] + nodes[1:]
    c = world(one_out, spread, campaigns=[campaign, strict])
    c.evaluate()
    expect(c, [], "one node out for a campaign with maxUnavailable 1 beside a waiting one with 0")
    zones_out = [node(f"{z}{i}", z, cordoned=True, claim="MaintenanceWindow/w") for z in "ab" for i in range(2)] + nodes[4:]
    window = {"metadata": {"name": "w"}, "spec": {"zones": ["a", "b"], "start": "2000-01-01T00:00:00Z", "evacuateBefore": "1h"},
              "status": {"phase": "Evacuated"}}
    c = world(zones_out, spread, windows=[window])
    c.evaluate()
    expect(c, ["zones"], "two of three zones cordoned, minAvailableZones 2")
    orphan = [node("a0", "a", cordoned=True, claim="PatchCampaign/gone")] + nodes[1:]
    c = world(orphan, spread)
    c.evaluate()
    c.claim_bad_since["a0"] -= CLAIM_GRACE_S + 1
    c.evaluate()
    expect(c, ["claim"], "a node cordoned for a campaign that no longer exists")
    c = world(nodes, spread)
    for uid in ("j1", "j2"):
        c.note_job({"metadata": {"uid": uid, "labels": {"nonevent.dev/campaign": "c"}, "annotations": {"nonevent.dev/node": "a0"},
                                 "ownerReferences": [{"kind": "PatchCampaign", "uid": "cu"}]}, "status": {"succeeded": 1}})
    expect(c, ["patch"], "one node patched twice by one campaign")
    c = world([node("a0", "a", claim="PatchCampaign/c")] + nodes[1:], spread)
    c.final()
    expect(c, ["leftover"], "a node still claimed at the end")
    for f in failures:
        print("FAIL " + f)
    print("checker self-test: " + ("FAILED" if failures else "ok, every invariant fires and a healthy cluster passes"))
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=float, required=True)
    ap.add_argument("--epoch", type=float, required=True)
    ap.add_argument("--zones", required=True)
    ap.add_argument("--nodes-per-zone", type=int, required=True)
    ap.add_argument("--lease", default="nonevent-system/nonevent-operator")
    args = ap.parse_args()
    config.load_kube_config(args.kubeconfig)
    checker = Checker(args)
    threads = []
    for kind, path in RESOURCES.items():
        api = client.ApiClient()  # one connection pool per watch
        t = threading.Thread(target=checker.follow, args=(kind, path, api), daemon=True)
        t.start()
        threads.append(t)
    threading.Thread(target=checker.follow_lease, args=(client.ApiClient(),), daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    left = checker.final()
    checker.stop.set()
    with checker.lock:
        out = {
            "violations": checker.violations,
            "counts": checker.counts,
            "judged": checker.judged,
            "events": checker.events,
            "relists": checker.relists,
            "leaseTransitions": checker.lease_transitions,
            "nodesLeftClaimed": len(left),
            "synced": sorted(checker.synced),
        }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    sys.stdout.flush()
    import os
    os._exit(0)


if __name__ == "__main__":
    main()
