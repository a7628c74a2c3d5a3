// A snapshot loaded for a rehearsal (issue 30): what it lacks is said with what is assumed, pod
// readiness is inferred per workload from the pods' own conditions (median, the cluster's start
// time taken off, the rest defaulted and said so), and objects keep their uids and status so
// owners adopt their pods.
#include "rehearse/snapshot_import.h"

#include <gtest/gtest.h>

#include "sim/api_server.h"
#include "sim/json_util.h"
#include "sim/yaml_json.h"

namespace nonevent::rehearse {
namespace {

using web::json::value;

constexpr const char* kSnapshot = R"(
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, uid: node-1, labels: {topology.kubernetes.io/zone: a}, creationTimestamp: "2026-12-01T00:00:00Z"}
  status:
    allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
    conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2026-12-01T10:00:00.4Z", lastTransitionTime: "2026-12-01T00:00:00Z"}]
- apiVersion: v1
  kind: Node
  metadata: {name: n2, uid: node-2, labels: {topology.kubernetes.io/zone: b}, creationTimestamp: "2026-12-01T00:00:00Z"}
  status:
    allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
    conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2026-12-01T09:59:50Z", lastTransitionTime: "2026-12-01T00:00:00Z"}]
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata: {name: web-1, namespace: shop, uid: rs-web, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: dep-web, controller: true}]}
  spec: {replicas: 3, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1-a, namespace: shop, uid: p1, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-web, controller: true}]}
  spec: {nodeName: n1, containers: [{name: c, image: i}]}
  status: {phase: Running, conditions: [{type: PodScheduled, status: "True", lastTransitionTime: "2026-12-01T09:00:00Z"}, {type: Ready, status: "True", lastTransitionTime: "2026-12-01T09:00:20Z"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1-b, namespace: shop, uid: p2, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-web, controller: true}]}
  spec: {nodeName: n2, containers: [{name: c, image: i}]}
  status: {phase: Running, conditions: [{type: PodScheduled, status: "True", lastTransitionTime: "2026-12-01T09:00:00Z"}, {type: Ready, status: "True", lastTransitionTime: "2026-12-01T09:00:30Z"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1-c, namespace: shop, uid: p3, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-web, controller: true}]}
  spec: {nodeName: n2, containers: [{name: c, image: i}]}
  status: {phase: Running, conditions: [{type: PodScheduled, status: "True", lastTransitionTime: "2026-12-01T09:00:00Z"}, {type: Ready, status: "True", lastTransitionTime: "2026-12-01T09:01:00Z"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: db-0, namespace: data, uid: p4, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: sts-db, controller: true}]}
  spec: {nodeName: n1, containers: [{name: c, image: i}]}
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata: {name: debug, namespace: default, uid: p5}
  spec: {nodeName: n1, containers: [{name: c, image: i}]}
  status: {phase: Running}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cm, namespace: default}
)";

TEST(SnapshotImport, SaysWhatIsMissingInfersReadinessPerWorkloadAndKeepsUids) {
  auto clock = std::make_shared<kube::VirtualClock>();
  auto store = std::make_shared<sim::ObjectStore>();
  sim::ApiServer api(store, clock, {});
  sim::Timings defaults;
  defaults.pod_start_s = 2;
  const auto imported = import_snapshot(sim::parse_yaml_documents(kSnapshot), *store, defaults);
  EXPECT_EQ(kube::format_rfc3339(imported.taken_at), "2026-12-01T10:00:01Z") << "the newest heartbeat, rounded up";
  EXPECT_EQ(imported.spec.zones, (std::vector<std::string>{"a", "b"}));
  std::string warnings;
  for (const auto& w : imported.warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("1 pod(s) of StatefulSet data/db, which is not in the snapshot: an evicted one is not replaced"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("pod default/debug has no owner: once evicted it is gone for good"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("no PodDisruptionBudget in the snapshot"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("ignored 1 ConfigMap(s)"), std::string::npos) << warnings;
  // web: 20, 30 and 60 s from scheduled to Ready: the median 30 s, 28 s after its start.
  ASSERT_EQ(imported.timings.size(), 1u);
  EXPECT_EQ(imported.timings[0].workload, "shop/Deployment/web");
  EXPECT_EQ(imported.timings[0].ready_s, 30);
  EXPECT_EQ(imported.timings[0].samples, 3);
  EXPECT_EQ(imported.spec.timings.ready_s_by_owner.at("rs-web"), 28);
  std::string defaulted;
  for (const auto& d : imported.defaulted) defaulted += d + "\n";
  EXPECT_NE(defaulted.find("pod termination"), std::string::npos);
  EXPECT_NE(defaulted.find("node reboot"), std::string::npos);
  // Kept as they were: the pod's uid and status, its owner's uid.
  const value pod = sim::json::get_object(*store, "/pods", "shop", "web-1-a");
  EXPECT_EQ(sim::json::str(pod, {"metadata", "uid"}), "p1");
  EXPECT_EQ(sim::json::str(pod, {"status", "phase"}), "Running");
  EXPECT_EQ(imported.kinds.at("Pod"), 5);
  EXPECT_EQ(imported.kinds.at("ReplicaSet"), 1);
  EXPECT_EQ(workload_of(pod, {{"shop/web-1", "web"}}), "shop/Deployment/web");
}

TEST(SnapshotImport, ASnapshotWithoutNodesIsRefused) {
  auto clock = std::make_shared<kube::VirtualClock>();
  auto store = std::make_shared<sim::ObjectStore>();
  sim::ApiServer api(store, clock, {});
  try {
    import_snapshot(sim::parse_yaml_documents("apiVersion: v1\nkind: List\nitems: []\n"), *store, {});
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no Node in the snapshot"), std::string::npos);
  }
}

}  // namespace
}  // namespace nonevent::rehearse
