#include "controllers/maintenance_window.h"

#include "controllers/rebalance.h"

#include <set>

#include "controllers/resource_status.h"
#include "controllers/window_spec.h"
#include "model/indexers.h"
#include "planner/preflight.h"

namespace nonevent::controllers {

using kube::PatchType;
using web::json::value;

namespace {

// RFC 7386 applied to values: `patch`'s objects merge into `base`'s, its nulls remove, the rest
// replaces.
value merged(const value& base, const value& patch) {
  if (!patch.is_object() || !base.is_object()) return patch;
  value out = base;
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      if (out.has_field(k)) out.erase(k);
    } else {
      out[k] = out.has_field(k) ? merged(out.at(k), v) : merged(value::object(), v);
    }
  }
  return out;
}

// status.preflight.displaced holds at most this many workloads (a status must stay small).
constexpr size_t kMaxDisplacedRecorded = 500;
// A status whose only change is in its volatile parts is written at most this often.
constexpr auto kVolatileStatusEvery = std::chrono::seconds(10);
// Rebalancing stops trying after this long past the window's end.
constexpr auto kRebalanceTimeout = std::chrono::minutes(30);

const kube::GroupVersionResource kWindows = kube::resources::maintenance_windows();

std::string window_claim(const std::string& window) { return "MaintenanceWindow/" + window; }

}  // namespace

struct MaintenanceWindowController::Progress {
  int total = 0, cordoned = 0, drained = 0, restored = 0, skipped = 0;
  int evicted = 0, blocked = 0;
  value blockers = value::array();
  void block(const std::string& kind, const std::string& ns, const std::string& name, const std::string& reason,
             const std::string& message) {
    ++blocked;
    if (blockers.size() >= 20) return;  // bounded, most important (first seen) first
    value b = value::object();
    b["kind"] = value::string(kind);
    if (!ns.empty()) b["namespace"] = value::string(ns);
    b["name"] = value::string(name);
    b["reason"] = value::string(reason);
    b["message"] = value::string(message);
    blockers[blockers.size()] = b;
  }
};

MaintenanceWindowController::MaintenanceWindowController(std::shared_ptr<kube::RestClient> client,
                                                         std::shared_ptr<kube::Clock> clock, NodeInformer& nodes,
                                                         PodInformer& pods, PdbInformer* pdbs, WindowInformer& windows,
                                                         kube::EventRecorder& events, DrainObserver observer)
    : client_(std::move(client)), clock_(std::move(clock)), nodes_(nodes), pods_(pods), windows_(windows), pdbs_(pdbs), events_(events),
      drainer_(*client_, events_, pods, pdbs, std::move(observer)) {}

