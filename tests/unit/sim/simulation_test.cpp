// The simulated cluster on virtual time: controllers, scheduler, kubelets, PDB arithmetic,
// evictions, graceful termination, provisioning, the spread trap — asserted on the
// resulting cluster state.
#include <gtest/gtest.h>

#include <set>

#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"
#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using web::json::value;
using namespace std::chrono_literals;

TEST(Simulation, DeploymentRollsOutSpreadAndReady) {
  Cluster k;
  k.apply(web_yaml(6));
  k.run(30s);
  EXPECT_EQ(k.ready_pods_per_zone("web"), (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
  auto d = k.get("apps/deployments", "shop", "web");
  EXPECT_EQ(json::num(d, {"status", "readyReplicas"}), 6);
  EXPECT_EQ(json::num(d, {"status", "availableReplicas"}), 6);
  EXPECT_EQ(k.list("apps/replicasets", "shop").size(), 1u);
  auto pdb = k.get("policy/poddisruptionbudgets", "shop", "web");
  EXPECT_EQ(json::num(pdb, {"status", "expectedPods"}), 6);
  EXPECT_EQ(json::num(pdb, {"status", "desiredHealthy"}), 5);
  EXPECT_EQ(json::num(pdb, {"status", "currentHealthy"}), 6);
  EXPECT_EQ(json::num(pdb, {"status", "disruptionsAllowed"}), 1);
}

TEST(Simulation, ASettledClusterMakesNoWrites) {
  // A controller that rewrites an unchanged status every pass would spin the simulation.
  Cluster k;
  k.apply(web_yaml(6));
  k.run(30s);
  auto pods = k.list("/pods", "shop");
  EXPECT_EQ(k.evict("shop", json::name(pods[0])).status, 201);
  k.run(120s);  // past the disruptedPods expiry
  const auto writes = k.sim->stats().writes;
  const auto passes = k.sim->stats().passes;
  k.run(300s);
  EXPECT_EQ(k.sim->stats().writes, writes);
  EXPECT_LE(k.sim->stats().passes - passes, 2);
  auto pdb = k.get("policy/poddisruptionbudgets", "shop", "web");
  EXPECT_FALSE(json::at(pdb, {"status", "disruptedPods"})) << pdb.serialize();
}

TEST(Simulation, PodsStartAndBecomeReadyOnTheClusterTimings) {
  Cluster k;
  k.apply(web_yaml(3));
  k.run(1s);
  EXPECT_TRUE(k.ready_pods_per_zone("web").empty()) << "podStartSeconds 2 + podReadySeconds 3";
  k.run(3s);  // t=4: running, not ready
  int running = 0;
  for (const auto& p : k.list("/pods", "shop")) running += json::str(p, {"status", "phase"}) == "Running";
  EXPECT_EQ(running, 3);
  EXPECT_TRUE(k.ready_pods_per_zone("web").empty());
  k.run(2s);
  EXPECT_EQ(k.ready_pods_per_zone("web").size(), 3u);
}

TEST(Simulation, TheKubeletsStatusKeepsItsStartTimeAndIpAndReportsTheContainers) {
  // The kubelet writes a pod's status twice (Running, then Ready), from the decoded pod and
  // what it wrote the first time; a pod that came with a startTime and podIP keeps them.
  Cluster k;
  k.apply(web_yaml(1));
  k.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: given, namespace: shop}\n"
          "spec: {containers: [{name: a, image: busybox}, {name: b, image: redis}]}\n"
          "status: {phase: Pending, startTime: '2026-11-30T23:00:00Z', podIP: 10.9.8.7}\n");
  // The kubelet writes the status as text: what is stored must be what the store writes
  // for that object (compact, members in key order), and field selectors see its phase.
  auto expect_stored_as_the_store_writes = [&] {
    for (const auto& p : k.list("/pods", "shop")) {
      const auto stored = k.store->get("/pods", "shop", json::str(p, {"metadata", "name"}));
      ASSERT_TRUE(stored);
      std::error_code ec;
      EXPECT_EQ(stored->json, model::to_json(model::parse_json(stored->json, ec)));
      EXPECT_EQ(stored->fields.at("status.phase"), "Running");
    }
  };
  k.run(4s);  // t=4: running, not ready
  expect_stored_as_the_store_writes();
  std::map<std::string, value> running;
  for (const auto& p : k.list("/pods", "shop")) running[json::str(p, {"metadata", "name"})] = p;
  ASSERT_EQ(running.size(), 2u);
  k.run(4s);  // ready
  expect_stored_as_the_store_writes();
  for (const auto& p : k.list("/pods", "shop")) {
    const auto name = json::str(p, {"metadata", "name"});
    SCOPED_TRACE(name);
    const value& before = running.at(name);
    EXPECT_EQ(json::str(before, {"status", "phase"}), "Running");
    EXPECT_FALSE(json::pod_ready(before));
    EXPECT_TRUE(json::pod_ready(p));
    EXPECT_EQ(json::str(p, {"status", "startTime"}), json::str(before, {"status", "startTime"}));
    EXPECT_EQ(json::str(p, {"status", "podIP"}), json::str(before, {"status", "podIP"}));
    EXPECT_FALSE(json::str(p, {"status", "podIP"}).empty());
    const value& conditions = p.at("status").at("conditions");
    for (size_t i = 0; i < conditions.size(); ++i)
      if (json::str(conditions.at(i), {"type"}) == "PodScheduled") {
        EXPECT_EQ(json::str(conditions.at(i), {"lastTransitionTime"}), json::str(p, {"metadata", "creationTimestamp"}));
      }
    const value& spec_containers = p.at("spec").at("containers");
    const value& statuses = p.at("status").at("containerStatuses");
    ASSERT_EQ(statuses.size(), spec_containers.size());
    for (size_t i = 0; i < statuses.size(); ++i) {
      EXPECT_EQ(json::str(statuses.at(i), {"name"}), json::str(spec_containers.at(i), {"name"}));
      EXPECT_EQ(json::str(statuses.at(i), {"image"}), json::str(spec_containers.at(i), {"image"}));
      EXPECT_TRUE(statuses.at(i).at("ready").as_bool());
    }
  }
  EXPECT_EQ(json::str(running.at("given"), {"status", "startTime"}), "2026-11-30T23:00:00Z");
  EXPECT_EQ(json::str(running.at("given"), {"status", "podIP"}), "10.9.8.7");
  for (const auto& [name, p] : running)
    if (name != "given") {
      EXPECT_EQ(json::str(p, {"status", "startTime"}), "2026-12-01T00:00:02Z") << "started in the simulation";
    }
}

