// The embedded cluster's Deployment and ReplicaSet controllers against kube-controller-
// manager's rules (sim/deployment_controller.cpp, sim/workload_controllers.cpp).
#include <gtest/gtest.h>

#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using web::json::value;

std::string deployment(int replicas, const std::string& strategy, const std::string& image, const std::string& extra = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  strategy: " + strategy + "\n" + extra +
         "  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n"
         "    spec: {containers: [{name: c, image: '" + image + "', resources: {requests: {cpu: 10m}}}]}\n";
}

struct Counts {
  int pods = 0, ready = 0, old_ready = 0, fresh = 0;
};
Counts counts(Cluster& k, const std::string& new_image) {
  Counts c;
  for (const auto& p : k.list("/pods")) {
    if (json::str(p, {"metadata", "labels", "app"}) != "api" || json::terminating(p)) continue;
    ++c.pods;
    const bool fresh = p.at("spec").at("containers").at(0).at("image").as_string() == new_image;
    c.fresh += fresh;
    if (json::pod_ready(p)) ++c.ready, c.old_ready += !fresh;
  }
  return c;
}

void set_image(Cluster& k, const std::string& image) {
  k.patch("/apis/apps/v1/namespaces/shop/deployments/api",
          R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":")" + image + R"(","resources":{"requests":{"cpu":"10m"}}}]}}}})");
}

// 10 replicas, maxSurge 25% (rounded up: 3) and maxUnavailable 25% (rounded down: 2): never
// more than 13 pods and never fewer than 8 Ready while the template changes, and it ends with
// 10 new ones and a status kubectl rollout status reads as done.
TEST(DeploymentController, RollsWithinMaxSurgeAndMaxUnavailableRoundedAsUpstream) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
  k.apply(deployment(10, "{type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}", "app:1"));
  k.run(60s);
  ASSERT_EQ(counts(k, "app:1").ready, 10);
  set_image(k, "app:2");
  int most_pods = 0, least_ready = 10;
  for (int i = 0; i < 240; ++i) {
    k.run(1s);
    const auto c = counts(k, "app:2");
    most_pods = std::max(most_pods, c.pods);
    least_ready = std::min(least_ready, c.ready);
  }
  EXPECT_LE(most_pods, 13);
  EXPECT_GT(most_pods, 10) << "it never surged";
  EXPECT_GE(least_ready, 8);
  const auto end = counts(k, "app:2");
  EXPECT_EQ(end.fresh, 10);
  EXPECT_EQ(end.pods, 10);
  const value d = k.get("apps/deployments", "shop", "api");
  EXPECT_EQ(json::num(d, {"status", "updatedReplicas"}), 10);
  EXPECT_EQ(json::num(d, {"status", "availableReplicas"}), 10);
  EXPECT_EQ(json::str(d, {"metadata", "annotations", "deployment.kubernetes.io/revision"}), "2");
  std::string progressing;
  for (const auto& c : d.at("status").at("conditions").as_array())
    if (json::str(c, {"type"}) == "Progressing") progressing = json::str(c, {"reason"});
  EXPECT_EQ(progressing, "NewReplicaSetAvailable");
}

// Recreate: every old pod is gone before a new one is created.
TEST(DeploymentController, RecreateStartsNewPodsOnlyOnceTheOldAreGone) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
  k.apply(deployment(3, "{type: Recreate}", "app:1"));
  k.run(60s);
  set_image(k, "app:2");
  bool overlap = false;
  for (int i = 0; i < 120; ++i) {
    k.run(1s);
    int old_pods = 0, new_pods = 0;
    for (const auto& p : k.list("/pods")) {
      if (json::str(p, {"metadata", "labels", "app"}) != "api") continue;  // terminating ones count: they still run
      (p.at("spec").at("containers").at(0).at("image").as_string() == "app:2" ? new_pods : old_pods)++;
    }
    overlap = overlap || (old_pods > 0 && new_pods > 0);
  }
  EXPECT_FALSE(overlap) << "new pods ran beside old ones under Recreate";
  EXPECT_EQ(counts(k, "app:2").ready, 3);
}

// A ReplicaSet scaled down removes the pod with the lowest pod-deletion-cost first.
TEST(ReplicaSetController, ScaleDownHonoursPodDeletionCost) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
  k.apply(deployment(3, "{type: RollingUpdate}", "app:1"));
  k.run(60s);
  auto pods = k.list("/pods");
  std::vector<std::string> names;
  for (const auto& p : pods)
    if (json::str(p, {"metadata", "labels", "app"}) == "api") names.push_back(json::name(p));
  ASSERT_EQ(names.size(), 3u);
  // The oldest-looking pod is made the cheapest to delete; the others cost more.
  for (size_t i = 0; i < names.size(); ++i)
    k.patch("/api/v1/namespaces/shop/pods/" + names[i],
            R"({"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":")" + std::string(i == 1 ? "-100" : "100") + R"("}}})");
  k.patch("/apis/apps/v1/namespaces/shop/deployments/api", R"({"spec":{"replicas":2}})");
  k.run(30s);
  std::set<std::string> left;
  for (const auto& p : k.list("/pods"))
    if (json::str(p, {"metadata", "labels", "app"}) == "api" && !json::terminating(p)) left.insert(json::name(p));
  EXPECT_EQ(left.size(), 2u);
  EXPECT_FALSE(left.count(names[1])) << "the pod with the lowest deletion cost should have gone";
}

