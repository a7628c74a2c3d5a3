#pragma once
// kube-scheduler's placement rules as pure functions over the compact model: resource fit,
// unschedulable nodes, taints and tolerations, node selector and required node affinity,
// and pod topology spread with the scheduler's real semantics (nodeAffinityPolicy default
// Honor, nodeTaintsPolicy default Ignore, minDomains, matchLabelKeys, terminating pods not
// counted) plus the system default spreading for scoring. Used by the embedded cluster's
// scheduler and by the planner's predictions, so both agree on where a pod can go.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"

namespace nonevent::planner {

// What is already on each node (requests of the pods bound to it, not terminated).
struct NodeUsage {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t pods = 0;
};

// A snapshot to place pods into. Pointers stay owned by the caller.
struct ClusterView {
  std::vector<const model::Node*> nodes;
  std::vector<const model::Pod*> pods;  // every pod (for spread counting); bound or not
  std::map<std::string, NodeUsage> usage;  // by node name
  // Adds a pod's requests to its node (after a placement decision, for the next one).
  void bind(const model::Pod& pod, const std::string& node);
};

NodeUsage usage_of(const std::vector<const model::Pod*>& pods, const std::string& node);
std::map<std::string, NodeUsage> usage_by_node(const std::vector<const model::Pod*>& pods);

bool tolerates(const std::vector<model::Toleration>& tolerations, const model::Taint& taint);
// Required node affinity and nodeSelector (what nodeAffinityPolicy: Honor looks at).
bool matches_node_affinity(const model::PodTemplateInfo& spec, const model::Node& node);

// Why a node cannot take a pod, in the scheduler's words; empty when it can.
std::string filter(const ClusterView& view, const model::Pod& pod, const model::Node& node);

struct Placement {
  std::optional<std::string> node;
  // When no node fits: "0/9 nodes are available: 3 node(s) had untolerated taint ..., ..."
  std::string reason;
};
// Picks the best node (filters, then scores: topology spread skew, then least allocated,
// then name for determinism).
Placement schedule(const ClusterView& view, const model::Pod& pod);

// The counting behind topology spread, exposed for the planner: pods matching constraint
// `c` of `pod` per domain, over the nodes the constraint's policies make eligible.
std::map<std::string, int> spread_counts(const ClusterView& view, const model::Pod& pod,
                                         const model::TopologySpreadConstraint& c);

}  // namespace nonevent::planner