TEST(Simulation, EvictionsSpendTheBudgetAndControllersReplaceThePods) {
  Cluster k;
  k.apply(web_yaml(6));
  k.run(30s);
  auto pods = k.list("/pods", "shop");
  auto first = k.evict("shop", json::name(pods[0]));
  EXPECT_EQ(first.status, 201) << first.body;
  auto second = k.evict("shop", json::name(pods[1]));
  EXPECT_EQ(second.status, 429) << "maxUnavailable 1 is spent";
  EXPECT_NE(second.body.find("DisruptionBudget"), std::string::npos);
  // The evicted pod terminates gracefully (terminationSeconds 5); a replacement comes up.
  EXPECT_TRUE(json::terminating(k.get("/pods", "shop", json::name(pods[0]))));
  k.run(30s);
  EXPECT_TRUE(k.get("/pods", "shop", json::name(pods[0])).is_null());
  int ready = 0;
  for (auto [z, n] : k.ready_pods_per_zone("web")) ready += n;
  EXPECT_EQ(ready, 6);
  EXPECT_EQ(json::num(k.get("policy/poddisruptionbudgets", "shop", "web"), {"status", "disruptionsAllowed"}), 1);
  EXPECT_EQ(k.evict("shop", json::name(pods[1])).status, 201) << "budget restored once the replacement is Ready";
}

TEST(Simulation, AnUnhealthyPodIsEvictedAsItsPdbsPolicySays) {
  // No simulation steps: the pods' readiness and the PDB's status are as written here.
  Cluster k;
  const auto node = json::name(k.list("/nodes")[0]);
  for (const auto& [name, ready] : {std::pair<std::string, bool>{"r1", true}, {"r2", true}, {"u1", false}, {"u2", false}})
    k.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop, labels: {app: x}}\n"
            "spec: {nodeName: " + node + ", containers: [{name: c, image: nginx}]}\n"
            "status: {phase: Running, conditions: [{type: Ready, status: '" + (ready ? "True" : "False") + "'}]}\n");
  k.apply("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x, namespace: shop}\n"
          "spec: {minAvailable: 2, selector: {matchLabels: {app: x}}}\n");
  const std::string pdb = "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/x";
  k.patch(pdb + "/status", R"({"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":2,"desiredHealthy":2,"expectedPods":4}})");
  EXPECT_EQ(k.evict("shop", "r1").status, 429) << "a Ready pod: the budget is spent";
  EXPECT_EQ(k.evict("shop", "u1").status, 201) << "IfHealthyBudget: an unready pod goes while the PDB has its healthy pods";
  EXPECT_TRUE(json::terminating(k.get("/pods", "shop", "u1")));
  k.patch(pdb + "/status", R"({"status":{"currentHealthy":1}})");
  EXPECT_EQ(k.evict("shop", "u2").status, 429) << "IfHealthyBudget: not while the PDB lacks healthy pods";
  k.patch(pdb, R"({"spec":{"unhealthyPodEvictionPolicy":"AlwaysAllow"}})");
  EXPECT_EQ(k.evict("shop", "u2").status, 429) << "the PDB's new generation is not observed yet";
  k.patch(pdb + "/status", R"({"status":{"observedGeneration":2}})");
  EXPECT_EQ(k.evict("shop", "u2").status, 201) << "AlwaysAllow";
  EXPECT_EQ(k.evict("shop", "r2").status, 429) << "a Ready pod still needs the budget";
  k.patch(pdb + "/status", R"({"status":{"disruptionsAllowed":1}})");
  EXPECT_EQ(k.evict("shop", "r2").status, 201) << "the budget allows one";
  const auto spent = k.get("policy/poddisruptionbudgets", "shop", "x");
  EXPECT_EQ(json::num(spent, {"status", "disruptionsAllowed"}), 0);
  EXPECT_EQ(json::str(spent, {"status", "disruptedPods", "r2"}), "2026-12-01T00:00:00Z") << "recorded for the PDB controller";
  EXPECT_EQ(json::num(spent, {"spec", "minAvailable"}), 2) << "the spec stays";
}

