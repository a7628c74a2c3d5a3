// The preflight (design 4): what draining some nodes would do, before anything moves.
#include <gtest/gtest.h>

#include "model/codecs.h"
#include "planner/preflight.h"

namespace nonevent::planner {
namespace {

using model::CodecFor;

std::shared_ptr<const model::Node> node(const std::string& name, const std::string& zone, const std::string& cpu = "4") {
  return CodecFor<model::Node>::decode(R"({"metadata":{"name":")" + name + R"(","labels":{"topology.kubernetes.io/zone":")" + zone +
                                       R"(","kubernetes.io/hostname":")" + name + R"("}},"spec":{},"status":{"allocatable":{"cpu":")" +
                                       cpu + R"(","memory":"16Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True"}]}})")
      .value();
}

// A pod of Deployment `app` (its ReplicaSet app-5d8f, hash label set), or a bare pod.
std::shared_ptr<const model::Pod> pod(const std::string& name, const std::string& node_name, const std::string& app,
                                      const std::string& spec_extra = "", const std::string& cpu = "100m", bool bare = false) {
  const std::string owner = bare ? "" : R"(,"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" + app +
                                            R"(-5d8f","uid":"u","controller":true}])";
  return CodecFor<model::Pod>::decode(R"({"metadata":{"name":")" + name + R"(","namespace":"shop","labels":{"app":")" + app +
                                      R"(","pod-template-hash":"5d8f"})" + owner + R"(},"spec":{"nodeName":")" + node_name +
                                      R"(","containers":[{"name":"c","resources":{"requests":{"cpu":")" + cpu + R"("}}}])" +
                                      (spec_extra.empty() ? "" : "," + spec_extra) + R"(},"status":{"phase":"Running"}})")
      .value();
}

std::string zone_spread(const std::string& app, const std::string& taints_policy = "") {
  return R"("topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule",)" +
         (taints_policy.empty() ? "" : R"("nodeTaintsPolicy":")" + taints_policy + R"(",)") +
         R"("labelSelector":{"matchLabels":{"app":")" + app + R"("}}}])";
}

std::shared_ptr<const model::PodDisruptionBudget> pdb(const std::string& app, int allowed) {
  return CodecFor<model::PodDisruptionBudget>::decode(
             R"({"metadata":{"name":")" + app + R"(","namespace":"shop"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":")" + app +
             R"("}}},"status":{"disruptionsAllowed":)" + std::to_string(allowed) + R"(,"currentHealthy":3,"desiredHealthy":2,"expectedPods":3}})")
      .value();
}

struct World {
  std::vector<std::shared_ptr<const model::Node>> nodes;
  std::vector<std::shared_ptr<const model::Pod>> pods;
  std::vector<std::shared_ptr<const model::PodDisruptionBudget>> pdbs;
  Preflight run(const std::set<std::string>& drained, PreflightPolicy policy = {}) const {
    std::vector<const model::Node*> n;
    std::vector<const model::Pod*> p;
    std::vector<const model::PodDisruptionBudget*> b;
    for (auto& x : nodes) n.push_back(x.get());
    for (auto& x : pods) p.push_back(x.get());
    for (auto& x : pdbs) b.push_back(x.get());
    return preflight(n, p, b, drained, "topology.kubernetes.io/zone", policy);
  }
};

const PreflightBlocker* find(const Preflight& p, const std::string& reason) {
  for (const auto& b : p.blockers)
    if (b.reason == reason) return &b;
  return nullptr;
}

World three_zones(const std::string& taints_policy) {
  World w;
  w.nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c")};
  w.pods = {pod("web-a", "a1", "web", zone_spread("web", taints_policy)), pod("web-b", "b1", "web", zone_spread("web", taints_policy)),
            pod("web-c", "c1", "web", zone_spread("web", taints_policy))};
  return w;
}

// Issue 23.1: another disruptor evicted web-b and its replacement is Pending. Ignoring it,
// web-a's replacement seemed to fit in b; the Pending pod goes first, and then it does not.
TEST(Preflight, APodAlreadyPendingTakesItsPlaceBeforeTheReplacements) {
  World w;
  w.nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c")};
  w.pods = {pod("web-a", "a1", "web", zone_spread("web")), pod("web-b2", "", "web", zone_spread("web")),
            pod("web-c", "c1", "web", zone_spread("web"))};
  auto p = w.run({"a1"});
  const auto* trap = find(p, "SpreadTrap");
  ASSERT_NE(trap, nullptr) << "the Pending replica was ignored";
  EXPECT_EQ(trap->name, "Deployment/web");
  // Without the Pending replica there is room: the same drain is fine.
  w.pods.erase(w.pods.begin() + 1);
  EXPECT_EQ(find(w.run({"a1"}), "SpreadTrap"), nullptr);
}

