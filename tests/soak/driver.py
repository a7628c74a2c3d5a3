#!/usr/bin/python3
"""The soak (issue 28.1), run by hack/soak.sh: real processes on loopback, killed and restarted
while a workload of MaintenanceWindows and PatchCampaigns runs, watched by an independent
checker (checker.py, its own process).

  - `nonevent sim serve` with API faults, dropped watches and compaction, restarted now and
    then keeping its storage (--state), as kube-apiserver restarts over the same etcd;
  - two `nonevent operator --leader-elect` replicas; the chaos loop kill -9s the leader (and
    sometimes the standby, sometimes both) at random instants and starts them again; a
    replica that exits by itself (lost its Lease) is started again too;
  - every virtual hour: a one-off window on the next zone (and, every third hour, a second
    window on another zone overlapping it, which the zone floor must hold back), and a
    campaign, in turn: InPlace; Replace with maxSurge 1 on Cluster API machines; InPlace with
    one node whose patch fails; InPlace paused and resumed half way;
  - at the end: chaos stops, the last CRs finish, every CR is deleted, and the checker says
    what it saw. Prints `<metric> <value> <unit>` lines; exits 1 on any violation.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
NODES_PER_ZONE = 4
GROUP, VERSION = "nonevent.dev", "v1alpha1"
FAULTS = [
    "verb=patch,resource=nodes,code=500,rate=0.05",
    "verb=create,resource=pods/eviction,code=429,rate=0.1",
    "verb=*,resource=patchcampaigns/status,code=409,rate=0.05",
    "verb=*,resource=maintenancewindows/status,code=503,rate=0.05",
    "verb=create,resource=jobs,code=500,rate=0.05",
    "verb=list,resource=pods,code=503,rate=0.02",
    "verb=*,resource=*,code=500,rate=0.005,latency=5ms",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg):
    print(f"soak: {time.strftime('%H:%M:%S')} {msg}", flush=True)


class Soak:
    def __init__(self, args):
        self.a = args
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.scale = args.time_scale
        self.epoch = int(time.time())
        self.port = free_port()
        self.kubeconfig = os.path.join(self.work, "kubeconfig")
        self.state = os.path.join(self.work, "sim.state")
        self.rng = random.Random(args.seed)
        self.lock = threading.RLock()
        self.sim = None
        self.ops = {"a": None, "b": None}
        self.op_ports = {"a": free_port(), "b": free_port()}
        self.op_incarnation = {"a": 0, "b": 0}
        self.leader_kills = 0
        self.standby_kills = 0
        self.self_exits = 0
        self.sim_restarts = 0
        self.faults_injected = 0
        self.kill_times = []     # real times the leader was killed
        self.rss = []            # (virtual s since start, kb)
        self.chaos_on = threading.Event()
        self.stopping = threading.Event()
        self.errors = []

    # ---- time ----
    def vnow(self):
        return self.epoch + (time.time() - self.epoch) * self.scale

    def vtext(self, v):
        return datetime.fromtimestamp(v, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def sleep_virtual(self, seconds):
        end = time.time() + seconds / self.scale
        while not self.stopping.is_set() and time.time() < end:
            time.sleep(min(0.1, end - time.time()) if end > time.time() else 0)

    # ---- processes ----
    def start_sim(self):
        cmd = [self.a.binary, "sim", "serve", "--cluster", os.path.join(HERE, "cluster.yaml"),
               "--manifests", os.path.join(self.a.source, "crds"), "--manifests", os.path.join(HERE, "manifests.yaml"),
               "--listen", f"127.0.0.1:{self.port}", "--kubeconfig-out", self.kubeconfig, "--state", self.state,
               "--time-scale", str(self.scale), "--time-epoch", str(self.epoch), "--seed", str(self.a.seed + self.sim_restarts),
               "--drop-watches-every", "20s", "--compact-every", "45s"]
        for f in FAULTS:
            cmd += ["--fault", f]
        out = open(os.path.join(self.work, "sim.log"), "a")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=out, text=True)
        line = p.stdout.readline()
        if not line.startswith("listening on"):
            raise RuntimeError(f"sim serve did not start (see {self.work}/sim.log): {line!r}")
        threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
        self.sim = p

    def restart_sim(self):
        self.read_faults()
        self.sim.send_signal(signal.SIGTERM)
        try:
            rc = self.sim.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # Its threads' stacks say where it hangs; then it is killed, and restarts from the
            # storage it saved last time: the cluster goes back in time, so what the checker
            # sees after that is suspect (the run fails on this error anyway).
            dump = os.path.join(self.work, f"sim-hang-{self.sim_restarts}.txt")
            if shutil.which("gdb"):
                subprocess.run(["gdb", "-p", str(self.sim.pid), "-batch", "-ex", "thread apply all bt"],
                               stdout=open(dump, "w"), stderr=subprocess.STDOUT, timeout=120, check=False)
            self.errors.append(f"sim serve did not stop within 60 s of SIGTERM (stacks in {dump}); killed, its storage rolled back")
            self.sim.kill()
            rc = self.sim.wait()
        if rc != 0:
            self.errors.append(f"sim serve exited {rc} when stopped")
        self.sim_restarts += 1
        time.sleep(self.rng.uniform(0.2, 1.0))  # the server is away for a moment
        self.start_sim()

    def read_faults(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/sim/v1/faults", timeout=2) as r:
                self.faults_seen_this_run = json.load(r)["injected"]
        except Exception:
            return
        self.faults_injected_base = getattr(self, "faults_injected_base", 0)
        self.faults_injected = self.faults_injected_base + self.faults_seen_this_run

    def start_operator(self, name):
        self.op_incarnation[name] += 1
        lease = self.a.lease_seconds
        cmd = [self.a.binary, "operator", "--kubeconfig", self.kubeconfig, "--leader-elect", "--namespace", "nonevent-system",
               "--metrics-bind-address", f"127.0.0.1:{self.op_ports[name]}",
               "--leader-elect-lease-duration", f"{lease * self.scale:.0f}s",
               "--leader-elect-renew-deadline", f"{lease * 2 / 3 * self.scale:.0f}s",
               "--leader-elect-retry-period", f"{lease / 8 * self.scale:.0f}s",
               "--time-scale", str(self.scale), "--time-epoch", str(self.epoch), "--log-format", "json"]
        out = open(os.path.join(self.work, f"operator-{name}.log"), "a")
        out.write(json.dumps({"soak": f"incarnation {self.op_incarnation[name]}"}) + "\n")
        out.flush()
        self.ops[name] = subprocess.Popen(cmd, stdout=out, stderr=out)

    def leading(self, name):
        p = self.ops[name]
        if not p or p.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.op_ports[name]}/metrics", timeout=1) as r:
                return re.search(rb"^nonevent_leader 1", r.read(), re.M) is not None
        except Exception:
            return False

    # ---- loops ----
    def supervise(self):
        """Starts again a replica that exited by itself; samples RSS; keeps the faults count."""
        last_faults = 0
        while not self.stopping.is_set():
            with self.lock:
                for name, p in self.ops.items():
                    if p and p.poll() is not None and not getattr(p, "killed", False):
                        self.self_exits += 1
                        log(f"operator {name} exited by itself ({p.returncode}); starting it again")
                        self.start_operator(name)
                    elif p and p.poll() is None:
                        try:
                            with open(f"/proc/{p.pid}/status") as f:
                                kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
                            self.rss.append((self.vnow() - self.epoch, kb))
                        except Exception:
                            pass
                if time.time() - last_faults > 2:
                    self.read_faults()
                    last_faults = time.time()
            time.sleep(0.5)

    def chaos(self):
        next_sim = time.time() + self.rng.uniform(30, 60)
        while not self.stopping.is_set():
            time.sleep(self.rng.uniform(*self.a.kill_every))
            if not self.chaos_on.is_set():
                continue
            with self.lock:
                if time.time() >= next_sim:
                    log("restarting sim serve (storage kept)")
                    self.faults_injected_base = self.faults_injected
                    self.faults_seen_this_run = 0
                    self.restart_sim()
                    next_sim = time.time() + self.rng.uniform(30, 60)
                    continue
                leader = next((n for n in self.ops if self.leading(n)), None)
                roll = self.rng.random()
                if leader is None:
                    continue  # between leaders: try again later
                standby = "b" if leader == "a" else "a"
                victims = [leader] if roll < 0.7 else [standby] if roll < 0.85 else [leader, standby]
                for v in victims:
                    p = self.ops[v]
                    if p and p.poll() is None:
                        p.killed = True
                        p.kill()
                        p.wait()
                if leader in victims:
                    self.leader_kills += 1
                    self.kill_times.append(time.time())
                if standby in victims:
                    self.standby_kills += 1
                log(f"kill -9 {'+'.join('leader ' + v if v == leader else 'standby ' + v for v in victims)}")
            time.sleep(self.rng.uniform(0.2, 2.0))
            with self.lock:
                for v in victims:
                    self.start_operator(v)

    # ---- the workload ----
    def api(self):
        from kubernetes import client, config
        config.load_kube_config(self.kubeconfig)
        return client

    def retry(self, fn, what):
        for attempt in range(60):
            try:
                return fn()
            except Exception as e:  # faults, a restarting server
                status = getattr(e, "status", None)
                if status in (404, 409) and what.startswith("delete"):
                    return None
                if status == 409 and what.startswith("create"):
                    return None
                time.sleep(0.25)
        self.errors.append(f"{what}: gave up after 60 tries")
        return None

    def scenario(self, hours):
        k8s = self.api()
        co, core = k8s.CustomObjectsApi(), k8s.CoreV1Api()
        # The first nodes' Cluster API annotations (the sim's machine controller writes them on
        # the nodes it makes).
        for z in ZONES:
            for i in range(NODES_PER_ZONE):
                n = f"general-{z}-{i}"
                self.retry(lambda: core.patch_node(n, {"metadata": {"annotations": {
                    "cluster.x-k8s.io/machine": n, "cluster.x-k8s.io/cluster-namespace": "capi",
                    "cluster.x-k8s.io/owner-kind": "MachineDeployment", "cluster.x-k8s.io/owner-name": f"md-{z}"}}}), f"annotate {n}")
        hour = 0
        start = self.vnow()
        self.created = []
        while not self.stopping.is_set() and self.vnow() < start + hours * 3600:
            t0 = self.vnow()
            self.cycle(co, core, hour, t0)
            hour += 1
            while not self.stopping.is_set() and self.vnow() < t0 + 3600 and self.vnow() < start + hours * 3600:
                time.sleep(0.1)
        self.cycles = hour

    def cycle(self, co, core, hour, t0):
        zone = ZONES[hour % len(ZONES)]
        window = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "MaintenanceWindow", "metadata": {"name": f"soak-w{hour}"},
                  "spec": {"zones": [zone], "start": self.vtext(t0 + 25 * 60), "end": self.vtext(t0 + 40 * 60),
                           "evacuateBefore": "10m", "safety": {"minAvailableZones": 2}, "drain": {"onBlocked": "Wait"}}}
        self.create(co, "maintenancewindows", window)
        if hour % 3 == 2:  # a second zone at the same time: the floor must hold one back
            other = dict(window, metadata={"name": f"soak-w{hour}-overlap"})
            other["spec"] = dict(window["spec"], zones=[ZONES[(hour + 1) % len(ZONES)]],
                                 start=self.vtext(t0 + 28 * 60), end=self.vtext(t0 + 43 * 60))
            self.create(co, "maintenancewindows", other)
        # Delete what is two hours old (their finalizers release anything still held).
        for plural, name in list(self.created):
            m = re.search(r"-[wc](\d+)", name)
            if m and int(m.group(1)) <= hour - 2:
                self.retry(lambda: co.delete_cluster_custom_object(GROUP, VERSION, plural, name), f"delete {plural}/{name}")
                self.created.remove((plural, name))
        self.sleep_virtual(60)
        version = f"v{hour + 2}"
        kind = hour % 4
        strategy = {"type": "InPlace", "maxUnavailable": 1, "canary": {"nodes": 1, "soak": "2m"}}
        spec = {"target": {"version": version}, "deadline": "6h", "failurePolicy": {"maxFailedNodes": 1, "action": "Pause"},
                "inPlace": {"timeout": "10m", "jobTemplate": {"spec": {"restartPolicy": "Never", "containers": [
                    {"name": "patch", "image": "registry.example.com/ops/node-patcher:1", "args": ["--to", version]}]}}}}
        failing = None
        if kind == 1:
            strategy = {"type": "Replace", "maxUnavailable": 0, "maxSurge": 1}
            spec.pop("inPlace")
            spec["replace"] = {"timeout": "20m"}
            self.retry(lambda: core.patch_namespaced_config_map("nonevent-sim-provisioner", "kube-system",
                                                                {"data": {"imageVersion": version}}), "provisioner version")
        elif kind == 2:
            nodes = self.retry(lambda: core.list_node(), "list nodes")
            if nodes and nodes.items:
                failing = self.rng.choice(nodes.items).metadata.name
                self.retry(lambda: core.patch_node(failing, {"metadata": {"annotations": {"sim.nonevent.dev/job-exit-code": "3"}}}),
                           f"make {failing}'s patch fail")
        spec["strategy"] = strategy
        name = f"soak-c{hour}"
        self.create(co, "patchcampaigns", {"apiVersion": f"{GROUP}/{VERSION}", "kind": "PatchCampaign",
                                           "metadata": {"name": name}, "spec": spec})
        log(f"hour {hour}: window on {zone}, campaign {name} ({['InPlace', 'Replace+surge', 'InPlace, failing node ' + str(failing), 'InPlace, paused and resumed'][kind]})")
        if kind == 3:
            self.sleep_virtual(8 * 60)
            self.retry(lambda: co.patch_cluster_custom_object(GROUP, VERSION, "patchcampaigns", name, {"spec": {"paused": True}}), "pause")
            self.sleep_virtual(6 * 60)
            self.retry(lambda: co.patch_cluster_custom_object(GROUP, VERSION, "patchcampaigns", name, {"spec": {"paused": False}}), "resume")
        if failing:
            self.sleep_virtual(30 * 60)
            self.retry(lambda: core.patch_node(failing, {"metadata": {"annotations": {"sim.nonevent.dev/job-exit-code": None}}}),
                       f"mend {failing}")

    def create(self, co, plural, obj):
        self.retry(lambda: co.create_cluster_custom_object(GROUP, VERSION, plural, obj), f"create {plural}/{obj['metadata']['name']}")
        self.created.append((plural, obj["metadata"]["name"]))

    def wind_down(self, co):
        """Chaos off: the CRs left finish (paused ones resumed), then every CR is deleted."""
        deadline = time.time() + self.a.settle_seconds
        while time.time() < deadline:
            windows = self.retry(lambda: co.list_cluster_custom_object(GROUP, VERSION, "maintenancewindows"), "list windows") or {"items": []}
            campaigns = self.retry(lambda: co.list_cluster_custom_object(GROUP, VERSION, "patchcampaigns"), "list campaigns") or {"items": []}
            open_windows = [w["metadata"]["name"] for w in windows["items"]
                            if (w.get("status") or {}).get("phase") not in ("Completed", "Missed", "Failed", "Blocked")
                            and self.vnow() < datetime.strptime(w["spec"]["end"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() + 3600]
            open_campaigns = [c["metadata"]["name"] for c in campaigns["items"] if (c.get("status") or {}).get("phase") not in ("Completed", "Failed")]
            if not open_windows and not open_campaigns:
                break
            time.sleep(1)
        else:
            log(f"still open after {self.a.settle_seconds} s: windows {open_windows}, campaigns {open_campaigns} (deleted anyway)")
        self.unfinished = len(open_windows) + len(open_campaigns)
        for plural in ("maintenancewindows", "patchcampaigns"):
            items = self.retry(lambda: co.list_cluster_custom_object(GROUP, VERSION, plural), f"list {plural}") or {"items": []}
            for o in items["items"]:
                self.retry(lambda: co.delete_cluster_custom_object(GROUP, VERSION, plural, o["metadata"]["name"]), f"delete {plural}")
        deadline = time.time() + 60
        while time.time() < deadline:
            left = sum(len((self.retry(lambda: co.list_cluster_custom_object(GROUP, VERSION, p), "list") or {"items": []})["items"])
                       for p in ("maintenancewindows", "patchcampaigns"))
            if left == 0:
                break
            time.sleep(0.5)
        else:
            self.errors.append(f"{left} CRs still present 60 s after their deletion (finalizers not released)")
        time.sleep(3)  # the last releases reach the checker

    def run(self):
        self.start_sim()
        checker_out = os.path.join(self.work, "checker.json")
        checker = subprocess.Popen([sys.executable, os.path.join(HERE, "checker.py"), "--kubeconfig", self.kubeconfig,
                                    "--out", checker_out, "--scale", str(self.scale), "--epoch", str(self.epoch),
                                    "--zones", ",".join(ZONES), "--nodes-per-zone", str(NODES_PER_ZONE)],
                                   stdout=open(os.path.join(self.work, "checker.log"), "a"), stderr=subprocess.STDOUT)
        for n in self.ops:
            self.start_operator(n)
        threading.Thread(target=self.supervise, daemon=True).start()
        threading.Thread(target=self.chaos, daemon=True).start()
        self.chaos_on.set()
        begun = time.time()
        hours = self.a.minutes * 60 * self.scale / 3600
        log(f"{self.a.minutes} min at {self.scale}x: {hours:.1f} virtual hours; work dir {self.work}")
        try:
            self.scenario(hours)
            self.chaos_on.clear()
            time.sleep(0.5)
            with self.lock:  # both replicas up for the wind-down
                for n, p in self.ops.items():
                    if not p or p.poll() is not None:
                        self.start_operator(n)
                if self.sim.poll() is not None:
                    self.start_sim()
            log("chaos off; letting the last windows and campaigns finish")
            co = self.api().CustomObjectsApi()
            for c in (self.retry(lambda: co.list_cluster_custom_object(GROUP, VERSION, "patchcampaigns"), "list") or {"items": []})["items"]:
                if (c.get("spec") or {}).get("paused"):
                    self.retry(lambda: co.patch_cluster_custom_object(GROUP, VERSION, "patchcampaigns", c["metadata"]["name"],
                                                                      {"spec": {"paused": False}}), "resume")
            self.wind_down(co)
        finally:
            checker.send_signal(signal.SIGTERM)
            try:
                checker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                checker.kill()
                self.errors.append("the checker did not stop")
            self.stopping.set()
            self.read_faults()
            with self.lock:
                for p in self.ops.values():
                    if p and p.poll() is None:
                        p.killed = True
                        p.terminate()
                for p in self.ops.values():
                    if p:
                        try:
                            p.wait(timeout=10)
                        except subprocess.TimeoutExpired:
                            p.kill()
                self.sim.send_signal(signal.SIGTERM)
                try:
                    self.sim.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.sim.kill()
        return self.report(checker_out, time.time() - begun)

    def report(self, checker_out, elapsed):
        try:
            with open(checker_out) as f:
                seen = json.load(f)
        except Exception as e:
            print(f"soak: the checker wrote no results ({e}); see {self.work}/checker.log", file=sys.stderr)
            return 1
        # Failover: from a leader's kill to the Lease changing hands, as the checker saw it.
        transitions = seen["leaseTransitions"]
        gaps = []
        for k in self.kill_times:
            after = [t for t, holder in transitions if t > k and holder]
            if after:
                gaps.append((after[0] - k) * self.scale)
        failovers = sum(1 for i in range(1, len(transitions)) if transitions[i][1] and transitions[i][1] != transitions[i - 1][1])
        hour_s = 3600
        first = [kb for v, kb in self.rss if v <= hour_s]
        last_start = max((v for v, _ in self.rss), default=0) - hour_s
        last = [kb for v, kb in self.rss if v >= last_start]
        growth = (max(last) - max(first)) / 1024 if first and last else None
        violations = sum(seen["counts"].values())
        metrics = [
            ("soak_virtual_h", f"{(self.vnow() - self.epoch) / 3600:.1f}", "h"),
            ("soak_real_min", f"{elapsed / 60:.1f}", "min"),
            ("leader_kills", self.leader_kills, "kills"),
            ("standby_kills", self.standby_kills, "kills"),
            ("operator_self_exits", self.self_exits, "exits"),
            ("failovers", failovers, "transitions"),
            ("max_failover_gap_s", f"{max(gaps):.0f}" if gaps else "n/a", "virtual s"),
            ("sim_restarts", self.sim_restarts, "restarts"),
            ("faults_injected", self.faults_injected, "requests"),
            ("checker_events", seen["events"], "events"),
            ("checker_relists", seen["relists"], "lists"),
            ("invariant_violations", violations, "violations"),
            ("nodes_left_claimed", seen["nodesLeftClaimed"], "nodes"),
            ("crs_unfinished_at_end", getattr(self, "unfinished", "n/a"), "CRs"),
            ("operator_rss_growth_mb", f"{growth:.1f}" if growth is not None else "n/a", "MB"),
        ]
        for m, v, u in metrics:
            print(f"{m} {v} {u}")
        print("soak: invariants judged (states where each could have failed): " +
              ", ".join(f"{k} {v}" for k, v in seen["judged"].items()), file=sys.stderr)
        for kind, n in seen["counts"].items():
            if n:
                print(f"soak: {n} {kind} violation(s)", file=sys.stderr)
        for v in seen["violations"][:20]:
            print(f"soak: violation: {json.dumps(v)}", file=sys.stderr)
        for e in self.errors:
            print(f"soak: error: {e}", file=sys.stderr)
        # A soak that did nothing proves nothing: refuse to pass it.
        idle = [k for k, v in seen["judged"].items() if v == 0]
        if self.leader_kills == 0 or seen["events"] == 0 or self.faults_injected == 0 or failovers == 0 or idle:
            print("soak: the run exercised too little (a leader kill, a fault, events, a failover, and something for every "
                  f"invariant to judge are needed; nothing to judge: {idle}): not a pass", file=sys.stderr)
            return 1
        return 1 if violations or self.errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True, help="the repository (for crds/)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--time-scale", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lease-seconds", type=float, default=2.0, help="the Lease's duration in real seconds")
    ap.add_argument("--kill-every", type=float, nargs=2, default=(4, 10), help="real seconds between chaos actions (min max)")
    ap.add_argument("--settle-seconds", type=float, default=120, help="real seconds the last CRs get to finish")
    a = ap.parse_args()
    sys.exit(Soak(a).run())


if __name__ == "__main__":
    main()
