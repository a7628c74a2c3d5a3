// kube-scheduler semantics the planner and the sim rely on.
#include <gtest/gtest.h>

#include "model/codecs.h"
#include "planner/scheduling.h"

namespace nonevent::planner {
namespace {

using model::CodecFor;

std::shared_ptr<const model::Node> node(const std::string& name, const std::string& zone, bool cordoned = false,
                                        const std::string& extra_taints = "", const std::string& cpu = "4") {
  std::string taints = extra_taints;
  if (cordoned) taints += std::string(taints.empty() ? "" : ",") + R"({"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"})";
  return CodecFor<model::Node>::decode(R"({"metadata":{"name":")" + name + R"(","labels":{"topology.kubernetes.io/zone":")" + zone +
                                       R"(","kubernetes.io/hostname":")" + name + R"("}},"spec":{"unschedulable":)" +
                                       (cordoned ? "true" : "false") + R"(,"taints":[)" + taints +
                                       R"(]},"status":{"allocatable":{"cpu":")" + cpu + R"(","memory":"16Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True"}]}})")
      .value();
}

std::string spread(const std::string& taints_policy = "") {
  return R"("topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule",)" +
         (taints_policy.empty() ? "" : R"("nodeTaintsPolicy":")" + taints_policy + R"(",)") +
         R"("labelSelector":{"matchLabels":{"app":"web"}}}])";
}

std::shared_ptr<const model::Pod> pod(const std::string& name, const std::string& node_name, const std::string& spec_extra,
                                      const std::string& cpu = "100m", const std::string& app = "web") {
  return CodecFor<model::Pod>::decode(R"({"metadata":{"name":")" + name + R"(","namespace":"shop","labels":{"app":")" + app +
                                      R"("},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"u","controller":true}]},"spec":{)" +
                                      (node_name.empty() ? "" : R"("nodeName":")" + node_name + R"(",)") +
                                      R"("containers":[{"name":"c","resources":{"requests":{"cpu":")" + cpu + R"("}}}])" +
                                      (spec_extra.empty() ? "" : "," + spec_extra) + R"(},"status":{"phase":"Running"}})")
      .value();
}

struct World {
  std::vector<std::shared_ptr<const model::Node>> nodes;
  std::vector<std::shared_ptr<const model::Pod>> pods;
  ClusterView view() const {
    ClusterView v;
    for (auto& n : nodes) v.nodes.push_back(n.get());
    for (auto& p : pods) v.pods.push_back(p.get());
    v.usage = usage_by_node(v.pods);
    return v;
  }
};

// Three zones, one pod of `web` in each; zone a is cordoned and its pod was evicted.
World evacuated_zone_a(const std::string& policy) {
  World w;
  w.nodes = {node("a1", "a", true), node("b1", "b"), node("c1", "c")};
  w.pods = {pod("web-b", "b1", spread(policy)), pod("web-c", "c1", spread(policy))};
  return w;
}

