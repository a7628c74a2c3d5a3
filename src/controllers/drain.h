#pragma once
// The drain engine both controllers share (design 1.3, 2.2): claims and cordons a node with
// the claim annotations, evicts its pods through the eviction API (so the API server enforces
// every PodDisruptionBudget) while holding each PDB to the disruptions its status allows, so
// the operator does not hammer 429s, and releases the node again, uncordoning only what it
// cordoned. Completion is read from the pod cache, never by polling.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/node_state.h"
#include "controllers/rollout_move.h"
#include "controllers/window_spec.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "model/codecs.h"
#include "planner/preflight.h"

namespace nonevent::controllers {

using NodeInformer = kube::Informer<model::Node, model::CodecFor<model::Node>>;
using PodInformer = kube::Informer<model::Pod, model::CodecFor<model::Pod>>;
using PdbInformer = kube::Informer<model::PodDisruptionBudget, model::CodecFor<model::PodDisruptionBudget>>;
using GenericInformer = kube::Informer<model::GenericObject, model::CodecFor<model::GenericObject>>;

inline constexpr const char* kClaimedBy = "nonevent.dev/claimed-by";
inline constexpr const char* kNodeState = "nonevent.dev/state";
inline constexpr const char* kWasUnschedulable = "nonevent.dev/was-unschedulable";
inline constexpr const char* kStateSince = "nonevent.dev/state-since";
inline constexpr const char* kClaimedAt = "nonevent.dev/claimed-at";
inline constexpr const char* kBlockedSince = "nonevent.dev/blocked-since";  // first seen blocked by policy
// failurePolicy.undrainable: Quarantine: a node whose drain ran past drainTimeout is left
// cordoned, released, and marked with who quarantined it, when and why. Nobody takes it again
// until a person removes the mark (and uncordons it).
inline constexpr const char* kQuarantinedBy = "nonevent.dev/quarantined-by";
inline constexpr const char* kQuarantinedAt = "nonevent.dev/quarantined-at";
inline constexpr const char* kQuarantineReason = "nonevent.dev/quarantine-reason";
// Replace with maxSurge: the MachineDeployment ("<ns>/<name>") scaled up for this node, and the
// new node that took its place (so one new node never stands in for two old ones).
inline constexpr const char* kSurgeFrom = "nonevent.dev/surge-from";
inline constexpr const char* kReplacement = "nonevent.dev/replacement";

// Design 2.2a: while nonevent holds a node, the other disruptors keep off it. cluster-autoscaler
// deletes empty nodes whatever their cordon (only this annotation stops it) and Karpenter
// consolidates them. Set in the claim's own patch; the values they had before are recorded
// beside the claim and put back exactly on release (a value a user had set survives).
struct ProtectionAnnotation {
  const char* key;
  const char* prior;  // where the value it had before the claim is recorded
};
inline constexpr ProtectionAnnotation kProtections[] = {
    {"cluster-autoscaler.kubernetes.io/scale-down-disabled", "nonevent.dev/prior-scale-down-disabled"},
    {"karpenter.sh/do-not-disrupt", "nonevent.dev/prior-do-not-disrupt"},
};
// Recorded as the prior value of an annotation the node did not have.
inline constexpr const char* kAbsent = "<absent>";
// A node a campaign has patched keeps the protections after its claim is released, until the
// campaign ends (design 2.2a, issue 24.3): the autoscaler must not trade it for a fresh,
// unpatched node mid-campaign. The value names the campaign ("PatchCampaign/<name>").
inline constexpr const char* kProtectedBy = "nonevent.dev/protected-by";
// Test-only: claims stop writing the protections (to show a test of them bites).
void set_protections_enabled_for_tests(bool enabled);

// Why a pod or node holds a drain up, as it appears in status.blockers and Events (the
// planner's type: the preflight predicts the same blockers the drain meets).
using Blocker = planner::PreflightBlocker;

// Evictions made in one reconcile pass, across all its nodes.
// A pass looks at every pod of every node it drains (50,000 at 5,000 nodes), so its
// bookkeeping is keyed by interned strings and object addresses, never by built strings.
struct DrainBudget {
  int max_in_flight = 50;  // DrainPolicy.maxConcurrentEvictions
  int in_flight = 0;       // pods terminating on the nodes being drained
  // Evictions made this pass per PDB (the PDB objects are pinned by pdbs_by_labels below).
  std::map<const model::PodDisruptionBudget*, int> pdb_used;
  // One 429 per workload per pass is enough: refused controllers by (namespace, controller
  // name), both interned; refused bare pods by "<ns>/<name>".
  std::set<std::pair<const std::string*, const std::string*>> owners_refused;
  std::set<std::string> bare_pods_refused;
  // The PDBs selecting a pod, by namespace and (interned) label set: a workload's pods share
  // one, and matching every PDB of the namespace for every pod was the operator's hot spot
  // at 150,000 pods (20 namespaces x 250 PDBs).
  // The entry pins its label set, so no other set can take its address during the pass.
  struct SelectingPdbs {
    std::shared_ptr<const model::Labels> pin;
    std::vector<std::shared_ptr<const model::PodDisruptionBudget>> pdbs;
  };
  std::map<std::pair<const std::string*, const model::Labels*>, SelectingPdbs> pdbs_by_labels;  // (interned ns, labels)
};

struct DrainResult {
  int remaining = 0;  // pods that still have to leave
  int evicted = 0;    // evictions accepted in this pass
  int forced = 0;     // pods deleted by onBlocked: Force in this pass
  bool policy_blocked = false;  // a pod the policy will not evict (bare, emptyDir, do-not-evict)
  std::vector<Blocker> blockers;
};

// What the drain engine reports as it works (the eviction and drain-duration metrics).
struct DrainObserver {
  std::function<void(const char* result)> on_eviction;  // success | pdb_blocked | error
  std::function<void(double seconds)> on_drained;       // claim to empty, per node
};

class Drainer {
 public:
  Drainer(kube::RestClient& client, kube::EventRecorder& events, PodInformer& pods, PdbInformer* pdbs,
          DrainObserver observer = {})
      : client_(client), events_(events), pods_(pods), pdbs_(pdbs), observer_(std::move(observer)), mover_(client, events) {}

