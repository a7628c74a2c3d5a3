// The embedded cluster's other disruptors (sim/disruptors.h), each against the rules of the
// real component it stands for: what it removes or reboots, and what keeps it off a node.
#include <gtest/gtest.h>

#include "sim/disruptors.h"
#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using web::json::value;

std::string cluster_with(const std::string& disruptors, int per_zone = 2) {
  return "zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: " + std::to_string(per_zone) +
         ", cpu: '4', memory: 16Gi, imageVersion: v1}]\n"
         "timings: {podStartSeconds: 2, podReadySeconds: 3, terminationSeconds: 5, nodeRebootSeconds: 30, "
         "nodeProvisionSeconds: 60}\n"
         "disruptors:\n" +
         disruptors;
}
bool exists(Cluster& k, const std::string& node) { return k.store->get("/nodes", "", node) != nullptr; }
std::set<std::string> node_names(Cluster& k) {
  std::set<std::string> out;
  for (const auto& n : k.list("/nodes")) out.insert(json::name(n));
  return out;
}

TEST(ClusterAutoscaler, DeletesEmptyNodesWhateverTheirCordonButNotThoseAnnotatedOrBelowTheMinimum) {
  Cluster k(cluster_with("  clusterAutoscaler: {scaleDownUnneededSeconds: 600, minNodesPerGroup: 0}\n"));
  k.apply(web_yaml(3));  // one pod per zone: one node of each zone stays busy
  k.run(30s);
  // Zone a's nodes are cordoned and emptied, as a window does; one of them says hands off.
  k.patch("/api/v1/nodes/n-a-0", R"({"spec":{"unschedulable":true},"metadata":{"annotations":{")" +
                                     std::string(kScaleDownDisabled) + R"(":"true"}}})");
  k.patch("/api/v1/nodes/n-a-1", R"({"spec":{"unschedulable":true}})");
  for (const auto& p : k.list("/pods", "shop")) k.evict("shop", json::name(p));
  k.run(5min);
  EXPECT_TRUE(exists(k, "n-a-1")) << "deleted before scaleDownUnneededTime";
  k.run(10min);
  EXPECT_TRUE(exists(k, "n-a-0")) << "the annotation scale-down-disabled must stop it";
  EXPECT_FALSE(exists(k, "n-a-1")) << "an empty node is deleted whatever its cordon";
  k.run(5min);
  EXPECT_FALSE(exists(k, "n-a-1")) << "its group shrank: the provisioner must not bring it back";
  // Zones b and c run the pods that left a (three on four nodes): the emptied ones went too.
  int left = 0;
  for (const auto& n : node_names(k)) left += n != "n-a-0";
  EXPECT_GE(left, 2);
  EXPECT_LE(left, 4);
}

TEST(ClusterAutoscaler, KeepsAGroupAtItsMinimum) {
  Cluster k(cluster_with("  clusterAutoscaler: {scaleDownUnneededSeconds: 60, minNodesPerGroup: 2}\n"));
  k.run(10min);  // every node empty for ten minutes
  EXPECT_EQ(node_names(k).size(), 6u);
}

TEST(ClusterAutoscaler, AddsANodeOfThePoolsImageWhenPodsStayPending) {
  Cluster k(cluster_with("  clusterAutoscaler: {scaleDownUnneededSeconds: 6000, scaleUpDelaySeconds: 10}\n", 1));
  // Each node holds one of these (3 CPU of 4): the fourth has no room anywhere.
  k.apply(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec: {containers: [{name: c, image: x, resources: {requests: {cpu: '3'}}}]}
)");
  k.patch("/api/v1/nodes/n-a-0", R"({"metadata":{"labels":{"nonevent.dev/image-version":"v2"}}})");  // patched since
  k.run(2min);
  const auto names = node_names(k);
  ASSERT_EQ(names.size(), 4u);
  std::string added;
  for (const auto& n : names)
    if (n.find("-ca-") != std::string::npos) added = n;
  ASSERT_FALSE(added.empty());
  EXPECT_EQ(json::str(k.get("/nodes", "", added), {"metadata", "labels", "nonevent.dev/image-version"}), "v1")
      << "a new node comes from the group's template, not from a patched node";
  int ready = 0;
  for (const auto& p : k.list("/pods", "shop")) ready += json::pod_ready(p);
  EXPECT_EQ(ready, 4);
}

TEST(Karpenter, ConsolidatesEmptyNodesUnlessTheNodeOrAPodSaysDoNotDisrupt) {
  Cluster k(cluster_with("  karpenter: {consolidateAfterSeconds: 30}\n"));
  k.patch("/api/v1/nodes/n-a-0", R"({"metadata":{"annotations":{"karpenter.sh/do-not-disrupt":"true"}}})");
  k.apply(R"(apiVersion: v1
kind: Pod
metadata: {name: keep, namespace: shop, annotations: {karpenter.sh/do-not-disrupt: "true"}}
spec:
  nodeName: n-b-0
  containers: [{name: c, image: x}]
)");
  k.run(10s);
  EXPECT_EQ(node_names(k).size(), 6u) << "before consolidateAfter";
  k.run(10min);
  EXPECT_EQ(node_names(k), (std::set<std::string>{"n-a-0", "n-b-0"}));
}