// A pass runs some controllers on a second thread; their writes interleave differently from
// run to run, and what the cluster becomes must not. Three runs of the same seed: rollout,
// evictions, a scale-down and a scale-up (the Deployment controller writing ReplicaSets the
// ReplicaSet controller also writes) end in the same pods, placements and statuses.
TEST(Simulation, TheOutcomeOfASeedDoesNotDependOnHowItsThreadsInterleave) {
  auto outcome = [] {
    Cluster k;
    k.apply(web_yaml(12));
    k.run(30s);
    int evicted = 0;
    for (const auto& p : k.list("/pods", "shop"))
      if (evicted < 4 && k.evict("shop", json::name(p)).status == 201) ++evicted;
    k.run(3s);
    k.patch("/apis/apps/v1/namespaces/shop/deployments/web", R"({"spec":{"replicas":7}})");
    k.run(2s);
    k.patch("/apis/apps/v1/namespaces/shop/deployments/web", R"({"spec":{"replicas":10}})");
    k.run(60s);
    std::vector<std::string> lines;
    for (const auto& p : k.list("/pods", "shop"))
      lines.push_back(json::name(p) + " " + json::str(p, {"spec", "nodeName"}) + " " + json::str(p, {"status", "phase"}) +
                      (json::pod_ready(p) ? " ready" : "") + (json::terminating(p) ? " terminating" : ""));
    for (const char* r : {"policy/poddisruptionbudgets", "apps/deployments", "apps/replicasets"})
      for (const auto& o : k.list(r, "shop")) {
        value st = o.at("status");
        if (st.has_field("conditions")) st.erase("conditions");  // transition times: same clock, kept apart
        lines.push_back(std::string(r) + " " + json::name(o) + " " + st.serialize());
      }
    EXPECT_EQ(evicted, 1) << "maxUnavailable 1";
    return lines;
  };
  const auto first = outcome();
  EXPECT_EQ(first.size(), 10u + 3u) << "10 pods, a PDB, a Deployment and its ReplicaSet";
  for (int run = 0; run < 2; ++run) EXPECT_EQ(outcome(), first);
}

TEST(Simulation, CordonedZoneTrapLeavesReplacementsPendingUnlessHonor) {
  for (const std::string policy : {"", "Honor"}) {
    Cluster k;
    k.apply(web_yaml(3, policy));
    k.run(30s);
    for (const auto& n : k.list("/nodes"))
      if (json::str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}) == "a")
        k.patch("/api/v1/nodes/" + json::name(n), R"({"spec":{"unschedulable":true}})");
    k.run(1s);
    // The node-lifecycle controller adds the unschedulable taint.
    auto cordoned = k.get("/nodes", "", "n-a-0");
    ASSERT_TRUE(json::at(cordoned, {"spec", "taints"})) << cordoned.serialize();
    EXPECT_EQ(json::str(cordoned.at("spec").at("taints").at(0), {"key"}), "node.kubernetes.io/unschedulable");
    for (const auto& p : k.list("/pods", "shop")) {
      auto node = k.get("/nodes", "", json::str(p, {"spec", "nodeName"}));
      if (json::str(node, {"metadata", "labels", "topology.kubernetes.io/zone"}) == "a") {
        EXPECT_EQ(k.evict("shop", json::name(p)).status, 201);
      }
    }
    k.run(60s);
    auto zones = k.ready_pods_per_zone("web");
    if (policy.empty()) {
      EXPECT_EQ(zones, (std::map<std::string, int>{{"b", 1}, {"c", 1}})) << "the replacement cannot go anywhere";
      bool pending_with_reason = false;
      for (const auto& p : k.list("/pods", "shop"))
        if (json::str(p, {"spec", "nodeName"}).empty())
          pending_with_reason = json::str(p.at("status").at("conditions").at(0), {"message"}).find("topology spread") != std::string::npos;
      EXPECT_TRUE(pending_with_reason);
    } else {
      int total = 0;
      for (auto [z, n] : zones) total += n;
      EXPECT_EQ(total, 3);
      EXPECT_EQ(zones.count("a"), 0u);
    }
  }
}

