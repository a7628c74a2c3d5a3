// Step 1 of a PatchCampaign pass: every node the campaign holds moves one state on (the
// states: node_state.h). Each advance_* says which states it leaves to; a node whose time in
// a state runs past the strategy's timeout fails (failurePolicy counts it).
#include "controllers/campaign_pass.h"
#include "kube/log.h"
#include "model/indexers.h"
#include "planner/drain_prediction.h"

namespace nonevent::controllers {

using web::json::value;

kube::Status PatchCampaignController::advance_nodes(Pass& p) {
  p.budget = DrainBudget{.max_in_flight = p.c().drain.max_concurrent_evictions};
  for (const auto& n : p.claimed)
    if (read_node_state(*n).state != NodeState::kSurging) p.cordoned_ours.insert(n->meta.name);
  for (const auto& n : p.all_nodes)
    if (const auto* r = n->annotation(kReplacement)) p.paired.insert(*r);
  for (const auto& [node, md] : *p.unseen)
    if (!md.empty()) ++p.surge_extra[md];  // surge claims the cache does not show yet
  for (const auto& n : p.all_nodes)
    if (const auto* q = n->annotation(kQuarantinedBy); q && *q == p.claim) p.quarantined.insert(n->meta.name);
  for (const auto& n : p.claimed)
    if (auto st = advance_node(p, *n); !st.ok()) return st;
  return kube::Unit{};
}

kube::Status PatchCampaignController::advance_node(Pass& p, const model::Node& n) {
  const auto read = read_node_state(n);
  if (read.unknown()) {
    // Written by someone else, or by a newer operator: never guessed at, reported.
    p.blockers.push_back({"Node", "", n.meta.name, "UnknownNodeState",
                          std::string("annotation ") + kNodeState + " is \"" + *read.text + "\", which this operator does not know"});
    return kube::Unit{};
  }
  if (holds_surge(n)) ++p.surge_extra[*holds_surge(n)];
  switch (read.state.value_or(NodeState::kDraining)) {
    case NodeState::kSurging: return advance_surging(p, n);
    case NodeState::kReplacing: return advance_replacing(p, n);
    case NodeState::kFailed: return advance_failed(p, n);
    case NodeState::kCordoned:
    case NodeState::kDraining: return advance_draining(p, n);
    case NodeState::kPatching: return advance_patching(p, n);
    case NodeState::kVerifying: return advance_verifying(p, n);
    case NodeState::kDrained:
    case NodeState::kSkipped:
      // A MaintenanceWindow's states: never written under a campaign's claim.
      p.blockers.push_back({"Node", "", n.meta.name, "UnknownNodeState",
                            std::string("annotation ") + kNodeState + " is \"" + *read.text + "\", a MaintenanceWindow's state"});
      return kube::Unit{};
  }
  return kube::Unit{};
}

kube::TimePoint PatchCampaignController::state_since(const Pass& p, const model::Node& n) {
  return annotation_time(n, kStateSince).value_or(p.now);
}

kube::Status PatchCampaignController::fail_node(Pass& p, const model::Node& n, const std::string& reason, const std::string& message) {
  if (const auto* md = holds_surge(n)) --p.surge_extra[*md];  // released, or kept as failed: the surge goes back
  p.fail(n.meta.name, reason, message);
  p.failed.insert(n.meta.name);
  events_.record(node_ref(n), "Warning", "NodeFailed", p.claim + ": " + message);
  events_.record(p.ref, "Warning", "NodeFailed", n.meta.name + ": " + message);
  // failurePolicy.keepFailedNodesCordoned: the node stays claimed and cordoned (state
  // failed, still counted against maxUnavailable) until a resume retries it, an abort or
  // the campaign's end lets it go (cordoned), or the campaign is deleted (restored).
  if (p.c().keep_failed_cordoned) return drainer_.set_state(n, NodeState::kFailed, p.now);
  return drainer_.release(n, false, "patch failed (" + reason + ")");
}

// surging → draining (its new node is Ready), or failed (none came within the timeout).
kube::Status PatchCampaignController::advance_surging(Pass& p, const model::Node& n) {
  const CampaignSpec& c = p.c();
  // Waiting, schedulable, for the new node its MachineDeployment was scaled up for: a Ready
  // node with the target version in the zone, created since, that stands in for no other
  // node. Then the old node is cordoned and drained like any other.
  const model::IStr* z = model::find_label(n.meta.label_set(), c.zone_label);
  const std::string node_zone = z ? z->str() : n.zone.empty() ? "" : n.zone.str();
  const auto claimed_at = annotation_time(n, kClaimedAt).value_or(p.now);
  const model::Node* fresh = nullptr;
  for (const auto& m : p.by_zone[node_zone]) {
    if (m->meta.name == n.meta.name || p.paired.count(m->meta.name) || claim_of(*m) || !p.patched(*m) || !m->ready || m->unschedulable)
      continue;
    if (m->meta.created >= claimed_at) {  // both in whole seconds
      fresh = m.get();
      break;
    }
  }
  if (!fresh) {
    if (p.now - state_since(p, n) <= c.node_timeout) return kube::Unit{};
    const auto* surge_from = n.annotation(kSurgeFrom);
    return fail_node(p, n, "ReplacementTimeout",
                     "no new Ready node with " + c.version + " joined the zone within the timeout after MachineDeployment " +
                         (surge_from ? *surge_from : std::string("(annotation ") + kSurgeFrom + " missing)") + " was scaled up");
  }
  // The new node is there; its pods must still find a place (design 2.3).
  p.planner_view(pods_);
  std::set<std::string> trial = p.cordoned_ours;
  trial.insert(n.meta.name);
  if (auto unplaceable = planner::unplaceable_after_drain(p.view_nodes, p.view_pods, trial); !unplaceable.empty()) {
    const auto* pod = unplaceable.front().pod;
    p.blockers.push_back({"Pod", std::string(pod->meta.namespace_.view()), pod->meta.name, "WouldNotReschedule",
                          "draining " + n.meta.name + " would leave it Pending: " + unplaceable.front().reason});
    return kube::Unit{};
  }
  if (auto st = drainer_.cordon(n, NodeState::kDraining, p.now, {{kReplacement, fresh->meta.name}}); !st.ok()) return st;
  p.paired.insert(fresh->meta.name);
  p.cordoned_ours.insert(n.meta.name);
  // On the node: per-node Events on the campaign would meet the recorder's per-object spam
  // filter (25, then one per 5 minutes) in any real fleet.
  events_.record(node_ref(n), "Normal", "SurgeNodeReady", p.claim + ": " + fresh->meta.name + " joined " + node_zone + ", draining");
  return kube::Unit{};
}

// replacing → gone (Cluster API deletes it); a blocker once past the timeout.
kube::Status PatchCampaignController::advance_replacing(Pass& p, const model::Node& n) {
  // Handed to Cluster API (Machine marked, deployment scaled down): done when it is gone.
  if (p.now - state_since(p, n) > p.c().node_timeout)
    p.blockers.push_back({"Node", "", n.meta.name, "ReplacementTimeout",
                          "its Machine was marked for deletion and its MachineDeployment scaled down, but the node is still there"});
  return kube::Unit{};
}

// failed (kept cordoned) → draining once the user resumed the campaign.
kube::Status PatchCampaignController::advance_failed(Pass& p, const model::Node& n) {
  if (p.failed.count(n.meta.name)) return kube::Unit{};
  return drainer_.set_state(n, NodeState::kDraining, p.now);
}

// draining → patching / replacing / deleted (start_patch, once empty), or failed
// (onBlocked: SkipNode and a pod the policy will not evict).
kube::Status PatchCampaignController::advance_draining(Pass& p, const model::Node& n) {
  const CampaignSpec& c = p.c();
  auto d = drainer_.drain(n, c.drain, p.budget, p.now);
  const size_t own_blockers = p.blockers.size();  // where this node's blockers start in the pass's
  for (auto& b : d.blockers) p.blockers.push_back(std::move(b));
  if (auto st = drainer_.mark_blocked(n, d.policy_blocked, p.now); !st.ok()) return st;
  if (d.policy_blocked && c.drain.on_blocked == "SkipNode")
    // Leave the node unpatched rather than wait on a pod the policy will not move.
    return fail_node(p, n, "DrainBlocked", "a pod the drain policy will not evict (onBlocked: SkipNode)");
  if (d.remaining > 0) {
    if (c.quarantine_undrainable && p.now - state_since(p, n) > c.drain_timeout)
      return quarantine_node(p, n, d.remaining, p.blockers.size() > own_blockers ? &p.blockers[own_blockers] : nullptr);
    if (p.now - state_since(p, n) > c.drain.pod_eviction_timeout)
      p.blockers.push_back({"Node", "", n.meta.name, "DrainTimeout",
                            "still draining after drain.podEvictionTimeout: " + std::to_string(d.remaining) + " pod(s) left"});
    return kube::Unit{};
  }
  drainer_.drained(n, p.claim, p.now);
  return start_patch(p, n);
}

// draining → released, left cordoned and marked quarantined (failurePolicy.undrainable:
// Quarantine, the drain past drainTimeout), or the campaign paused when that would exceed
// maxQuarantinedNodes (the node keeps draining: a person decides).
kube::Status PatchCampaignController::quarantine_node(Pass& p, const model::Node& n, int pods_left, const Blocker* held_by) {
  const CampaignSpec& c = p.c();
  if (static_cast<int>(p.quarantined.size()) >= c.max_quarantined_nodes) {
    p.quarantine_budget_hit = true;
    p.blockers.push_back({"Node", "", n.meta.name, "QuarantineBudgetExceeded",
                          "drain past failurePolicy.drainTimeout, and " + std::to_string(p.quarantined.size()) +
                              " node(s) are quarantined already (maxQuarantinedNodes " + std::to_string(c.max_quarantined_nodes) + ")"});
    return kube::Unit{};
  }
  std::string why = "drain did not finish within failurePolicy.drainTimeout (" + std::to_string(pods_left) + " pod(s) left";
  if (held_by) why += "; " + held_by->kind + " " + (held_by->ns.empty() ? "" : held_by->ns + "/") + held_by->name + ": " + held_by->message;
  why += ")";
  if (why.size() > 300) why = why.substr(0, 297) + "...";
  // One write: the claim goes, the cordon stays, the mark says whose and why.
  auto st = drainer_.release(n, /*keep_cordoned=*/true, "quarantined: " + why, "",
                             {{kQuarantinedBy, p.claim}, {kQuarantinedAt, kube::format_rfc3339(p.now)}, {kQuarantineReason, why}});
  if (!st.ok()) return st;
  p.quarantined.insert(n.meta.name);
  p.newly_quarantined.push_back(n.meta.name);
  if (const auto* md = holds_surge(n)) --p.surge_extra[*md];
  events_.record(node_ref(n), "Warning", "NodeQuarantined", p.claim + ": left cordoned: " + why);
  events_.record(p.ref, "Warning", "NodeQuarantined", n.meta.name + " left cordoned, the campaign moves on: " + why);
  logging::warn("patchcampaign", "node quarantined",
                {{"campaign", p.name}, {"node", n.meta.name}, {"podsLeft", std::to_string(pods_left)}, {"reason", why}});
  return kube::Unit{};
}

// patching → verifying (the Job succeeded, or the node reports the target), draining (the
// Job vanished: made again), or failed (the Job failed, or the timeout).
kube::Status PatchCampaignController::advance_patching(Pass& p, const model::Node& n) {
  const CampaignSpec& c = p.c();
  const auto since = state_since(p, n);
  switch (c.strategy) {
    case Strategy::kInPlace: {
      // While the Job's pod is still pending or running on the node (the pod cache says so,
      // and its end will wake this controller), there is nothing to ask the Job.
      const std::string job_name = patch_job_name(p.name, n.meta.name);
      bool pod_running = false;
      for (const auto& pod : pods_.by_index(model::kPodsByNode, n.meta.name)) {
        const model::IStr* jn = model::find_label(pod->meta.label_set(), "job-name");
        if (jn && jn->str() == job_name && !pod->meta.deleted &&
            (pod->phase == model::PodPhase::kPending || pod->phase == model::PodPhase::kRunning))
          pod_running = true;
      }
      if (pod_running && p.now - since <= c.node_timeout) return kube::Unit{};
      auto r = client_->get(kube::resources::jobs(), opts_.job_namespace, job_name);
      if (!r.ok() && !r.error().is_not_found()) return r.error();
      std::error_code ec;
      value job = r.ok() ? value::parse(r.value(), ec) : value::null();
      const value& js = field(job, "status");
      if (!r.ok()) return drainer_.set_state(n, NodeState::kDraining, p.now);  // made again once drained
      if (integer(js, "succeeded") > 0) return drainer_.set_state(n, NodeState::kVerifying, p.now);
      if (integer(js, "failed") > 0) return fail_node(p, n, "PatchJobFailed", "patch Job " + job_name + " failed");
      if (p.now - since > c.node_timeout) return fail_node(p, n, "Timeout", "patch Job did not finish within the timeout");
      return kube::Unit{};
    }
    case Strategy::kExternal:
    case Strategy::kReplace:
      // External: wait for the outside agent to make the node report the target. (Replace
      // never sets patching; an older operator's node is treated the same way.)
      if (p.patched(n)) return drainer_.set_state(n, NodeState::kVerifying, p.now);
      if (p.now - since > c.node_timeout)
        return fail_node(p, n, "Timeout", "the node did not report " + c.version + " within the timeout");
      return kube::Unit{};
  }
  return kube::Unit{};
}

// verifying → released (reports the target and is Ready), or failed (the timeout).
kube::Status PatchCampaignController::advance_verifying(Pass& p, const model::Node& n) {
  const CampaignSpec& c = p.c();
  if (p.patched(n) && n.ready) {
    // Still protected from scale-down until the campaign ends: the autoscaler must not trade
    // a patched node for a fresh unpatched one mid-campaign.
    if (auto st = drainer_.release(n, false, "patched to " + c.version, p.claim); !st.ok()) return st;
    events_.record(node_ref(n), "Normal", "NodePatched", "reports " + c.version + " (" + p.claim + ")");
    ++p.completed_nodes;
    p.completed_node_seconds += seconds(p.now - annotation_time(n, kClaimedAt).value_or(p.now));
    return kube::Unit{};
  }
  if (p.now - state_since(p, n) > c.node_timeout)
    return fail_node(p, n, "NotReadyAfterPatch", p.patched(n) ? "reports the target but is not Ready" : "does not report " + c.version);
  return kube::Unit{};
}

}  // namespace nonevent::controllers