TEST(Kured, RebootsOneNodeAtATimeUnderTheLockAndWaitsForAnotherHolder) {
  Cluster k(cluster_with("  kured: {periodSeconds: 60}\n"));
  k.apply(web_yaml(3));
  k.run(30s);
  // Someone else holds the lock: nothing happens.
  k.patch("/apis/apps/v1/namespaces/kube-system/daemonsets/kured",
          R"({"metadata":{"annotations":{"weave.works/kured-node-lock":"{\"nodeID\":\"nonevent:PatchCampaign/x\"}"}}})");
  for (const char* n : {"n-a-0", "n-b-0"})
    k.patch(std::string("/api/v1/nodes/") + n, R"({"metadata":{"annotations":{"sim.nonevent.dev/reboot-required":"true"}}})");
  const auto boot = [&](const char* n) { return json::str(k.get("/nodes", "", n), {"status", "nodeInfo", "bootID"}); };
  const auto boot_a = boot("n-a-0"), boot_b = boot("n-b-0");
  k.run(5min);
  EXPECT_EQ(boot("n-a-0"), boot_a);
  EXPECT_FALSE(json::flag(k.get("/nodes", "", "n-a-0"), {"spec", "unschedulable"}));
  // Released: both reboot, never at the same time.
  k.patch("/apis/apps/v1/namespaces/kube-system/daemonsets/kured", R"({"metadata":{"annotations":{"weave.works/kured-node-lock":null}}})");
  int max_cordoned = 0;
  for (int i = 0; i < 60; ++i) {
    k.run(10s);
    int cordoned = 0;
    for (const auto& n : k.list("/nodes")) cordoned += json::flag(n, {"spec", "unschedulable"});
    max_cordoned = std::max(max_cordoned, cordoned);
  }
  EXPECT_EQ(max_cordoned, 1);
  EXPECT_NE(boot("n-a-0"), boot_a);
  EXPECT_NE(boot("n-b-0"), boot_b);
  for (const auto& n : k.list("/nodes")) {
    EXPECT_FALSE(json::flag(n, {"spec", "unschedulable"})) << json::name(n);
    EXPECT_EQ(json::str(n, {"metadata", "annotations", kRebootRequired}), "") << json::name(n);
  }
  EXPECT_EQ(json::str(k.get("apps/daemonsets", "kube-system", "kured"), {"metadata", "annotations", kKuredLockAnnotation}), "");
}

TEST(NodeMaintenanceOperator, CordonsDrainsLabelsAndLeasesThenUndoesItAllOnDelete) {
  Cluster k(cluster_with("  nodeMaintenance: {}\n"));
  k.apply(web_yaml(6));
  k.run(30s);
  k.apply("apiVersion: nodemaintenance.medik8s.io/v1beta1\nkind: NodeMaintenance\nmetadata: {name: nm-a0}\n"
          "spec: {nodeName: n-a-0, reason: disk}\n");
  k.run(1min);
  auto node = k.get("/nodes", "", "n-a-0");
  EXPECT_TRUE(json::flag(node, {"spec", "unschedulable"}));
  EXPECT_EQ(json::str(node, {"metadata", "labels", kExcludeFromRemediation}), "true");
  EXPECT_TRUE(has_taint(node, "medik8s.io/drain"));
  EXPECT_EQ(json::str(k.get("nodemaintenance.medik8s.io/nodemaintenances", "", "nm-a0"), {"status", "phase"}), "Succeeded");
  EXPECT_EQ(json::str(k.get("coordination.k8s.io/leases", "medik8s-leases", "node-n-a-0"), {"spec", "holderIdentity"}),
            "node-maintenance");
  for (const auto& p : k.list("/pods", "shop")) EXPECT_NE(json::str(p, {"spec", "nodeName"}), "n-a-0");

  ApiRequest del;
  del.method = "DELETE";
  del.path = "/apis/nodemaintenance.medik8s.io/v1beta1/nodemaintenances/nm-a0";
  ASSERT_LT(k.api->handle(del).status, 300);
  k.run(30s);
  node = k.get("/nodes", "", "n-a-0");
  EXPECT_FALSE(json::flag(node, {"spec", "unschedulable"}));
  EXPECT_EQ(json::str(node, {"metadata", "labels", kExcludeFromRemediation}), "");
  EXPECT_FALSE(has_taint(node, "medik8s.io/drain"));
  EXPECT_EQ(k.store->get("/nodemaintenance.medik8s.io/nodemaintenances", "", "nm-a0"), nullptr);
}

TEST(ClusterFile, DisruptorsAreCheckedFieldByField) {
  EXPECT_THROW(parse_cluster_spec(cluster_with("  clusterAutoscaler: {scaleDownUtilizationThreshold: 2}\n"), "t"), std::runtime_error);
  EXPECT_THROW(parse_cluster_spec(cluster_with("  kured: {period: 1}\n"), "t"), std::runtime_error);
  EXPECT_THROW(parse_cluster_spec(cluster_with("  descheduler: {}\n"), "t"), std::runtime_error);
  try {
    parse_cluster_spec(cluster_with("  clusterAutoscaler: {minNodesPerGroup: -1}\n"), "t");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("disruptors.clusterAutoscaler.minNodesPerGroup"), std::string::npos) << e.what();
  }
  const auto spec = parse_cluster_spec(cluster_with("  karpenter: {}\n  nodeMaintenance: {}\n"), "t");
  EXPECT_TRUE(spec.disruptors.karpenter && spec.disruptors.node_maintenance);
  EXPECT_FALSE(spec.disruptors.cluster_autoscaler || spec.disruptors.kured);
}

}  // namespace
}  // namespace nonevent::sim