// A zonal disk: the pod can only run in the PersistentVolume's zone; its replacement waits
// Pending while that zone is cordoned and lands there again once it is not.
TEST(Simulation, PodsFollowTheirVolumesZone) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: disk-1}\nspec:\n  capacity: {storage: 10Gi}\n"
          "  accessModes: [ReadWriteOnce]\n  claimRef: {namespace: db, name: data}\n"
          "  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [b]}]}]}}\n"
          "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: db}\n"
          "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: db}\n"
          "spec: {accessModes: [ReadWriteOnce], volumeName: disk-1, resources: {requests: {storage: 10Gi}}}\n"
          "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: pg, namespace: db}\nspec:\n  replicas: 1\n"
          "  selector: {matchLabels: {app: pg}}\n  template:\n    metadata: {labels: {app: pg}}\n    spec:\n"
          "      containers: [{name: pg, image: postgres}]\n      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]\n");
  k.run(30s);
  EXPECT_EQ(k.ready_pods_per_zone("pg"), (std::map<std::string, int>{{"b", 1}}));
  for (const auto& n : k.list("/nodes"))
    if (json::str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}) == "b")
      k.patch("/api/v1/nodes/" + json::name(n), R"({"spec":{"unschedulable":true}})");
  for (const auto& p : k.list("/pods", "db")) EXPECT_EQ(k.evict("db", json::name(p)).status, 201);
  k.run(60s);
  EXPECT_TRUE(k.ready_pods_per_zone("pg").empty()) << "nowhere else to go";
  std::string why;
  for (const auto& p : k.list("/pods", "db"))
    if (const auto* cs = json::at(p, {"status", "conditions"}); cs && cs->size() > 0) why = json::str(cs->at(0), {"message"});
  EXPECT_NE(why.find("volume node affinity conflict"), std::string::npos) << why;
  for (const auto& n : k.list("/nodes"))
    if (json::str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}) == "b")
      k.patch("/api/v1/nodes/" + json::name(n), R"({"spec":{"unschedulable":false}})");
  k.run(60s);
  EXPECT_EQ(k.ready_pods_per_zone("pg"), (std::map<std::string, int>{{"b", 1}})) << "back in the volume's zone";
}

// A DaemonSet on every node and a one-pod Job pinned to n-b-1, in kube-system.
constexpr const char* kAgentDaemonSetAndPatchJob = R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: agent}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: patch, namespace: kube-system}
spec:
  template:
    metadata: {annotations: {sim.nonevent.dev/run-seconds: "10"}}
    spec: {restartPolicy: Never, nodeName: n-b-1, containers: [{name: p, image: patcher}]}
)";

TEST(Simulation, StatefulSetDaemonSetAndJob) {
  Cluster k;
  k.apply(R"(apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres}]}
---
)" + std::string(kAgentDaemonSetAndPatchJob));
  k.run(4s);
  EXPECT_EQ(k.list("/pods", "data").size(), 1u) << "StatefulSet pods come one at a time";
  k.run(60s);
  auto db = k.list("/pods", "data");
  ASSERT_EQ(db.size(), 3u);
  EXPECT_EQ(json::name(db[0]), "db-0");
  EXPECT_EQ(json::name(db[2]), "db-2");
  auto agents = k.list("/pods", "kube-system");
  int on_nodes = 0;
  for (const auto& p : agents) on_nodes += json::str(p, {"metadata", "labels", "app"}) == "agent" && json::pod_ready(p);
  EXPECT_EQ(on_nodes, 6) << "one DaemonSet pod per node";
  auto job = k.get("batch/jobs", "kube-system", "patch");
  EXPECT_EQ(json::num(job, {"status", "succeeded"}), 1);
  EXPECT_TRUE(json::condition_true(job, "Complete"));
}