// Issue 23.1 again: the other disruptor's eviction is a moment old, so its replacement does
// not exist yet and the pod is still terminating on a drained node. It is placed as if evicted.
TEST(Preflight, APodTerminatingOnADrainedNodeStandsForItsReplacement) {
  World w;
  w.nodes = {node("a1", "a"), node("a2", "a"), node("b1", "b"), node("c1", "c")};
  auto leaving = CodecFor<model::Pod>::decode(
                     R"({"metadata":{"name":"web-a","namespace":"shop","deletionTimestamp":"2026-12-01T00:00:00Z","labels":{"app":"web","pod-template-hash":"5d8f"},)"
                     R"("ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d8f","uid":"u","controller":true}]},)"
                     R"("spec":{"nodeName":"a1","containers":[{"name":"c"}],)" + zone_spread("web") + R"(},"status":{"phase":"Running"}})")
                     .value();
  w.pods = {leaving, pod("web-b", "b1", "web", zone_spread("web")), pod("web-c", "c1", "web", zone_spread("web"))};
  const auto* trap = find(w.run({"a1", "a2"}), "SpreadTrap");
  ASSERT_NE(trap, nullptr) << "the terminating pod's replacement was not counted";
  // Its replacement made already (Pending): counted once, not twice.
  w.pods.push_back(pod("web-new", "", "web", zone_spread("web")));
  auto p = w.run({"a1", "a2"});
  ASSERT_EQ(p.workloads.size(), 1u);
  EXPECT_EQ(p.workloads[0].pending_after, 1);
}

// A stuck Pending pod of a workload the drain does not move is not the drain's blocker.
TEST(Preflight, AnotherWorkloadsStuckPodIsNotABlocker) {
  World w;
  w.nodes = {node("a1", "a"), node("b1", "b", "1")};
  w.pods = {pod("web-a", "a1", "web"), pod("big", "", "big", "", "64")};
  auto p = w.run({"a1"});
  EXPECT_TRUE(p.ok()) << p.blockers.front().reason << ": " << p.blockers.front().message;
}

TEST(Preflight, NamesTheSpreadTrapAndTheFix) {
  auto p = three_zones("").run({"a1"});
  const auto* trap = find(p, "SpreadTrap");
  ASSERT_NE(trap, nullptr);
  EXPECT_EQ(trap->name, "Deployment/web");
  EXPECT_NE(trap->message.find("nodeTaintsPolicy: Honor"), std::string::npos) << trap->message;
  ASSERT_EQ(p.workloads.size(), 1u);
  EXPECT_EQ(p.workloads[0].pending_after, 1);
}

TEST(Preflight, HonorPolicyMovesTheReplicaWithinItsSkew) {
  auto p = three_zones("Honor").run({"a1"});
  EXPECT_TRUE(p.ok()) << (p.blockers.empty() ? "" : p.blockers[0].message);
  ASSERT_EQ(p.workloads.size(), 1u);
  const auto& w = p.workloads[0];
  EXPECT_EQ(w.before.at("a"), 1);
  EXPECT_EQ(w.after.count("a") ? w.after.at("a") : 0, 0);
  EXPECT_EQ(w.after.at("b") + w.after.at("c"), 3);
  EXPECT_LE(w.skew_after, 1);
  EXPECT_EQ(w.max_skew, 1);
  EXPECT_EQ(p.pods_to_evict, 1);
}

TEST(Preflight, CapacityShortfallIsABlocker) {
  World w;
  w.nodes = {node("a1", "a", "4"), node("b1", "b", "1")};
  w.pods = {pod("big-a", "a1", "big", "", "2")};
  auto p = w.run({"a1"});
  const auto* cap = find(p, "Capacity");
  ASSERT_NE(cap, nullptr);
  EXPECT_NE(cap->message.find("Insufficient cpu"), std::string::npos) << cap->message;
}

TEST(Preflight, BarePodsPdbsAtZeroAndTheLowerBound) {
  World w;
  w.nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c")};
  w.pods = {pod("api-1", "a1", "api"), pod("api-2", "a1", "api"), pod("api-3", "a1", "api"), pod("db-1", "a1", "db"),
            pod("debug", "a1", "debug", "", "100m", true)};
  w.pdbs = {pdb("api", 1), pdb("db", 0)};
  auto p = w.run({"a1"}, {.pod_start_seconds = 4, .pod_ready_seconds = 6});
  ASSERT_NE(find(p, "UnmanagedPod"), nullptr);
  EXPECT_EQ(find(p, "UnmanagedPod")->name, "debug");
  ASSERT_NE(find(p, "PDBAtZero"), nullptr);
  EXPECT_EQ(find(p, "PDBAtZero")->name, "db");
  ASSERT_EQ(p.binding_pdbs.size(), 1u);
  EXPECT_NE(p.binding_pdbs[0].find("shop/api: 3 pods to move, 1 at a time"), std::string::npos);
  EXPECT_DOUBLE_EQ(p.lower_bound_seconds, 3 * 10.0) << "three rounds of the api PDB, 10 s each";
  // The policy can allow bare pods.
  auto allowed = w.run({"a1"}, {.evict_unmanaged_pods = true});
  EXPECT_EQ(find(allowed, "UnmanagedPod"), nullptr);
}

}  // namespace
}  // namespace nonevent::planner
