#pragma once
// Compact typed views of the objects the operator caches. They hold only what the planner
// and controllers read (about 1 KB per pod instead of ~28 KB for a JSON DOM); writes go to
// the API server as JSON patches, never by re-serialising these views.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "model/interned.h"

namespace nonevent::model {

using TimePoint = std::chrono::system_clock::time_point;

struct Uid {
  std::array<char, 36> bytes{};
  uint8_t size = 0;
  std::string_view view() const { return {bytes.data(), size}; }
  static Uid from(std::string_view s);
};

struct OwnerRef {
  IStr api_version;
  IStr kind;
  IStr name;
  Uid uid;
  bool controller = false;
};

struct ObjectMeta {
  std::string name;
  IStr namespace_;
  Uid uid;
  std::string resource_version;
  int64_t generation = 0;
  std::shared_ptr<const Labels> labels;  // shared between objects with identical label sets
  std::vector<OwnerRef> owners;
  std::vector<IStr> finalizers;
  TimePoint created{};
  std::optional<TimePoint> deleted;  // deletionTimestamp
  const Labels& label_set() const;
  const OwnerRef* controller() const;
};

struct LabelSelectorRequirement {
  IStr key;
  IStr op;  // In, NotIn, Exists, DoesNotExist (and Gt/Lt for node selector terms)
  std::vector<IStr> values;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  bool matches(const Labels& labels) const;
  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
};

struct Toleration {
  IStr key, op, value, effect;
  std::optional<int64_t> seconds;
};

struct Taint {
  IStr key, value, effect;
};

struct NodeSelectorTerm {
  std::vector<LabelSelectorRequirement> match_expressions;
  std::vector<LabelSelectorRequirement> match_fields;
};

struct TopologySpreadConstraint {
  int32_t max_skew = 1;
  IStr topology_key;
  bool do_not_schedule = true;  // whenUnsatisfiable
  std::optional<LabelSelector> selector;
  std::optional<int32_t> min_domains;
  bool honor_node_affinity = true;  // nodeAffinityPolicy, default Honor
  bool honor_node_taints = false;   // nodeTaintsPolicy, default Ignore
  std::vector<IStr> match_label_keys;
};

// What pods stamped from one template share: placement rules and resource requests.
struct PodTemplateInfo {
  Labels node_selector;
  std::vector<Toleration> tolerations;
  std::vector<NodeSelectorTerm> required_node_affinity;  // ORed terms
  std::vector<TopologySpreadConstraint> spread;
  // The node affinity of the PersistentVolumes the pod's claims are bound to (each volume's
  // terms ORed, volumes ANDed): a zonal disk pins the pod to its zone. Not in the pod's own
  // JSON — filled by whoever can see the volumes (the embedded cluster's scheduler).
  std::vector<std::vector<NodeSelectorTerm>> volume_node_affinity;
  bool has_pod_anti_affinity = false;
  int64_t cpu_milli = 0;     // effective requests: max(sum(containers), max(init)) + overhead
  int64_t memory_bytes = 0;
  int32_t priority = 0;
  IStr priority_class;
  IStr scheduler_name;
  std::optional<int64_t> termination_grace_seconds;
  bool restart_always = true;  // restartPolicy Always (the default); Job pods have OnFailure or Never
  std::vector<std::pair<std::string, std::string>> containers;  // name and image of each (not init)
};

struct VolumeInfo {
  bool has_empty_dir = false;
  bool has_host_path = false;
  std::vector<IStr> claims;  // persistentVolumeClaim claimNames
};

enum class PodPhase : uint8_t { kPending, kRunning, kSucceeded, kFailed, kUnknown };

struct Pod {
  ObjectMeta meta;
  IStr node_name;
  std::shared_ptr<const PodTemplateInfo> spec;
  std::shared_ptr<const VolumeInfo> volumes;  // null when the pod has no volumes of note
  PodPhase phase = PodPhase::kPending;
  bool ready = false;
  bool unschedulable = false;  // PodScheduled=False, reason Unschedulable
  bool mirror = false;         // kubernetes.io/config.mirror annotation
  bool do_not_evict = false;   // nonevent.dev/do-not-evict: "true"
  int32_t deletion_cost = 0;   // controller.kubernetes.io/pod-deletion-cost (a ReplicaSet removes lower first)
  std::optional<TimePoint> ready_since;
  // Annotations under nonevent.dev/ (the operator's own bookkeeping on pods).
  std::vector<std::pair<IStr, std::string>> nonevent_annotations;
  bool finished() const { return phase == PodPhase::kSucceeded || phase == PodPhase::kFailed; }  // its containers are done
};

struct NodeCondition {
  IStr type;
  IStr status;
};

struct Node {
  ObjectMeta meta;
  std::vector<std::pair<IStr, std::string>> annotations;  // nodes are few: keep them all
  IStr zone;  // topology.kubernetes.io/zone (or the deprecated failure-domain label)
  bool unschedulable = false;
  std::vector<Taint> taints;
  int64_t cpu_milli = 0;  // allocatable
  int64_t memory_bytes = 0;
  int64_t pods = 0;
  bool ready = false;
  std::vector<NodeCondition> conditions;
  std::string os_image, kernel_version, kubelet_version;
  std::string provider_id;
  const std::string* annotation(std::string_view key) const;
};

struct IntOrPercent {
  bool is_percent = false;
  int32_t value = 0;
  // intstr.GetScaledValueFromIntOrPercent: the number itself, or that percentage of `total`
  // rounded up (a Deployment's maxSurge) or down (its maxUnavailable).
  int64_t scaled(int64_t total, bool round_up) const;
  // "25%" or "3" (a JSON number as its text); nullopt when it is neither.
  static std::optional<IntOrPercent> parse(std::string_view text);
};

struct PodDisruptionBudget {
  ObjectMeta meta;
  std::optional<LabelSelector> selector;  // nil selects nothing; empty selects all (policy/v1)
  std::optional<IntOrPercent> min_available;
  std::optional<IntOrPercent> max_unavailable;
  IStr unhealthy_pod_eviction_policy;  // IfHealthyBudget (default) | AlwaysAllow
  int64_t observed_generation = 0;
  int32_t disruptions_allowed = 0;
  int32_t current_healthy = 0;
  int32_t desired_healthy = 0;
  int32_t expected_pods = 0;
  std::vector<std::string> disrupted_pods;
};

enum class WorkloadKind : uint8_t {
  kDeployment, kReplicaSet, kStatefulSet, kDaemonSet, kJob, kReplicationController
};
const char* to_string(WorkloadKind k);

// Any controller a pod can belong to.
struct Workload {
  WorkloadKind kind = WorkloadKind::kReplicaSet;
  ObjectMeta meta;
  std::optional<int32_t> replicas;
  std::optional<LabelSelector> selector;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  int32_t updated_replicas = 0;
  int64_t observed_generation = 0;
  std::shared_ptr<const PodTemplateInfo> template_spec;
};

struct Lease {
  ObjectMeta meta;
  std::string holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<TimePoint> acquire_time;
  std::optional<TimePoint> renew_time;
  int32_t lease_transitions = 0;
};

// Custom resources (MaintenanceWindow, PatchCampaign): few, so their JSON text is kept and
// parsed by the controller that owns them.
struct GenericObject {
  ObjectMeta meta;
  std::string json;
};

}  // namespace nonevent::model