// A cluster loaded from a snapshot of a simulation with the same seed holds the very pod names
// the new simulation draws first: a DaemonSet's and a Job's creates that hit a taken name (409)
// are tried again with another suffix, as ReplicaSets' are (their next pass would also try
// again; the retry makes the pod in the same pass, as a ReplicaSet's must).
TEST(Simulation, DaemonSetAndJobPodsTakeAnotherNameWhenTheirsIsTaken) {
  const std::string workloads = kAgentDaemonSetAndPatchJob;
  std::set<std::string> first_names;
  {
    Cluster k;
    k.apply(workloads);
    k.run(1s);
    for (const auto& p : k.list("/pods", "kube-system")) first_names.insert(json::name(p));
  }
  ASSERT_EQ(first_names.size(), 7u) << "six agents and the Job's pod";
  Cluster k;
  // The same names already taken, by pods of nobody's (another namespace would not collide).
  for (const auto& n : first_names)
    k.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: " + n + ", namespace: kube-system, labels: {app: squatter}}\n"
            "spec: {nodeName: n-a-1, containers: [{name: s, image: pause}]}\n");
  k.apply(workloads);
  k.run(60s);
  EXPECT_GT(k.sim->stats().write_errors, 0) << "the same seed draws the same names first: creates hit taken ones";
  int agents = 0;
  for (const auto& p : k.list("/pods", "kube-system")) {
    if (json::str(p, {"metadata", "labels", "app"}) != "agent") continue;
    EXPECT_FALSE(first_names.count(json::name(p))) << json::name(p);
    agents += json::pod_ready(p);
  }
  EXPECT_EQ(agents, 6) << "one DaemonSet pod per node";
  EXPECT_EQ(json::num(k.get("batch/jobs", "kube-system", "patch"), {"status", "succeeded"}), 1);
}

TEST(Simulation, ProvisionerReplacesADeletedNodeInItsZoneWithTheConfiguredImage) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nonevent-sim-provisioner, namespace: kube-system}\ndata: {imageVersion: bash-4.3-25}\n");
  ApiRequest del;
  del.method = "DELETE";
  del.path = "/api/v1/nodes/n-b-0";
  ASSERT_EQ(k.api->handle(del).status, 200);
  k.run(59s);
  EXPECT_EQ(k.list("/nodes").size(), 5u);
  k.run(2s);
  auto nodes = k.list("/nodes");
  ASSERT_EQ(nodes.size(), 6u);
  bool found = false;
  for (const auto& n : nodes)
    if (json::name(n) == "n-b-r1") {
      found = true;
      EXPECT_EQ(json::str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}), "b");
      EXPECT_EQ(json::str(n, {"metadata", "labels", "nonevent.dev/image-version"}), "bash-4.3-25");
      EXPECT_TRUE(json::condition_true(n, "Ready"));
    }
  EXPECT_TRUE(found);
}

TEST(Simulation, SeveralPdbsForOnePodAnswer500) {
  Cluster k;
  k.apply(web_yaml(3));
  k.apply("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web2, namespace: shop}\n"
          "spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n");
  k.run(30s);
  auto r = k.evict("shop", json::name(k.list("/pods", "shop")[0]));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("more than one PodDisruptionBudget"), std::string::npos);
}

TEST(Simulation, APodWaitingForRoomIsPlacedOnceAPodLeavesItsNode) {
  Cluster k("zones: [a]\nnodePools: [{name: n, nodesPerZone: 1, cpu: '1', memory: 4Gi}]\n"
            "timings: {podStartSeconds: 2, podReadySeconds: 3, terminationSeconds: 5, nodeProvisionSeconds: 60}\n");
  auto bare = [](const std::string& name) {
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop}\n"
           "spec: {containers: [{name: c, image: nginx, resources: {requests: {cpu: 800m}}}]}\n";
  };
  k.apply(bare("first"));
  k.run(30s);
  ASSERT_TRUE(json::pod_ready(k.get("/pods", "shop", "first")));
  k.apply(bare("second"));
  k.run(30s);  // several scheduling cycles find the node full
  EXPECT_EQ(json::str(k.get("/pods", "shop", "second"), {"spec", "nodeName"}), "");
  ApiRequest del;
  del.method = "DELETE";
  del.path = "/api/v1/namespaces/shop/pods/first";
  ASSERT_LT(k.api->handle(del).status, 300);
  k.run(60s);
  EXPECT_TRUE(k.get("/pods", "shop", "first").is_null()) << "gone after its grace";
  EXPECT_NE(json::str(k.get("/pods", "shop", "second"), {"spec", "nodeName"}), "") << "the room it left is seen";
  EXPECT_TRUE(json::pod_ready(k.get("/pods", "shop", "second")));
}

TEST(Simulation, BindingAssignsAPodOnceWithItsScheduledCondition) {
  Cluster k;  // no simulation steps: the pod stays unscheduled until bound by hand
  k.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: shop}\nspec: {schedulerName: by-hand, containers: [{name: c, image: nginx}]}\n");
  auto bind = [&](const std::string& body) {
    ApiRequest r;
    r.method = "POST";
    r.path = "/api/v1/namespaces/shop/pods/solo/binding";
    r.body = body;
    return k.api->handle(r);
  };
  const auto node = json::name(k.list("/nodes")[0]);
  auto missing = bind(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"solo"},"target":{"kind":"Node"}})");
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("target.name"), std::string::npos) << missing.body;
  auto ok = bind(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"solo","annotations":{"why":"test"}},"target":{"kind":"Node","name":")" + node + R"("}})");
  ASSERT_EQ(ok.status, 201) << ok.body;
  const auto pod = k.get("/pods", "shop", "solo");
  EXPECT_EQ(json::str(pod, {"spec", "nodeName"}), node);
  EXPECT_EQ(json::str(pod, {"metadata", "annotations", "why"}), "test");
  EXPECT_TRUE(json::condition_true(pod, "PodScheduled"));
  // A second binding is refused: a pod is assigned once.
  auto again = bind(R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"solo"},"target":{"kind":"Node","name":"other"}})");
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("already assigned to node"), std::string::npos) << again.body;
  EXPECT_EQ(json::str(k.get("/pods", "shop", "solo"), {"spec", "nodeName"}), node);
}

