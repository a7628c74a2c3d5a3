#pragma once
// Predicts, before anything moves, whether the pods a drain would evict can be placed again
// on the rest of the cluster, with kube-scheduler's rules (resource fit, taints, affinity,
// topology spread counting the drained nodes' domains exactly as the scheduler would). The
// campaign asks it before each batch; a batch whose pods would stay Pending is refused.
#include <set>
#include <string>
#include <vector>

#include "model/objects.h"

namespace nonevent::planner {

struct Unplaceable {
  // The evicted pod whose replacement finds no node, or a pod of the same workload that is
  // already Pending and would still find none.
  const model::Pod* pod = nullptr;
  std::string reason;  // the scheduler's words: "0/9 nodes are available: ..."
};

// A PatchCampaign's patch pods carry this label: pinned to their node like a DaemonSet's pods
// and part of the node's maintenance, never something a drain moves.
inline constexpr const char* kPatchPodLabel = "nonevent.dev/campaign";
// Pods no drain moves wherever they run: mirror pods, DaemonSet pods and patch pods. The one
// rule the planner's predictions and the drain engine share.
bool never_drained(const model::Pod& pod);
// Pods a drain evicts: bound, not finished, not terminating, and not never_drained.
bool evicted_by_drain(const model::Pod& pod);
// Pods the scheduler still has to place: unbound, not finished, not terminating.
bool waits_for_node(const model::Pod& pod);

struct Placed {
  const model::Pod* pod = nullptr;  // the evicted pod whose replacement lands...
  std::string node;                 // ...here
};
struct DrainPrediction {
  std::vector<Placed> placed;
  std::vector<Unplaceable> unplaceable;
};

// `nodes`/`pods`: the whole cluster. `drained`: node names about to be cordoned and drained
// (nodes already unschedulable stay so). Where each evicted pod's replacement would go.
DrainPrediction predict_drain(const std::vector<const model::Node*>& nodes, const std::vector<const model::Pod*>& pods,
                              const std::set<std::string>& drained);
// Just the evicted pods that would find no node.
std::vector<Unplaceable> unplaceable_after_drain(const std::vector<const model::Node*>& nodes,
                                                 const std::vector<const model::Pod*>& pods,
                                                 const std::set<std::string>& drained);

}  // namespace nonevent::planner
