#pragma once
// drain.rollout (issue 25): moving a pod its PodDisruptionBudget will not let go — a
// single-replica Deployment, or one whose budget equals its replicas — by its Deployment
// itself, while its node is cordoned, so the new pod is Ready elsewhere before the old one
// goes and availability never drops:
//   - a rollout (the template annotation `kubectl rollout restart` sets) when the strategy
//     surges (maxSurge >= 1 and maxUnavailable 0 after rounding);
//   - otherwise one replica more, then, once it is Ready, the pod on the draining node marked
//     cheapest to delete (controller.kubernetes.io/pod-deletion-cost) and the replicas put
//     back, so the ReplicaSet removes exactly that pod.
// The move is recorded on the Deployment (annotation nonevent.dev/move, label
// nonevent.dev/moving) and on the node (nonevent.dev/moves), so a restarted operator finishes
// it and a released node's unfinished scale-up is undone. A Deployment an
// HorizontalPodAutoscaler scales is only ever moved by a rollout. StatefulSets, bare pods and
// anything else that cannot surge stay blockers, named as such.
#include <optional>
#include <string>
#include <vector>

#include "controllers/drain_policy.h"
#include "kube/event_recorder.h"
#include "kube/rest_client.h"
#include "model/objects.h"
#include "planner/preflight.h"

namespace nonevent::controllers {

inline constexpr const char* kMove = "nonevent.dev/move";        // on a Deployment: the move in progress (JSON)
inline constexpr const char* kMovingLabel = "nonevent.dev/moving";
inline constexpr const char* kNodeMoves = "nonevent.dev/moves";  // on a node: "<ns>/<deployment>" being moved off it
inline constexpr const char* kDeletionCost = "controller.kubernetes.io/pod-deletion-cost";

class RolloutMover {
 public:
  RolloutMover(kube::RestClient& client, kube::EventRecorder& events) : client_(client), events_(events) {}

  struct Outcome {
    bool moving = false;                              // the Deployment is moving it: wait, no eviction
    std::optional<planner::PreflightBlocker> blocker;  // why it cannot be moved this way
  };
  // For `pod` on `node` (claimed by `claim`) whose eviction its budget refuses.
  Outcome move(const model::Pod& pod, const model::Node& node, const std::string& claim, const RolloutPolicy& policy, kube::TimePoint now);
  // Moves the moves recorded on `node` on: a rollout done, a scale-up's extra replica
  // available (the node's pod marked cheapest, replicas put back), the pod gone.
  void advance(const model::Node& node);
  // A node given back: moves off it still scaling up are undone, finished ones forgotten (the
  // caller drops the node's nonevent.dev/moves with its other claim annotations).
  void release(const model::Node& node);

 private:
  // The moves the node's nonevent.dev/moves names whose record on their Deployment is for
  // this node: what advance() moves on and release() ends.
  struct RecordedMove {
    std::string ns, name;
    web::json::value deployment, record;
  };
  std::vector<RecordedMove> moves_on(const model::Node& node);
  // The object, or why not (404, a failed read, or a body that is not JSON).
  kube::Result<web::json::value> get_json(const kube::GroupVersionResource& r, const std::string& ns, const std::string& name);
  bool namespace_selected(const std::string& ns, const RolloutPolicy& policy);
  bool scaled_by_hpa(const std::string& ns, const std::string& deployment);
  void finish(const std::string& ns, const std::string& name, const web::json::value& deployment, std::optional<int64_t> replicas);
  // Whether the move recorded on a Deployment has lost its node's record (node gone, or its
  // nonevent.dev/moves no longer names the Deployment); if so, ends it.
  bool move_is_orphaned(const std::string& ns, const std::string& name, const web::json::value& deployment, const std::string& recorded);
  kube::RestClient& client_;
  kube::EventRecorder& events_;
};

}  // namespace nonevent::controllers