TEST(Simulation, PodUpdatesMayChangeOnlyWhatTheApiServerAllows) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: shop}\n"
          "spec: {schedulerName: by-hand, tolerations: [{key: a, operator: Exists}], containers: [{name: c, image: nginx:1}]}\n");
  auto patch = [&](const std::string& body) {
    ApiRequest r;
    r.method = "PATCH";
    r.path = "/api/v1/namespaces/shop/pods/solo";
    r.body = body;
    r.headers["content-type"] = "application/merge-patch+json";
    return k.api->handle(r);
  };
  // A pod is assigned through pods/binding, never by writing spec.nodeName.
  auto assign = patch(R"({"spec":{"nodeName":"n-a-1"}})");
  EXPECT_EQ(assign.status, 422);
  EXPECT_NE(assign.body.find("pod updates may not change fields other than"), std::string::npos) << assign.body;
  EXPECT_NE(assign.body.find(R"("field":"spec")"), std::string::npos) << assign.body;
  EXPECT_EQ(patch(R"({"spec":{"restartPolicy":"Never"}})").status, 422);
  EXPECT_EQ(patch(R"({"spec":{"tolerations":[]}})").status, 422);  // tolerations may only be added
  // What may change does.
  EXPECT_EQ(patch(R"({"metadata":{"labels":{"tier":"web"}}})").status, 200);
  EXPECT_EQ(patch(R"({"spec":{"tolerations":[{"key":"a","operator":"Exists"},{"key":"b","operator":"Exists"}]}})").status, 200);
  auto image = patch(R"({"spec":{"containers":[{"name":"c","image":"nginx:2"}],"activeDeadlineSeconds":60}})");
  ASSERT_EQ(image.status, 200) << image.body;
  EXPECT_EQ(patch(R"({"spec":{"activeDeadlineSeconds":120}})").status, 422);  // only lowered
  const auto pod = k.get("/pods", "shop", "solo");
  EXPECT_EQ(json::str(pod, {"spec", "nodeName"}), "");
  EXPECT_EQ(json::str(pod.at("spec").at("containers").at(0), {"image"}), "nginx:2");
}


// The status subresource patches the status alone (and merges it as the kind's rules say), keeps
// everything else as stored, and a JSON patch on it still sees the whole object.
TEST(Simulation, TheStatusSubresourceChangesOnlyTheStatus) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: shop, labels: {app: solo}}\n"
          "spec: {schedulerName: by-hand, containers: [{name: c, image: nginx:1}]}\n"
          "status: {phase: Running, conditions: [{type: Ready, status: 'True'}, {type: PodScheduled, status: 'True'}]}\n");
  auto patch = [&](const std::string& type, const std::string& body) {
    ApiRequest r;
    r.method = "PATCH";
    r.path = "/api/v1/namespaces/shop/pods/solo/status";
    r.body = body;
    r.headers["content-type"] = type;
    return k.api->handle(r);
  };
  auto merged = patch("application/merge-patch+json",
                      R"({"metadata":{"labels":{"app":"other"}},"spec":{"nodeName":"n-a-1"},"status":{"message":"hi"}})");
  ASSERT_EQ(merged.status, 200) << merged.body;
  auto pod = k.get("/pods", "shop", "solo");
  EXPECT_EQ(json::str(pod, {"metadata", "labels", "app"}), "solo");
  EXPECT_EQ(json::str(pod, {"spec", "nodeName"}), "");
  EXPECT_EQ(json::str(pod, {"status", "message"}), "hi");
  EXPECT_EQ(json::str(pod, {"status", "phase"}), "Running");
  // Strategic merge: conditions merge by type.
  auto strategic = patch("application/strategic-merge-patch+json", R"({"status":{"conditions":[{"type":"Ready","status":"False"}]}})");
  ASSERT_EQ(strategic.status, 200) << strategic.body;
  pod = k.get("/pods", "shop", "solo");
  ASSERT_EQ(pod.at("status").at("conditions").size(), 2u) << pod.serialize();
  EXPECT_FALSE(json::pod_ready(pod));
  EXPECT_EQ(json::str(pod, {"status", "phase"}), "Running");
  // A JSON patch may test a path outside the status.
  const auto rv = json::str(pod, {"metadata", "resourceVersion"});
  auto stale = patch("application/json-patch+json",
                     R"([{"op":"test","path":"/metadata/resourceVersion","value":"1"},{"op":"replace","path":"/status/phase","value":"Failed"}])");
  EXPECT_EQ(stale.status, 422) << stale.body;
  auto fresh = patch("application/json-patch+json", R"([{"op":"test","path":"/metadata/resourceVersion","value":")" + rv +
                                                        R"("},{"op":"replace","path":"/status/phase","value":"Failed"}])");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(json::str(k.get("/pods", "shop", "solo"), {"status", "phase"}), "Failed");
}
TEST(Simulation, WatchCompactionAnswers410) {
  Cluster k;
  auto w = k.store->watch({.resource = "/nodes"}, "2");
  ASSERT_TRUE(w.ok());
  k.store->compact();
  EXPECT_TRUE(w.value()->expired());
  auto again = k.store->watch({.resource = "/nodes"}, "2");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, 410);
}