// A rollout that cannot progress (pods that never schedule) turns Progressing False with
// ProgressDeadlineExceeded once progressDeadlineSeconds pass without progress.
TEST(DeploymentController, ProgressDeadlineExceededWhenNothingMoves) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
  k.apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  replicas: 1\n"
          "  progressDeadlineSeconds: 120\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n"
          "    spec: {containers: [{name: c, image: x, resources: {requests: {cpu: '64'}}}]}\n");
  auto reason = [&] {
    const value d = k.get("apps/deployments", "shop", "api");
    if (const value* cs = json::at(d, {"status", "conditions"}); cs && cs->is_array())
      for (const auto& c : cs->as_array())
        if (json::str(c, {"type"}) == "Progressing") return json::str(c, {"status"}) + " " + json::str(c, {"reason"});
    return std::string();
  };
  k.run(60s);
  EXPECT_EQ(reason().substr(0, 4), "True");
  k.run(120s);
  EXPECT_EQ(reason(), "False ProgressDeadlineExceeded");
}

}  // namespace
}  // namespace nonevent::sim

namespace nonevent::sim {
namespace {

std::string images_by_ordinal(Cluster& k) {
  std::map<std::string, std::string> by_name;
  for (const auto& p : k.list("/pods"))
    if (json::str(p, {"metadata", "labels", "app"}) == "pg" && !json::terminating(p))
      by_name[json::name(p)] = p.at("spec").at("containers").at(0).at("image").as_string();
  std::string out;
  for (const auto& [n, image] : by_name) out += n + "=" + image + " ";
  return out;
}

// A StatefulSet's new template rolls out highest ordinal first down to the partition; with
// OnDelete only a deleted pod takes it.
TEST(StatefulSetController, RollingUpdateStopsAtThePartitionAndOnDeleteWaitsForADeletion) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
  k.apply("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: pg, namespace: shop}\nspec:\n  replicas: 3\n  serviceName: pg\n"
          "  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}\n  selector: {matchLabels: {app: pg}}\n"
          "  template:\n    metadata: {labels: {app: pg}}\n    spec: {containers: [{name: pg, image: 'pg:1'}]}\n");
  k.run(120s);
  ASSERT_EQ(images_by_ordinal(k), "pg-0=pg:1 pg-1=pg:1 pg-2=pg:1 ");
  k.patch("/apis/apps/v1/namespaces/shop/statefulsets/pg", R"({"spec":{"template":{"spec":{"containers":[{"name":"pg","image":"pg:2"}]}}}})");
  k.run(120s);
  EXPECT_EQ(images_by_ordinal(k), "pg-0=pg:1 pg-1=pg:1 pg-2=pg:2 ") << "only ordinals at or above the partition";
  const auto sts = k.get("apps/statefulsets", "shop", "pg");
  EXPECT_EQ(json::num(sts, {"status", "updatedReplicas"}), 1);
  EXPECT_NE(json::str(sts, {"status", "currentRevision"}), json::str(sts, {"status", "updateRevision"}));
  k.patch("/apis/apps/v1/namespaces/shop/statefulsets/pg", R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}})");
  k.run(240s);
  EXPECT_EQ(images_by_ordinal(k), "pg-0=pg:2 pg-1=pg:2 pg-2=pg:2 ");
  const auto done = k.get("apps/statefulsets", "shop", "pg");
  EXPECT_EQ(json::str(done, {"status", "currentRevision"}), json::str(done, {"status", "updateRevision"}));

  k.patch("/apis/apps/v1/namespaces/shop/statefulsets/pg",
          R"({"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"template":{"spec":{"containers":[{"name":"pg","image":"pg:3"}]}}}})");
  k.run(120s);
  EXPECT_EQ(images_by_ordinal(k), "pg-0=pg:2 pg-1=pg:2 pg-2=pg:2 ") << "OnDelete changed a pod nobody deleted";
  ApiRequest del{.method = "DELETE", .path = "/api/v1/namespaces/shop/pods/pg-1"};
  ASSERT_LT(k.api->handle(del).status, 300);
  k.run(120s);
  EXPECT_EQ(images_by_ordinal(k), "pg-0=pg:2 pg-1=pg:3 pg-2=pg:2 ");
}

}  // namespace
}  // namespace nonevent::sim