  // Claims and cordons `node` for `claim` (e.g. "PatchCampaign/x"), recording whether it was
  // already unschedulable, with any `extra` annotations. The node must not be claimed by
  // anyone else. Without `cordon` the node stays schedulable (a surge node waiting for its
  // replacement); cordon() does it later.
  kube::Status claim(const model::Node& node, const std::string& claim, NodeState state, kube::TimePoint now,
                     bool cordon = true, const std::map<std::string, std::string>& extra = {});
  // Cordons a claimed node and moves it to `state`, with any `extra` annotations.
  kube::Status cordon(const model::Node& node, NodeState state, kube::TimePoint now,
                      const std::map<std::string, std::string>& extra = {});
  // Moves a claimed node to another state (no write when it is already there).
  kube::Status set_state(const model::Node& node, NodeState state, kube::TimePoint now);
  // Gives a claimed node back to service for the rest of its claim (state skipped, still
  // claimed so it is not taken again): uncordoned unless it was unschedulable before.
  kube::Status skip(const model::Node& node, kube::TimePoint now);
  // One pass of evictions over the node's pods. DaemonSet and mirror pods are never evicted;
  // bare, emptyDir and do-not-evict pods are blockers unless the policy allows them. With
  // onBlocked: Force, bare and emptyDir pods blocked for forceAfter (since the node's
  // blocked-since annotation) are deleted instead, and said so in an Event; do-not-evict pods
  // and pods a PDB protects are never forced (no PDB is ever driven below its budget).
  DrainResult drain(const model::Node& node, const DrainPolicy& policy, DrainBudget& budget, kube::TimePoint now);
  // Records (or clears) when the node was first found blocked by policy.
  kube::Status mark_blocked(const model::Node& node, bool blocked, kube::TimePoint now);
  // Drops the claim; uncordons unless `keep_cordoned` or the node was unschedulable before.
  // With `protect_for` (a campaign's claim value), the protections stay on the node, marked
  // protected-by, until unprotect(); so do they while another protection is in force.
  // `mark`: annotations the same write sets (a quarantine's, so no crash leaves the node
  // released and unmarked).
  kube::Status release(const model::Node& node, bool keep_cordoned, const std::string& why, const std::string& protect_for = "",
                       const std::map<std::string, std::string>& mark = {});
  // Ends a protected-by mark: the protections get their prior values back (left to the
  // claim's release when the node is claimed again meanwhile).
  kube::Status unprotect(const model::Node& node);
  // Why the policy forbids evicting `pod` ("DoNotEvict", "UnmanagedPod", "EmptyDir"), or "".
  static std::string blocker_reason(const model::Pod& pod, const DrainPolicy& policy, std::string* message = nullptr);
  // Whether draining `node` would meet such a pod (so a batch can take other nodes first).
  bool has_blockers(const model::Node& node, const DrainPolicy& policy) const;
  // Reports a node found empty: the Drained Event and the drain-duration metric.
  void drained(const model::Node& node, const std::string& claim, kube::TimePoint now);

 private:
  // The PDB selecting `pod` whose status allows no further eviction in this pass, or null.
  const model::PodDisruptionBudget* exhausted_pdb(const model::Pod& pod, DrainBudget& budget) const;
  const std::vector<std::shared_ptr<const model::PodDisruptionBudget>>& pdbs_selecting(const model::Pod& pod, DrainBudget& budget) const;

  kube::RestClient& client_;
  kube::EventRecorder& events_;
  PodInformer& pods_;
  PdbInformer* pdbs_;
  DrainObserver observer_;
  RolloutMover mover_;  // drain.rollout: pods a budget holds moved by their Deployment
};

const std::string* claim_of(const model::Node& node);
// The claimed-by value an owner writes: "MaintenanceWindow/<name>" or "PatchCampaign/<name>".
inline std::string claim_for(std::string_view kind, std::string_view name) {
  return std::string(kind) + "/" + std::string(name);
}
kube::ObjectReference node_ref(const model::Node& node);

}  // namespace nonevent::controllers