// A continued list serves the first page's snapshot, as kube-apiserver's does: an object deleted
// between pages must not reach a client that will then watch from a later version (the informer
// would keep it forever — found by Faults.InformerConverges... failing under load).
TEST(Simulation, ContinuedListReadsTheFirstPagesSnapshot) {
  Cluster k;  // six nodes: n-a-0, n-a-1, n-b-0, n-b-1, n-c-0, n-c-1 (sorted)
  auto names = [](const ObjectStore::ListResult& r) {
    std::vector<std::string> out;
    for (const auto& o : r.items) out.push_back(o->name);
    return out;
  };
  auto first = k.store->list({.resource = "/nodes"}, 2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.value().items.size(), 2u);
  ASSERT_FALSE(first.value().continue_token.empty());
  const auto all = names(k.store->list({.resource = "/nodes"}, 0, "").value());
  ASSERT_EQ(all.size(), 6u);
  // Between the pages: delete one not yet served, relabel another, create a new one.
  ASSERT_TRUE(k.store->remove("/nodes", "", all[3]).ok());
  k.patch("/api/v1/nodes/" + all[4], R"({"metadata":{"labels":{"touched":"yes"}}})");
  value extra = k.get("/nodes", "", all[5]);
  extra["metadata"]["name"] = value::string(all[2] + "-new");
  extra["metadata"].erase("resourceVersion");
  extra["metadata"].erase("uid");
  ASSERT_TRUE(k.store->create("/nodes", extra).ok());

  std::vector<std::string> served = names(first.value());
  std::string token = first.value().continue_token;
  while (!token.empty()) {
    auto page = k.store->list({.resource = "/nodes"}, 2, token);
    ASSERT_TRUE(page.ok()) << page.error().message;
    EXPECT_EQ(page.value().rv, first.value().rv) << "every page reports the snapshot's version";
    for (const auto& o : page.value().items) {
      EXPECT_LE(o->rv, first.value().rv) << o->name << " is served as it was at the snapshot";
      EXPECT_EQ(o->labels->count("touched"), 0u) << o->name;
    }
    for (auto& n : names(page.value())) served.push_back(n);
    token = page.value().continue_token;
  }
  EXPECT_EQ(served, all) << "the deleted node is still in the snapshot; the new one is not";

  // A snapshot whose history is gone is 410, as a compacted etcd revision is.
  auto again = k.store->list({.resource = "/nodes"}, 2, "");
  k.patch("/api/v1/nodes/" + all[4], R"({"metadata":{"labels":{"touched":"again"}}})");
  k.store->compact();
  auto late = k.store->list({.resource = "/nodes"}, 2, again.value().continue_token);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, 410);
  auto garbage = k.store->list({.resource = "/nodes"}, 2, "bm90LWpzb24=");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, 400);
}


// kubectl 1.35 and client-go informers watch with sendInitialEvents (WatchList): the objects as
// ADDED, then a bookmark marking the end of the initial events, then the changes.
TEST(ApiServer, WatchListSendsInitialEventsThenTheEndBookmarkThenChanges) {
  Cluster k;
  ApiRequest r;
  r.method = "GET";
  r.path = "/api/v1/nodes";
  r.query = {{"watch", "true"}, {"sendInitialEvents", "true"}, {"allowWatchBookmarks", "true"}};
  EXPECT_EQ(k.api->handle(r).status, 422) << "resourceVersionMatch=NotOlderThan is required";
  r.query["resourceVersionMatch"] = "NotOlderThan";
  auto resp = k.api->handle(r);
  ASSERT_EQ(resp.status, 200) << resp.body;
  ASSERT_TRUE(resp.watch);
  int added = 0;
  std::string end;
  for (int i = 0; i < 6; ++i) {
    auto line = resp.watch->next(std::chrono::milliseconds(100));
    ASSERT_TRUE(line);
    added += line->find(R"("type":"ADDED")") != std::string::npos;
  }
  EXPECT_EQ(added, 6);
  auto bookmark = resp.watch->next(std::chrono::milliseconds(100));
  ASSERT_TRUE(bookmark);
  EXPECT_NE(bookmark->find(R"("type":"BOOKMARK")"), std::string::npos) << *bookmark;
  EXPECT_NE(bookmark->find(R"("k8s.io/initial-events-end":"true")"), std::string::npos) << *bookmark;
  k.patch("/api/v1/nodes/n-a-0", R"({"metadata":{"labels":{"x":"y"}}})");
  auto change = resp.watch->next(std::chrono::milliseconds(500));
  ASSERT_TRUE(change);
  EXPECT_NE(change->find(R"("type":"MODIFIED")"), std::string::npos) << *change;
}


