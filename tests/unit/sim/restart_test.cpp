// `sim serve --state`: the API server restarted over the storage it saved, as kube-apiserver
// restarts over etcd. Objects keep their versions and uids, the version counter continues, a
// watch from before the restart is told to relist (410), CRDs are served again, pods keep
// their Ready state (the kubelets did not restart), and a node that was rebooting finishes.
#include <gtest/gtest.h>

#include <sstream>

#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using web::json::value;

constexpr const char* kClusterYaml =
    "zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: 2, cpu: '4', memory: 16Gi, imageVersion: v1}]\n"
    "timings: {podStartSeconds: 2, podReadySeconds: 3, terminationSeconds: 5, nodeRebootSeconds: 60}\n";

constexpr const char* kWidgetCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Cluster
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
)";

ApiResponse get(ApiServer& api, const std::string& path, std::map<std::string, std::string> query = {}) {
  ApiRequest r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(query);
  return api.handle(r);
}

bool node_ready(const value& node) {
  if (const value* cs = json::at(node, {"status", "conditions"}); cs && cs->is_array())
    for (const auto& c : cs->as_array())
      if (json::str(c, {"type"}) == "Ready") return json::str(c, {"status"}) == "True";
  return false;
}

// Ready web pods per zone, read from a store.
std::map<std::string, int> ready_web_per_zone(ObjectStore& store) {
  std::map<std::string, int> out;
  for (const auto& p : json::list_objects(store, "/pods", "shop")) {
    if (!json::pod_ready(p) || json::terminating(p)) continue;
    ++out[json::str(json::get_object(store, "/nodes", "", json::str(p, {"spec", "nodeName"})),
                    {"metadata", "labels", "topology.kubernetes.io/zone"})];
  }
  return out;
}

// The cluster as `sim serve --state` brings it back: its storage saved and restored, a new
// API server and simulation over it on the same clock.
struct Restarted {
  explicit Restarted(Cluster& k) : store(restore(k)), api(std::make_shared<ApiServer>(store, k.clock)),
                                   sim(api, k.clock, parse_cluster_spec(kClusterYaml, "test")) {}
  static std::shared_ptr<ObjectStore> restore(Cluster& k) {
    std::stringstream saved;
    k.store->save(saved);
    auto s = std::make_shared<ObjectStore>();
    ApiServer::restore_storage(*s, saved);
    return s;
  }
  std::shared_ptr<ObjectStore> store;
  std::shared_ptr<ApiServer> api;
  Simulation sim;
};