TEST(Scheduling, CordonedZoneSpreadTrapWithTheDefaultIgnorePolicy) {
  auto w = evacuated_zone_a("");
  auto replacement = pod("web-new", "", spread(""));
  auto v = w.view();
  auto p = schedule(v, *replacement);
  EXPECT_FALSE(p.node) << "the cordoned zone still counts as a domain with 0 pods: skew would be 2";
  EXPECT_NE(p.reason.find("didn't match pod topology spread constraints"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("were unschedulable"), std::string::npos) << p.reason;
  EXPECT_EQ(spread_counts(v, *replacement, replacement->spec->spread[0]).size(), 3u);
}

TEST(Scheduling, NodeTaintsPolicyHonorEscapesTheTrap) {
  auto w = evacuated_zone_a("Honor");
  auto replacement = pod("web-new", "", spread("Honor"));
  auto v = w.view();
  auto p = schedule(v, *replacement);
  ASSERT_TRUE(p.node) << p.reason;
  EXPECT_TRUE(*p.node == "b1" || *p.node == "c1");
  EXPECT_EQ(spread_counts(v, *replacement, replacement->spec->spread[0]).size(), 2u) << "the tainted zone is not a domain";
}

TEST(Scheduling, SpreadKeepsSkewAndCountsOnlyMatchingLivePods) {
  World w;
  w.nodes = {node("a1", "a"), node("b1", "b"), node("c1", "c")};
  w.pods = {pod("w1", "a1", spread()), pod("w2", "b1", spread()), pod("other", "c1", "", "100m", "db")};
  auto p = schedule(w.view(), *pod("w3", "", spread()));
  ASSERT_TRUE(p.node);
  EXPECT_EQ(*p.node, "c1") << "c has no web pod (the db pod does not count)";
}

TEST(Scheduling, MinDomainsForcesGlobalMinimumZero) {
  World w;
  w.nodes = {node("a1", "a"), node("b1", "b")};
  const std::string c = R"("topologySpreadConstraints":[{"maxSkew":1,"minDomains":3,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}])";
  w.pods = {pod("w1", "a1", c), pod("w2", "b1", c)};
  auto p = schedule(w.view(), *pod("w3", "", c));
  EXPECT_FALSE(p.node) << "fewer domains than minDomains: the minimum counts as 0, every zone already has 1";
}

TEST(Scheduling, TaintsTolerationsSelectorsAffinityAndFit) {
  World w;
  w.nodes = {node("tainted", "a", false, R"({"key":"dedicated","value":"db","effect":"NoSchedule"})"),
             node("small", "b", false, "", "200m"), node("ok", "c")};
  w.pods = {pod("hog", "small", "", "150m", "x")};
  auto v = w.view();
  EXPECT_EQ(filter(v, *pod("p", "", ""), *w.nodes[0]), "node(s) had untolerated taint {dedicated: db}");
  EXPECT_EQ(filter(v, *pod("p", "", R"("tolerations":[{"key":"dedicated","operator":"Equal","value":"db","effect":"NoSchedule"}])"), *w.nodes[0]), "");
  EXPECT_EQ(filter(v, *pod("p", "", R"("tolerations":[{"operator":"Exists"}])"), *w.nodes[0]), "") << "empty key + Exists tolerates all";
  EXPECT_EQ(filter(v, *pod("p", "", ""), *w.nodes[1]), "Insufficient cpu");
  EXPECT_EQ(filter(v, *pod("p", "", R"("nodeSelector":{"topology.kubernetes.io/zone":"a"})"), *w.nodes[2]),
            "node(s) didn't match Pod's node affinity/selector");
  const std::string aff = R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"NotIn","values":["c"]}]}]}}})";
  EXPECT_NE(filter(v, *pod("p", "", aff), *w.nodes[2]), "");
  auto p = schedule(v, *pod("p", "", ""));
  ASSERT_TRUE(p.node);
  EXPECT_EQ(*p.node, "ok");
}

TEST(Scheduling, UnschedulableNodeIsSkippedUnlessTolerated) {
  World w;
  w.nodes = {node("a1", "a", true)};
  auto v = w.view();
  EXPECT_EQ(filter(v, *pod("p", "", ""), *w.nodes[0]), "node(s) were unschedulable");
  EXPECT_EQ(filter(v, *pod("ds", "", R"("tolerations":[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}])"), *w.nodes[0]), "");
}

TEST(Scheduling, DefaultSpreadingPrefersEmptierZones) {
  World w;
  w.nodes = {node("a1", "a"), node("a2", "a"), node("b1", "b")};
  w.pods = {pod("w1", "a1", ""), pod("w2", "a2", "")};
  auto p = schedule(w.view(), *pod("w3", "", ""));
  ASSERT_TRUE(p.node);
  EXPECT_EQ(*p.node, "b1") << "system default constraints (ScheduleAnyway) score zone b higher";
}

}  // namespace
}  // namespace nonevent::planner

namespace nonevent::planner {
namespace {

// kube-scheduler (pkg/scheduler/schedule_one.go numFeasibleNodesToFind): all nodes below 100,
// then 50% minus 1% per 125 nodes (at least 5%), never fewer than 100.
TEST(Scheduling, FeasibleNodesToFindFollowsTheSchedulersAdaptivePercentage) {
  EXPECT_EQ(feasible_nodes_to_find(50, 0), 50u);
  EXPECT_EQ(feasible_nodes_to_find(150, 0), 100u);
  EXPECT_EQ(feasible_nodes_to_find(1000, 0), 420u);
  EXPECT_EQ(feasible_nodes_to_find(5000, 0), 500u);
  EXPECT_EQ(feasible_nodes_to_find(10000, 0), 500u);  // the 5% floor
  EXPECT_EQ(feasible_nodes_to_find(5000, 100), 5000u);
  EXPECT_EQ(feasible_nodes_to_find(5000, 30), 1500u);
}

}  // namespace
}  // namespace nonevent::planner
