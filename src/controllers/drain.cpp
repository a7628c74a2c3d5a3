#include "controllers/drain.h"

#include <cpprest/json.h>

#include <atomic>

#include "kube/log.h"
#include "model/indexers.h"
#include "planner/drain_prediction.h"

namespace nonevent::controllers {

using kube::PatchType;
using web::json::value;

const std::string* claim_of(const model::Node& node) { return node.annotation(kClaimedBy); }
kube::ObjectReference node_ref(const model::Node& node) {
  return {"v1", "Node", "", node.meta.name, std::string(node.meta.uid.view()), ""};
}

namespace {
std::atomic<bool> protections_enabled{true};
}  // namespace
void set_protections_enabled_for_tests(bool enabled) { protections_enabled = enabled; }

kube::Status Drainer::claim(const model::Node& node, const std::string& claim, NodeState state, kube::TimePoint now,
                            bool cordon, const std::map<std::string, std::string>& extra) {
  value p = value::object();
  auto& ann = p["metadata"]["annotations"];
  ann[kClaimedBy] = value::string(claim);
  ann[kNodeState] = value::string(to_string(state));
  ann[kStateSince] = value::string(kube::format_rfc3339(now));
  ann[kClaimedAt] = value::string(kube::format_rfc3339(now));
  ann[kWasUnschedulable] = value::string(node.unschedulable ? "true" : "false");
  for (const auto& pr : kProtections) {
    if (!protections_enabled) break;
    // A prior already recorded belongs to a protection still in force (a campaign's patched
    // node): it is the user's value, and stays the one to put back.
    if (!node.annotation(pr.prior)) {
      const auto* before = node.annotation(pr.key);
      ann[pr.prior] = value::string(before ? *before : kAbsent);
    }
    ann[pr.key] = value::string("true");
  }
  for (const auto& [k, v] : extra) ann[k] = value::string(v);
  // The resourceVersion makes the claim conditional: two claimants cannot both win.
  p["metadata"]["resourceVersion"] = value::string(node.meta.resource_version);
  if (cordon) p["spec"]["unschedulable"] = value::boolean(true);
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  if (!r.ok()) {
    logging::warn("drain", "claim failed", {{"node", node.meta.name}, {"claim", claim}, {"error", r.error().to_string()}});
    return r.error();
  }
  events_.record(node_ref(node), "Normal", cordon ? "Cordoned" : "Claimed", (cordon ? "cordoned for " : "claimed for ") + claim);
  return kube::Unit{};
}

kube::Status Drainer::cordon(const model::Node& node, NodeState state, kube::TimePoint now,
                             const std::map<std::string, std::string>& extra) {
  value p = value::object();
  auto& ann = p["metadata"]["annotations"];
  ann[kNodeState] = value::string(to_string(state));
  ann[kStateSince] = value::string(kube::format_rfc3339(now));
  for (const auto& [k, v] : extra) ann[k] = value::string(v);
  p["spec"]["unschedulable"] = value::boolean(true);
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  if (!r.ok()) return r.error();
  events_.record(node_ref(node), "Normal", "Cordoned", "cordoned for " + (claim_of(node) ? *claim_of(node) : std::string("nonevent")));
  return kube::Unit{};
}

kube::Status Drainer::set_state(const model::Node& node, NodeState state, kube::TimePoint now) {
  if (read_node_state(node).state == state) return kube::Unit{};
  value p = value::object();
  p["metadata"]["annotations"][kNodeState] = value::string(to_string(state));
  p["metadata"]["annotations"][kStateSince] = value::string(kube::format_rfc3339(now));
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  // A node gone (replaced, its Machine deleted) has no state left to record; the cache shows
  // it gone on the next pass.
  if (!r.ok() && !r.error().is_not_found()) return r.error();
  const auto* from = node.annotation(kNodeState);
  logging::info("drain", "node state", {{"node", node.meta.name}, {"from", from ? *from : "-"}, {"to", to_string(state)}});
  return kube::Unit{};
}

kube::Status Drainer::skip(const model::Node& node, kube::TimePoint now) {
  value p = value::object();
  p["metadata"]["annotations"][kNodeState] = value::string(to_string(NodeState::kSkipped));
  p["metadata"]["annotations"][kStateSince] = value::string(kube::format_rfc3339(now));
  const auto* was = node.annotation(kWasUnschedulable);
  if (!(was && *was == "true")) p["spec"]["unschedulable"] = value::null();
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}

namespace {
// Puts the other disruptors' annotations back as they were before the first protection. One
// recorded by an operator that did not record them (older than this) stays as it is.
void restore_protections(const model::Node& node, value& ann) {
  for (const auto& pr : kProtections) {
    const auto* prior = node.annotation(pr.prior);
    if (!prior) continue;
    ann[pr.key] = *prior == kAbsent ? value::null() : value::string(*prior);
    ann[pr.prior] = value::null();
  }
}
}  // namespace

kube::Status Drainer::release(const model::Node& node, bool keep_cordoned, const std::string& why, const std::string& protect_for,
                              const std::map<std::string, std::string>& mark) {
  value p = value::object();
  auto& ann = p["metadata"]["annotations"];
  mover_.release(node);  // a move still scaling up for this node is undone
  for (const char* k : {kClaimedBy, kNodeState, kWasUnschedulable, kStateSince, kClaimedAt, kSurgeFrom, kReplacement, kBlockedSince, kNodeMoves})
    ann[k] = value::null();
  for (const auto& [k, v] : mark) ann[k] = value::string(v);
  if (!protect_for.empty()) ann[kProtectedBy] = value::string(protect_for);
  else if (!node.annotation(kProtectedBy)) restore_protections(node, ann);
  const auto* was = node.annotation(kWasUnschedulable);
  const bool uncordon = !keep_cordoned && !(was && *was == "true");
  if (uncordon) p["spec"]["unschedulable"] = value::null();
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  if (!r.ok() && !r.error().is_not_found()) return r.error();
  events_.record(node_ref(node), "Normal", "Restored", (uncordon ? "uncordoned: " : "released, left cordoned: ") + why);
  return kube::Unit{};
}

kube::Status Drainer::unprotect(const model::Node& node) {
  value p = value::object();
  auto& ann = p["metadata"]["annotations"];
  ann[kProtectedBy] = value::null();
  if (!claim_of(node)) restore_protections(node, ann);  // else the claim's release does
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  if (!r.ok() && !r.error().is_not_found()) return r.error();
  logging::info("drain", "protection from scale-down ended", {{"node", node.meta.name}});
  return kube::Unit{};
}

void Drainer::drained(const model::Node& node, const std::string& claim, kube::TimePoint now) {
  events_.record(node_ref(node), "Normal", "Drained", "drained for " + claim);
  if (!observer_.on_drained) return;
  const auto* at = node.annotation(kClaimedAt);
  if (auto t = at ? kube::parse_rfc3339(*at) : std::nullopt)
    observer_.on_drained(std::chrono::duration<double>(now - *t).count());
}

std::string Drainer::blocker_reason(const model::Pod& pod, const DrainPolicy& policy, std::string* message) {
  return planner::policy_blocker(
      pod, {.evict_unmanaged_pods = policy.evict_unmanaged_pods, .delete_empty_dir_data = policy.delete_empty_dir_data}, message);
}

bool Drainer::has_blockers(const model::Node& node, const DrainPolicy& policy) const {
  for (const auto& pod : pods_.by_index(model::kPodsByNode, node.meta.name))
    if (planner::evicted_by_drain(*pod) && !blocker_reason(*pod, policy).empty()) return true;
  return false;
}

const std::vector<std::shared_ptr<const model::PodDisruptionBudget>>& Drainer::pdbs_selecting(const model::Pod& pod,
                                                                                              DrainBudget& budget) const {
  auto [it, fresh] = budget.pdbs_by_labels.try_emplace({&pod.meta.namespace_.str(), pod.meta.labels.get()});
  if (fresh) {
    it->second.pin = pod.meta.labels;
    if (pdbs_)
      for (auto& pdb : pdbs_->by_index(model::kByNamespace, pod.meta.namespace_.str()))
        if (pdb->selector && pdb->selector->matches(pod.meta.label_set())) it->second.pdbs.push_back(std::move(pdb));
  }
  return it->second.pdbs;
}

const model::PodDisruptionBudget* Drainer::exhausted_pdb(const model::Pod& pod, DrainBudget& budget) const {
  if (!pdbs_) return nullptr;
  for (const auto& pdb : pdbs_selecting(pod, budget)) {
    const auto used = budget.pdb_used.find(pdb.get());
    if (pdb->disruptions_allowed - (used == budget.pdb_used.end() ? 0 : used->second) <= 0) return pdb.get();
  }
  return nullptr;
}

kube::Status Drainer::mark_blocked(const model::Node& node, bool blocked, kube::TimePoint now) {
  const bool marked = node.annotation(kBlockedSince) != nullptr;
  if (blocked == marked) return kube::Unit{};
  value p = value::object();
  p["metadata"]["annotations"][kBlockedSince] = blocked ? value::string(kube::format_rfc3339(now)) : value::null();
  auto r = client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kStrategicMerge, p.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}

DrainResult Drainer::drain(const model::Node& node, const DrainPolicy& policy, DrainBudget& budget, kube::TimePoint now) {
  DrainResult out;
  std::optional<kube::TimePoint> blocked_since;
  if (const auto* b = node.annotation(kBlockedSince)) blocked_since = kube::parse_rfc3339(*b);
  const bool force_now = policy.on_blocked == "Force" && policy.force_after && blocked_since && now - *blocked_since >= *policy.force_after;
  mover_.advance(node);  // drain.rollout moves under way for this node
  for (const auto& pod : pods_.by_index(model::kPodsByNode, node.meta.name)) {
    if (pod->finished()) continue;
    // Never moved by a drain: mirror and DaemonSet pods, and a campaign's patch pod (a claim
    // whose state write failed after its Job started drains again, and evicting the patch it
    // is waiting for would loop forever).
    if (planner::never_drained(*pod)) continue;
    ++out.remaining;
    const std::string ns(pod->meta.namespace_.view());
    if (pod->meta.deleted) {
      ++budget.in_flight;
      continue;
    }
    std::string message;
    const std::string why = blocker_reason(*pod, policy, &message);
    if (!why.empty() && why != "DoNotEvict" && force_now) {
      // onBlocked: Force, after forceAfter: delete instead of evict, and say so.
      kube::DeleteOptions opts;
      if (policy.grace_period_seconds >= 0) opts.grace_period_seconds = policy.grace_period_seconds;
      auto r = client_.remove(kube::resources::pods(), ns, pod->meta.name, opts);
      if (r.ok() || r.error().is_not_found()) {
        ++out.forced;
        ++budget.in_flight;
        events_.record(node_ref(node), "Warning", "ForcedDeletion",
                       "deleted " + ns + "/" + pod->meta.name + " (" + why + ") after drain.forceAfter: onBlocked is Force");
      } else {
        logging::warn("drain", "force deletion failed", {{"node", node.meta.name}, {"pod", ns + "/" + pod->meta.name}, {"error", r.error().to_string()}});
        out.blockers.push_back({"Pod", ns, pod->meta.name, "EvictionFailed", r.error().to_string()});
      }
      continue;
    }
    if (!why.empty()) {
      logging::debug("drain", "pod blocks the drain by policy", {{"node", node.meta.name}, {"pod", ns + "/" + pod->meta.name}, {"reason", why}});
      out.policy_blocked = true;
      out.blockers.push_back({"Pod", ns, pod->meta.name, why, message});
      continue;
    }
    const auto* owner = pod->meta.controller();
    const std::pair<const std::string*, const std::string*> owner_key{&pod->meta.namespace_.str(), owner ? &owner->name.str() : nullptr};
    auto refuse = [&] {
      if (owner) budget.owners_refused.insert(owner_key);
      else budget.bare_pods_refused.insert(ns + "/" + pod->meta.name);
    };
    if (budget.in_flight >= budget.max_in_flight) continue;
    if (owner ? budget.owners_refused.count(owner_key) > 0 : budget.bare_pods_refused.count(ns + "/" + pod->meta.name) > 0) continue;
    // A pod its budget holds: moved by its Deployment when drain.rollout says so (the
    // blocker then says how), else waited for.
    auto held_by_budget = [&](Blocker budget_blocker) {
      if (policy.rollout.when == "WhenBlocked") {
        const auto* claim = node.annotation(kClaimedBy);
        const auto o = mover_.move(*pod, node, claim ? *claim : "", policy.rollout, now);
        if (o.moving) {
          out.blockers.push_back({"Pod", ns, pod->meta.name, "MovingByDeployment",
                                  "its PodDisruptionBudget allows no eviction: its Deployment is moving it (drain.rollout)"});
          return;
        }
        if (o.blocker) budget_blocker.message += " (drain.rollout: " + o.blocker->reason + ": " + o.blocker->message + ")";
      }
      out.blockers.push_back(std::move(budget_blocker));
    };
    // Hold evictions a PDB's status already refuses (the API server would answer 429).
    if (const auto* pdb = exhausted_pdb(*pod, budget)) {
      refuse();
      if (observer_.on_eviction) observer_.on_eviction("pdb_blocked");
      logging::debug("drain", "waiting on PodDisruptionBudget", {{"node", node.meta.name}, {"pod", ns + "/" + pod->meta.name}, {"pdb", ns + "/" + pdb->meta.name}});
      held_by_budget({"PodDisruptionBudget", ns, pdb->meta.name, "DisruptionBudget",
                      "waiting: PodDisruptionBudget " + pdb->meta.name + " allows no further disruption now"});
      continue;
    }
    kube::DeleteOptions opts;
    if (policy.grace_period_seconds >= 0) opts.grace_period_seconds = policy.grace_period_seconds;
    auto r = client_.evict(ns, pod->meta.name, opts);
    if (observer_.on_eviction) observer_.on_eviction(r.ok() ? "success" : r.error().code == 429 ? "pdb_blocked" : "error");
    if (r.ok()) {
      logging::info("drain", "evicted", {{"node", node.meta.name}, {"pod", ns + "/" + pod->meta.name}});
      ++out.evicted;
      ++budget.in_flight;
      for (const auto& pdb : pdbs_selecting(*pod, budget)) ++budget.pdb_used[pdb.get()];
    } else if (r.error().code == 429) {
      logging::info("drain", "eviction refused (429): waiting on the budget", {{"node", node.meta.name}, {"pod", ns + "/" + pod->meta.name},
                                                                              {"message", r.error().causes.empty() ? r.error().message : r.error().causes[0].message}});
      refuse();
      held_by_budget({"PodDisruptionBudget", ns, owner ? owner->name.str() : pod->meta.name, "DisruptionBudget",
                      r.error().causes.empty() ? r.error().message : r.error().causes[0].message});
    } else if (!r.error().is_not_found()) {
      logging::warn("drain", "eviction failed; tried again next pass", {{"node", node.meta.name}, {"pod", ns + "/" + pod->meta.name}, {"error", r.error().to_string()}});
      out.blockers.push_back({"Pod", ns, pod->meta.name, "EvictionFailed", r.error().to_string()});
    }
  }
  return out;
}

}  // namespace nonevent::controllers