TEST(SimRestart, TheServerRestartedOverItsSavedStorageServesTheSameClusterAndFinishesAReboot) {
  Cluster k(kClusterYaml);
  k.apply(web_yaml(6));
  k.apply(kWidgetCrd);
  k.run(30s);
  const auto ready_before = k.ready_pods_per_zone("web");
  ASSERT_EQ(ready_before, (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
  // n-a-0 is rebooting into v2 when the server stops.
  k.patch("/api/v1/nodes/n-a-0", R"({"metadata":{"annotations":{"nonevent.dev/desired-version":"v2"}}})");
  k.run(5s);
  ASSERT_FALSE(node_ready(k.get("/nodes", "", "n-a-0")));
  const auto pod_before = k.list("/pods", "shop").front();
  const uint64_t rv_before = k.store->resource_version();

  Restarted after(k);
  auto& store = after.store;
  auto& api = after.api;
  auto& sim = after.sim;

  EXPECT_EQ(store->resource_version(), rv_before);
  const auto name = json::name(pod_before);
  const auto pod_after = json::get_object(*store, "/pods", "shop", name);
  EXPECT_EQ(model::to_json(pod_after), model::to_json(pod_before)) << "versions, uids and status kept";
  auto widget = get(*api, "/apis/example.com/v1/widgets/w1");
  EXPECT_EQ(widget.status, 200) << widget.body;
  auto old_watch = store->watch({.resource = "/pods"}, std::to_string(rv_before - 5));
  ASSERT_FALSE(old_watch.ok()) << "history starts at the restart";
  EXPECT_EQ(old_watch.error().code, 410);

  EXPECT_EQ(ready_web_per_zone(*store), ready_before) << "pods stay Ready across the restart";
  sim.run_until(k.clock->now() + 1s, *k.clock);
  EXPECT_EQ(ready_web_per_zone(*store), ready_before) << "the kubelets do not start them again";
  sim.run_until(k.clock->now() + 70s, *k.clock);
  const auto node = json::get_object(*store, "/nodes", "", "n-a-0");
  EXPECT_TRUE(node_ready(node));
  EXPECT_EQ(json::str(node, {"metadata", "labels", "nonevent.dev/image-version"}), "v2");
  EXPECT_FALSE(json::at(node, {"metadata", "annotations", "sim.nonevent.dev/rebooting-into"})) << model::to_json(node);
  // The counter continues: a new write's version is past everything saved.
  auto created = api->create_object(parse_yaml_documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: default}\n")[0]);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_GT(store->resource_version(), rv_before);
}

// The soak's mass NotReady after every sim restart: a restarted agent saw every Succeeded
// patch pod as new and rebooted each node whose old patch Jobs were still there back into
// their versions (a downgrade), and served every kured reboot request again.
TEST(SimRestart, WhatTheNodeAgentServedBeforeARestartIsNotServedAgain) {
  using namespace std::chrono_literals;
  Cluster k(kClusterYaml);
  k.run(5s);
  // A patch pod on n-a-0 for v2 succeeds: the node reboots into v2.
  k.apply(R"(apiVersion: v1
kind: Pod
metadata: {name: patch-n-a-0, namespace: default, annotations: {nonevent.dev/target-version: v2, sim.nonevent.dev/run-seconds: "1"}}
spec: {nodeName: n-a-0, restartPolicy: Never, tolerations: [{operator: Exists}], containers: [{name: patch, image: patcher}]}
)");
  k.run(90s);
  ASSERT_EQ(json::str(k.get("/nodes", "", "n-a-0"), {"metadata", "labels", "nonevent.dev/image-version"}), "v2");
  // Then moved on to v3 (an outside agent), and n-b-0 rebooted once for kured.
  k.patch("/api/v1/nodes/n-a-0", R"({"metadata":{"annotations":{"nonevent.dev/desired-version":"v3"}}})");
  k.patch("/api/v1/nodes/n-b-0", R"({"metadata":{"annotations":{"sim.nonevent.dev/reboot-request":"r1"}}})");
  k.run(90s);
  ASSERT_EQ(json::str(k.get("/nodes", "", "n-a-0"), {"metadata", "labels", "nonevent.dev/image-version"}), "v3");
  ASSERT_TRUE(node_ready(k.get("/nodes", "", "n-b-0")));

  Restarted after(k);
  auto& store = after.store;
  auto& sim = after.sim;
  sim.run_until(k.clock->now() + 5s, *k.clock);
  for (const auto& n : json::list_objects(*store, "/nodes", "")) EXPECT_TRUE(node_ready(n)) << json::name(n) << " rebooted again";
  sim.run_until(k.clock->now() + 90s, *k.clock);
  EXPECT_EQ(json::str(json::get_object(*store, "/nodes", "", "n-a-0"), {"metadata", "labels", "nonevent.dev/image-version"}), "v3")
      << "not back to the old patch pod's v2";
}

TEST(SimRestart, SavedStorageThatIsNotWhatSaveWroteIsRefusedNamingTheLine) {
  ObjectStore store;
  std::stringstream bad("{\"resourceVersion\":10}\n{\"resource\":\"/pods\",\"object\":{\"metadata\":{\"name\":\"p\"}}}\n");
  try {
    ApiServer::restore_storage(store, bad);
    FAIL() << "accepted an object without a resourceVersion";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::stringstream ahead("{\"resourceVersion\":3}\n{\"resource\":\"/pods\",\"object\":{\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"9\"}}}\n");
  EXPECT_THROW(ApiServer::restore_storage(store, ahead), std::runtime_error);
  std::stringstream empty("");
  EXPECT_THROW(ApiServer::restore_storage(store, empty), std::runtime_error);
}

}  // namespace
}  // namespace nonevent::sim