// What kube-apiserver answers that clients read back (issue 27.5): group-qualified names and
// StatusDetails in errors, deletecollection, Service defaults, Service ports merged on port.
ApiResponse call(Cluster& k, const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& type = "application/json", std::map<std::string, std::string> query = {}) {
  ApiRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.query = std::move(query);
  r.headers["content-type"] = type;
  return k.api->handle(r);
}

TEST(ApiServer, AnswersLikeKubeApiserverForErrorsCollectionsAndServices) {
  Cluster k;
  k.apply(web_yaml(3));
  const std::string dep = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},)"
                          R"("spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})";
  auto dup = call(k, "POST", "/apis/apps/v1/namespaces/shop/deployments", dep);
  EXPECT_EQ(dup.status, 409);
  auto st = value::parse(dup.body);
  EXPECT_EQ(json::str(st, {"message"}), R"(deployments.apps "web" already exists)");
  EXPECT_EQ(json::str(st, {"details", "name"}), "web");
  EXPECT_EQ(json::str(st, {"details", "group"}), "apps");
  EXPECT_EQ(json::str(st, {"details", "kind"}), "deployments");
  EXPECT_EQ(json::str(value::parse(call(k, "GET", "/api/v1/namespaces/shop/pods/nope").body), {"message"}), R"(pods "nope" not found)");

  // deletecollection with a label selector: only what it selects.
  for (const char* cm : {"a", "b"})
    ASSERT_LT(call(k, "POST", "/api/v1/namespaces/shop/configmaps",
                   std::string(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")") + cm + R"(","labels":{"tier":")" + cm + R"("}}})")
                  .status, 300);
  auto dc = call(k, "DELETE", "/api/v1/namespaces/shop/configmaps", "", "application/json", {{"labelSelector", "tier=a"}});
  ASSERT_EQ(dc.status, 200) << dc.body;
  EXPECT_EQ(json::str(value::parse(dc.body), {"kind"}), "ConfigMapList");
  EXPECT_EQ(k.store->get("/configmaps", "shop", "a"), nullptr);
  EXPECT_NE(k.store->get("/configmaps", "shop", "b"), nullptr);

  // A Service's defaults, and its ports merged on port.
  auto svc = call(k, "POST", "/api/v1/namespaces/shop/services",
                  R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80}]}})");
  ASSERT_EQ(svc.status, 201) << svc.body;
  auto s = k.get("/services", "shop", "web");
  EXPECT_EQ(json::str(s, {"spec", "type"}), "ClusterIP");
  EXPECT_EQ(json::str(s, {"spec", "sessionAffinity"}), "None");
  EXPECT_EQ(json::str(s, {"spec", "clusterIP"}).rfind("10.96.", 0), 0u) << s.serialize();
  EXPECT_EQ(s.at("spec").at("ports").at(0).at("targetPort").as_integer(), 80);
  EXPECT_EQ(s.at("spec").at("ports").at(0).at("protocol").as_string(), "TCP");
  EXPECT_TRUE(s.has_field("status") && s.at("status").has_field("loadBalancer"));
  auto p = call(k, "PATCH", "/api/v1/namespaces/shop/services/web", R"({"spec":{"ports":[{"port":80,"name":"web"}]}})",
                "application/strategic-merge-patch+json");
  ASSERT_EQ(p.status, 200) << p.body;
  s = k.get("/services", "shop", "web");
  ASSERT_EQ(s.at("spec").at("ports").size(), 1u) << s.serialize();
  EXPECT_EQ(s.at("spec").at("ports").at(0).at("name").as_string(), "web");
  // A second Service gets another cluster IP.
  ASSERT_EQ(call(k, "POST", "/api/v1/namespaces/shop/services",
                 R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"api"},"spec":{"ports":[{"port":8080}]}})").status, 201);
  EXPECT_NE(json::str(k.get("/services", "shop", "api"), {"spec", "clusterIP"}), json::str(s, {"spec", "clusterIP"}));
}

}  // namespace
}  // namespace nonevent::sim