kube::Result<std::optional<kube::Duration>> MaintenanceWindowController::reconcile(const std::string& name) {
  auto cached = windows_.get(name);
  if (!cached) return std::optional<kube::Duration>{};  // deleted: its finalizer already restored the nodes
  std::error_code ec;
  const value obj = value::parse(cached->json, ec);
  const value& meta = obj.at("metadata");
  const int64_t generation = meta.has_field("generation") ? meta.at("generation").as_number().to_int64() : 1;
  const value old_status = obj.has_field("status") ? obj.at("status") : value::object();
  const kube::ObjectReference ref{"nonevent.dev/v1alpha1", "MaintenanceWindow", "", name, meta.at("uid").as_string(), ""};
  const auto now = clock_->now();
  const std::string claim = window_claim(name);

  // Nodes this window has claimed (the cluster is the record, not memory).
  std::vector<std::shared_ptr<const model::Node>> claimed;
  for (const auto& n : nodes_.list())
    if (auto* c = claim_of(*n); c && *c == claim) claimed.push_back(n);

  // Restores every claimed node: uncordon what we cordoned (unless Keep), drop the claim.
  auto restore = [&](bool keep_cordoned) -> kube::Status {
    for (const auto& n : claimed)
      if (auto st = drainer_.release(*n, keep_cordoned, "window " + claim + " is over"); !st.ok()) return st;
    return kube::Unit{};
  };

  // Deleted mid-way: restore, then let it go.
  if (meta.has_field("deletionTimestamp")) {
    if (auto st = restore(false); !st.ok()) return st.error();
    if (auto st = ResourceWriter(*client_, kWindows, name).remove_finalizer(kWindowFinalizer); !st.ok()) return st.error();
    return std::optional<kube::Duration>{};
  }

  // Status writer: only when something changed; `evicted_now` (evictions made in this pass)
  // is added to the count read fresh, so no eviction is lost to a stale cache.
  int evicted_now = 0;
  auto write_status = [&](value status) -> kube::Status {
    status["observedGeneration"] = value::number(generation);
    // What the status says, less its volatile parts (and the eviction counter, which the
    // write below accumulates).
    auto steady = [&](value st) {
      if (st.has_field("pods") && st.at("pods").is_object()) {
        if (st.at("pods").has_field("blocked")) st["pods"].erase("blocked");
        if (st.at("pods").has_field("evicted")) st["pods"].erase("evicted");
      }
      if (st.has_field("blockers")) st.erase("blockers");
      if (st.has_field("conditions") && st.at("conditions").is_array())
        for (size_t i = 0; i < st.at("conditions").size(); ++i)
          if (st["conditions"][i].has_field("message")) st["conditions"][i].erase("message");
      return st.serialize();
    };
    if (evicted_now == 0) {
      value cmp = status;
      if (old_status.has_field("pods") && old_status.at("pods").has_field("evicted") && cmp.has_field("pods"))
        cmp["pods"]["evicted"] = old_status.at("pods").at("evicted");
      if (old_status.serialize() == cmp.serialize()) return kube::Unit{};
      if (steady(old_status) == steady(status)) {
        auto last = volatile_written_.find(name);
        if (last != volatile_written_.end() && now - last->second < kVolatileStatusEvery) return kube::Unit{};
        volatile_written_[name] = now;
      }
    }
    // Counted against the fresh status (a lagging cache must not lose evictions). The
    // window's statuses say what changed and keep the rest (a Completed window still shows
    // what it evicted): they are merged into the fresh one, as a merge patch would be.
    return ResourceWriter(*client_, kWindows, name).write_status([&](const value& cs) {
      value out = merged(cs, status);
      const int64_t before = cs.has_field("pods") && cs.at("pods").has_field("evicted") ? cs.at("pods").at("evicted").as_integer() : 0;
      if (out.has_field("pods") || evicted_now > 0) out["pods"]["evicted"] = value::number(before + evicted_now);
      return out;
    });
  };
  auto blocked_status = [&](const std::string& reason, const std::string& message,
                            const value& preflight = value::null()) -> kube::Status {
    value st = value::object();
    st["phase"] = value::string("Blocked");
    if (preflight.is_object()) st["preflight"] = preflight;
    st["conditions"][0] = condition("Ready", false, reason, message, generation, old_status, now);
    st["conditions"][1] = condition("Blocked", true, reason, message, generation, old_status, now);
    st["conditions"][2] = condition("Evacuated", false, reason, "nothing was touched", generation, old_status, now);
    if (old_status.has_field("phase") && old_status.at("phase").as_string() != "Blocked")
      events_.record(ref, "Warning", reason, message);
    else if (!old_status.has_field("phase"))
      events_.record(ref, "Warning", reason, message);
    return write_status(st);
  };

  // Invalid spec: a clear condition and Event, nothing touched.
  auto parsed = parse_window_spec(obj.has_field("spec") ? obj.at("spec") : value::null());
  if (!parsed.spec) {
    std::string msg;
    for (const auto& p : parsed.problems) msg += (msg.empty() ? "" : "; ") + p;
    auto st = blocked_status("InvalidSpec", msg);
    if (!st.ok()) return st.error();
    return std::optional<kube::Duration>{};
  }
  WindowSpec& w = *parsed.spec;
  if (!w.resolve(now)) {
    auto st = blocked_status("NoOccurrence", "spec.schedule: no occurrence in the next five years");
    if (!st.ok()) return st.error();
    return std::optional<kube::Duration>{};
  }

  // Make sure deleting the window restores its nodes. (The cache may not show our own
  // finalizer yet: add_finalizer reads fresh and adds it only when it is missing.)
  if (!has_finalizer(obj, kWindowFinalizer)) {
    if (auto st = ResourceWriter(*client_, kWindows, name).add_finalizer(kWindowFinalizer); !st.ok()) return st.error();
    return std::optional<kube::Duration>{std::chrono::seconds(0)};  // continue on the fresh version
  }

  // The nodes of the window, and the zones that stay.
  std::set<std::string> zones_present, zones_remaining;
  std::vector<std::shared_ptr<const model::Node>> targets;
  for (const auto& n : nodes_.list()) {
    const model::IStr* z = model::find_label(n->meta.label_set(), w.zone_label);
    if (!z) continue;
    zones_present.insert(z->str());
    if (std::find(w.zones.begin(), w.zones.end(), z->str()) != w.zones.end()) targets.push_back(n);
    else if (!n->unschedulable && n->ready) zones_remaining.insert(z->str());
  }
  for (const auto& z : w.zones)
    if (!zones_present.count(z)) {
      auto st = blocked_status("UnknownZone", "spec.zones: no node has " + w.zone_label + "=" + z);
      if (!st.ok()) return st.error();
      return std::optional<kube::Duration>{std::chrono::minutes(1)};
    }

  value status = value::object();
  status["evacuationStart"] = value::string(kube::format_rfc3339(w.evacuation_start()));
  status["windowStart"] = value::string(kube::format_rfc3339(w.start));
  status["windowEnd"] = value::string(kube::format_rfc3339(w.end));
  Progress pr;
  pr.total = static_cast<int>(targets.size());

  // The preflight (design 4): computed once per spec while scheduled, and again at the start
  // of evacuation before the first node is touched.
  auto run_preflight = [&]() -> planner::Preflight {
    std::set<std::string> drained;
    for (const auto& n : targets) drained.insert(n->meta.name);
    const auto node_list = nodes_.list();
    const auto pod_list = pods_.list();
    std::vector<std::shared_ptr<const model::PodDisruptionBudget>> pdb_list;
    if (pdbs_) pdb_list = pdbs_->list();
    std::vector<const model::Node*> np;
    std::vector<const model::Pod*> pp;
    std::vector<const model::PodDisruptionBudget*> bp;
    for (const auto& x : node_list) np.push_back(x.get());
    for (const auto& x : pod_list) pp.push_back(x.get());
    for (const auto& x : pdb_list) bp.push_back(x.get());
    return planner::preflight(np, pp, bp, drained, w.zone_label,
                              {.evict_unmanaged_pods = w.drain.evict_unmanaged_pods, .delete_empty_dir_data = w.drain.delete_empty_dir_data});
  };
  auto preflight_json = [&](const planner::Preflight& p) {
    value o = value::object();
    o["observedGeneration"] = value::number(generation);
    o["computedAt"] = value::string(kube::format_rfc3339(now));
    o["podsToEvict"] = value::number(p.pods_to_evict);
    o["lowerBoundSeconds"] = value::number(p.lower_bound_seconds);
    // The workloads the evacuation displaces and their spread before it: what rebalancing
    // restores after the window (bounded; beyond it, the rest are left where they are).
    std::vector<DisplacedWorkload> displaced;
    for (const auto& ws : p.workloads) {
      bool touched = false;
      for (const auto& z : w.zones) touched = touched || (ws.before.count(z) && ws.before.at(z) > 0);
      if (!touched || ws.workload.rfind("Pod/", 0) == 0) continue;
      if (displaced.size() >= kMaxDisplacedRecorded) {
        o["displacedTruncated"] = value::boolean(true);
        break;
      }
      displaced.push_back({ws.ns, ws.workload, ws.before, ws.max_skew});
    }
    o["displaced"] = displaced_json(displaced);
    o["blockers"] = blockers_json(p.blockers);
    return o;
  };
  // Blockers that mean displaced pods would find no place: with requireCapacity, no start.
  auto refusing = [&](const planner::Preflight& p) {
    std::string msg;
    for (const auto& b : p.blockers)
      if (b.reason == "Capacity" || b.reason == "SpreadTrap" || b.reason == "Unschedulable")
        msg += (msg.empty() ? "" : "; ") + (b.ns.empty() ? "" : b.ns + "/") + b.name + ": " + b.message;
    return msg;
  };
  const value& old_preflight = old_status.has_field("preflight") ? old_status.at("preflight") : value::null();
  const bool preflight_current = old_preflight.is_object() && old_preflight.has_field("observedGeneration") &&
                                 old_preflight.at("observedGeneration").as_integer() == generation;

  if (w.suspend || now < w.evacuation_start()) {
    // A recurring window between occurrences: the last one is over, give its nodes back.
    if (w.schedule && !claimed.empty())
      if (auto st = restore(w.restore == "Keep"); !st.ok()) return st.error();
    if (w.schedule) status["nextWindowStart"] = value::string(kube::format_rfc3339(w.start));
    if (!w.suspend)
      status["preflight"] = preflight_current ? old_preflight : preflight_json(run_preflight());
    status["phase"] = value::string("Scheduled");
    status["nodes"]["total"] = value::number(pr.total);
    status["conditions"][0] = condition("Ready", true, w.suspend ? "Suspended" : "Scheduled",
                                        w.suspend ? "suspended: nothing will be touched" : "evacuation starts at " + kube::format_rfc3339(w.evacuation_start()),
                                        generation, old_status, now);
    status["conditions"][1] = condition("Blocked", false, "NotBlocked", "", generation, old_status, now);
    status["conditions"][2] = condition("Evacuated", false, "NotStarted", "", generation, old_status, now);
    auto st = write_status(status);
    if (!st.ok()) return st.error();
    if (w.suspend) return std::optional<kube::Duration>{};
    return std::optional<kube::Duration>{w.evacuation_start() - now};
  }

  if (now >= w.end) {
    auto st = restore(w.restore == "Keep");
    if (!st.ok()) return st.error();
    status["nodes"]["total"] = value::number(pr.total);
    status["nodes"]["restored"] = value::number(static_cast<int64_t>(claimed.size()) +
                                                (old_status.has_field("nodes") && old_status.at("nodes").has_field("restored")
                                                     ? old_status.at("nodes").at("restored").as_integer() : 0));
    if (old_preflight.is_object()) status["preflight"] = old_preflight;
    status["conditions"][1] = condition("Blocked", false, "NotBlocked", "", generation, old_status, now);
    status["conditions"][2] = condition("Evacuated", false, "Restored", "", generation, old_status, now);
    const std::string old_phase = old_status.has_field("phase") ? old_status.at("phase").as_string() : "";
    // Rebalance (design 2.3): the displaced workloads back to their spread, bounded in time
    // so a workload that cannot move (a PDB at zero, no room) does not hold the window open.
    if (w.rebalance && w.restore != "Keep" && old_phase != "Completed" && old_preflight.is_object() &&
        old_preflight.has_field("displaced")) {
      const auto displaced = parse_displaced(old_preflight.at("displaced"));
      const auto step = rebalance_step(*client_, nodes_.list(), pods_.list(), displaced, w.zone_label, w.zones, claim);
      const bool timed_out = now - w.end >= kRebalanceTimeout;
      if (!step.done && !timed_out) {
        status["phase"] = value::string("Rebalancing");
        std::string msg = "moving displaced replicas back";
        for (size_t i = 0; i < step.waiting.size() && i < 3; ++i) msg += "; " + step.waiting[i];
        status["conditions"][0] = condition("Ready", false, "Rebalancing", msg, generation, old_status, now);
        if (old_phase != "Rebalancing") events_.record(ref, "Normal", "Rebalancing", "window over, nodes restored; moving displaced replicas back");
        auto ws = write_status(status);
        if (!ws.ok()) return ws.error();
        return std::optional<kube::Duration>{std::chrono::seconds(15)};
      }
      if (step.done) {
        events_.record(ref, "Normal", "Rebalanced", "every displaced workload is back within its spread");
      } else {
        std::string msg = "rebalancing gave up after " + std::to_string(std::chrono::duration_cast<std::chrono::minutes>(kRebalanceTimeout).count()) + " minutes";
        for (size_t i = 0; i < step.waiting.size() && i < 3; ++i) msg += "; " + step.waiting[i];
        events_.record(ref, "Warning", "RebalanceIncomplete", msg);
        status["phase"] = value::string("Completed");
        status["conditions"][0] = condition("Ready", true, "RebalanceIncomplete", msg, generation, old_status, now);
        auto ws = write_status(status);
        if (!ws.ok()) return ws.error();
        return std::optional<kube::Duration>{};
      }
    }
    status["phase"] = value::string("Completed");
    status["conditions"][0] = condition("Ready", true, "Completed", "the window is over and its nodes are restored", generation, old_status, now);
    auto ws = write_status(status);
    if (!ws.ok()) return ws.error();
    return std::optional<kube::Duration>{};
  }

  // Evacuating / holding: never below minAvailableZones schedulable zones, counting the zones
  // of other windows whose time overlaps this one and that came first (earlier evacuation
  // start, or the same and an earlier name): of two windows that together would break the
  // floor, the later one is Blocked.
  bool any_claimed = !claimed.empty();
  std::string overlapping;
  for (const auto& other : windows_.list()) {
    if (other->meta.name == name || other->meta.deleted) continue;
    std::error_code oec;
    const value oobj = value::parse(other->json, oec);
    auto op = parse_window_spec(oobj.has_field("spec") ? oobj.at("spec") : value::null());
    if (!op.spec || op.spec->suspend || !op.spec->resolve(now)) continue;
    const auto& o = *op.spec;
    const bool overlaps = o.evacuation_start() < w.end && w.evacuation_start() < o.end;
    const bool first = o.evacuation_start() < w.evacuation_start() ||
                       (o.evacuation_start() == w.evacuation_start() && other->meta.name < name);
    if (!overlaps || !first) continue;
    for (const auto& z : o.zones)
      if (std::find(w.zones.begin(), w.zones.end(), z) == w.zones.end()) {
        zones_remaining.erase(z);  // may already be out: that window has cordoned it
        overlapping += (overlapping.empty() ? "" : ", ") + z + " (MaintenanceWindow " + other->meta.name + ")";
      }
  }
  if (!any_claimed && static_cast<int>(zones_remaining.size()) < w.min_available_zones) {
    auto st = blocked_status("MinAvailableZones", "evacuating " + std::to_string(w.zones.size()) + " zone(s) would leave " +
                                                      std::to_string(zones_remaining.size()) + " schedulable zone(s), below safety.minAvailableZones " +
                                                      std::to_string(w.min_available_zones) +
                                                      (overlapping.empty() ? "" : "; overlapping windows take " + overlapping));
    if (!st.ok()) return st.error();
    return std::optional<kube::Duration>{std::chrono::minutes(1)};
  }

  // First touch: the preflight, fresh. With requireCapacity, pods that would find no place
  // block the window before any node is cordoned.
  if (!any_claimed) {
    const auto p = run_preflight();
    status["preflight"] = preflight_json(p);
    if (auto why = refusing(p); w.require_capacity && !why.empty()) {
      auto st = blocked_status("PreflightFailed", "displaced pods would find no place (safety.requireCapacity): " + why,
                               status["preflight"]);
      if (!st.ok()) return st.error();
      return std::optional<kube::Duration>{std::chrono::minutes(1)};
    }
  } else if (old_preflight.is_object()) {
    status["preflight"] = old_preflight;
  }
  DrainBudget budget{.max_in_flight = w.drain.max_concurrent_evictions};
  for (const auto& n : targets) {
    const auto* c = claim_of(*n);
    if (c && *c != claim) {
      pr.block("Node", "", n->meta.name, "ClaimedByOther", "claimed by " + *c);
      continue;
    }
    // Claimed (and cordoned) straight into "draining": the drain starts in this same pass, and
    // a separate "cordoned" write per node was a third of the first pass's requests.
    std::string current_state = state_of(*n) ? *state_of(*n) : "";
    if (!c) {
      if (auto st = drainer_.claim(*n, claim, "draining", now); !st.ok()) {
        // The node changed since the cache saw it (someone claimed it, or our cache lags):
        // the next pass sees it as it is; the other nodes go on now.
        if (st.error().is_conflict()) continue;
        return st.error();
      }
      current_state = "draining";
    }
    if (current_state == "skipped") {
      ++pr.skipped;  // onBlocked: SkipNode gave this node up for this window
      continue;
    }
    ++pr.cordoned;
    auto d = drainer_.drain(*n, w.drain, budget, now);
    pr.evicted += d.evicted + d.forced;
    for (const auto& b : d.blockers) pr.block(b.kind, b.ns, b.name, b.reason, b.message);
    if (auto st = drainer_.mark_blocked(*n, d.policy_blocked, now); !st.ok()) return st.error();
    if (d.policy_blocked && w.drain.on_blocked == "SkipNode") {
      // Give the node back (uncordoned, still claimed so it is not taken again) and go on
      // with the others: the zone will not be empty, and status and an Event say so.
      value p = value::object();
      p["metadata"]["annotations"][kNodeState] = value::string("skipped");
      const auto* was = n->annotation(kWasUnschedulable);
      if (!(was && *was == "true")) p["spec"]["unschedulable"] = value::null();
      auto r = client_->patch(kube::resources::nodes(), "", n->meta.name, PatchType::kStrategicMerge, p.serialize());
      if (!r.ok()) return r.error();
      events_.record(node_ref(*n), "Warning", "NodeSkipped", "a pod the drain policy will not evict (onBlocked: SkipNode); left in service");
      events_.record(ref, "Warning", "NodeSkipped", n->meta.name + ": a pod the drain policy will not evict (onBlocked: SkipNode)");
      --pr.cordoned;
      ++pr.skipped;
      continue;
    }
    const char* state = d.remaining == 0 ? "drained" : "draining";
    if (current_state != state) {
      if (auto st = drainer_.set_state(*n, state, now); !st.ok()) return st.error();
      if (d.remaining == 0) drainer_.drained(*n, claim, now);
    }
    if (d.remaining == 0) ++pr.drained;
  }
  const int in_flight = budget.in_flight;
  const bool evacuated = pr.drained + pr.skipped == pr.total;
  const bool started = now >= w.start;
  status["phase"] = value::string(evacuated ? (started ? "InProgress" : "Evacuated") : "Evacuating");
  status["nodes"]["total"] = value::number(pr.total);
  status["nodes"]["cordoned"] = value::number(pr.cordoned);
  status["nodes"]["drained"] = value::number(pr.drained);
  if (pr.skipped > 0) status["nodes"]["skipped"] = value::number(pr.skipped);
  evicted_now = pr.evicted;
  status["pods"]["evicted"] = value::number(0);  // set from the fresh count by write_status
  status["pods"]["blocked"] = value::number(pr.blocked);
  if (pr.blockers.size() > 0) status["blockers"] = pr.blockers;
  const bool late = !evacuated && started;
  status["conditions"][0] = condition("Ready", !late, late ? "EvacuationLate" : "OnSchedule",
                                      late ? "the window has started and the zone is not empty" : "", generation, old_status, now);
  status["conditions"][1] = condition("Blocked", pr.blocked > 0 && !evacuated, pr.blocked > 0 ? "PodsBlocked" : "NotBlocked",
                                      pr.blocked > 0 ? std::to_string(pr.blocked) + " pod(s) cannot be evicted yet" : "", generation, old_status, now);
  status["conditions"][2] = condition("Evacuated", evacuated, evacuated ? "AllNodesDrained" : "Draining",
                                      std::to_string(pr.drained) + "/" + std::to_string(pr.total) + " nodes drained", generation, old_status, now);
  for (size_t i = 0; i < pr.blockers.size() && i < 3; ++i) {
    const auto& b = pr.blockers.at(i);
    events_.record(ref, "Warning", "EvictionBlocked",
                   b.at("kind").as_string() + " " + (b.has_field("namespace") ? b.at("namespace").as_string() + "/" : "") +
                       b.at("name").as_string() + ": " + b.at("message").as_string());
  }
  auto st = write_status(status);
  if (!st.ok()) return st.error();
  // Keep watching while pods move; otherwise wake for the window's end.
  if (!evacuated || in_flight > 0) return std::optional<kube::Duration>{std::chrono::seconds(2)};
  return std::optional<kube::Duration>{std::min<kube::Duration>(w.end - now, std::chrono::seconds(30))};
}

}  // namespace nonevent::controllers
