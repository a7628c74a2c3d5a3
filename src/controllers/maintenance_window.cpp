#include "controllers/maintenance_window.h"

#include "controllers/rebalance.h"

#include <algorithm>
#include <set>

#include "controllers/resource_status.h"
#include "kube/log.h"
#include "controllers/window_spec.h"
#include "controllers/zone_floor.h"
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

std::string window_claim(const std::string& window) { return claim_for("MaintenanceWindow", window); }

// Blockers that mean displaced pods would find no place: with requireCapacity, no start.
std::string refusing(const planner::Preflight& p) {
  std::string msg;
  for (const auto& b : p.blockers)
    if (b.reason == "Capacity" || b.reason == "SpreadTrap" || b.reason == "Unschedulable")
      msg += (msg.empty() ? "" : "; ") + (b.ns.empty() ? "" : b.ns + "/") + b.name + ": " + b.message;
  return msg;
}

}  // namespace

struct MaintenanceWindowController::Progress {
  int total = 0, cordoned = 0, drained = 0, restored = 0, skipped = 0;
  value held_by_others = value::array();  // nodes a tool that drains them itself holds: not ours to touch
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

// What one pass read, shared by the phase functions.
struct MaintenanceWindowController::Pass {
  std::string name;
  std::string claim;  // "MaintenanceWindow/<name>"
  value obj;
  int64_t generation = 1;
  value old_status;
  kube::ObjectReference ref;
  kube::TimePoint now;
  // Nodes this window has claimed (the cluster is the record, not memory).
  std::vector<std::shared_ptr<const model::Node>> claimed;
  // Evictions made in this pass: added to the count read fresh, so none is lost to a stale cache.
  int evicted_now = 0;
  // Once the spec is valid and resolved:
  WindowSpec* spec = nullptr;
  std::vector<std::shared_ptr<const model::Node>> targets;  // the window's nodes
  std::set<std::string> zones_remaining;                    // other zones with a schedulable node
  value status = value::object();                           // the status being built
  value old_preflight = value::null();
  bool preflight_current = false;  // old_preflight is of this generation
  // Nodes other disruptors hold (other_disruptors.h), and of the window's claimed nodes those
  // a restore leaves to kured until it lets go (its lock remembers our cordon as its own).
  OtherHolds others;
  std::vector<std::string> waiting_for_others;
};

MaintenanceWindowController::MaintenanceWindowController(std::shared_ptr<kube::RestClient> client,
                                                         std::shared_ptr<kube::Clock> clock, NodeInformer& nodes,
                                                         PodInformer& pods, PdbInformer* pdbs, WindowInformer& windows,
                                                         kube::EventRecorder& events, DrainObserver observer,
                                                         OtherDisruptorSources others, InstallLimits limits,
                                                         std::shared_ptr<MetricsSource> prometheus)
    : client_(std::move(client)), clock_(std::move(clock)), nodes_(nodes), pods_(pods), windows_(windows), pdbs_(pdbs), events_(events),
      drainer_(*client_, events_, pods, pdbs, std::move(observer)), others_(others), limits_(std::move(limits)),
      prometheus_(std::move(prometheus)) {}

ReconcileResult MaintenanceWindowController::reconcile(const std::string& name) {
  auto cached = windows_.get(name);
  if (!cached) return done();  // deleted: its finalizer already restored the nodes
  Pass p;
  p.name = name;
  p.claim = window_claim(name);
  std::error_code ec;
  p.obj = value::parse(cached->json, ec);
  const value& meta = p.obj.at("metadata");
  p.generation = meta.has_field("generation") ? meta.at("generation").as_number().to_int64() : 1;
  p.old_status = p.obj.has_field("status") ? p.obj.at("status") : value::object();
  p.ref = {"nonevent.dev/v1alpha1", "MaintenanceWindow", "", name, meta.at("uid").as_string(), ""};
  p.now = clock_->now();
  const auto all_nodes = nodes_.list();
  for (const auto& n : all_nodes)
    if (auto* c = claim_of(*n); c && *c == p.claim) p.claimed.push_back(n);
  p.others = other_holds(all_nodes, others_);

  if (meta.has_field("deletionTimestamp")) return finalize(p);
  // Invalid spec, or a power this installation does not grant: a clear condition and Event,
  // nothing touched.
  auto parsed = parse_window_spec(p.obj.has_field("spec") ? p.obj.at("spec") : value::null());
  const auto refused = parsed.spec ? limits_.refuse_drain(parsed.spec->drain, "spec.drain") : std::vector<std::string>{};
  if (!parsed.spec || !refused.empty()) {
    std::string msg;
    for (const auto& problem : parsed.spec ? refused : parsed.problems) msg += (msg.empty() ? "" : "; ") + problem;
    if (auto st = blocked_status(p, parsed.spec ? "NotAllowed" : "InvalidSpec", msg); !st.ok()) return st.error();
    return done();
  }
  WindowSpec& w = *parsed.spec;
  p.spec = &w;
  if (!w.resolve(p.now)) {
    if (auto st = blocked_status(p, "NoOccurrence", "spec.schedule: no occurrence in the next five years"); !st.ok()) return st.error();
    return done();
  }
  // Make sure deleting the window restores its nodes. (The cache may not show our own
  // finalizer yet: add_finalizer reads fresh and adds it only when it is missing.)
  if (!has_finalizer(p.obj, kWindowFinalizer)) {
    if (auto st = ResourceWriter(*client_, kWindows, name).add_finalizer(kWindowFinalizer); !st.ok()) return st.error();
    return requeue_after(std::chrono::seconds(0));  // continue on the fresh version
  }
  // The nodes of the window, and the zones that stay.
  std::set<std::string> zones_present;
  for (const auto& n : nodes_.list()) {
    const model::IStr* z = model::find_label(n->meta.label_set(), w.zone_label);
    if (!z) continue;
    zones_present.insert(z->str());
    if (std::find(w.zones.begin(), w.zones.end(), z->str()) != w.zones.end()) p.targets.push_back(n);
    else if (!n->unschedulable && n->ready && !p.others.count(n->meta.name)) p.zones_remaining.insert(z->str());
  }
  for (const auto& z : w.zones)
    if (!zones_present.count(z)) {
      if (auto st = blocked_status(p, "UnknownZone", "spec.zones: no node has " + w.zone_label + "=" + z); !st.ok()) return st.error();
      return requeue_after(std::chrono::minutes(1));
    }

  p.status["evacuationStart"] = value::string(kube::format_rfc3339(w.evacuation_start()));
  p.status["windowStart"] = value::string(kube::format_rfc3339(w.start));
  p.status["windowEnd"] = value::string(kube::format_rfc3339(w.end));
  p.old_preflight = p.old_status.has_field("preflight") ? p.old_status.at("preflight") : value::null();
  p.preflight_current = p.old_preflight.is_object() && p.old_preflight.has_field("observedGeneration") &&
                        p.old_preflight.at("observedGeneration").as_integer() == p.generation;

  if (w.suspend || p.now < w.evacuation_start()) return sync_scheduled(p);
  if (p.now >= w.end) return sync_ended(p);
  return sync_active(p);
}

kube::Status MaintenanceWindowController::restore(Pass& p, bool keep_cordoned, const std::string& why) {
  // Uncordon what we cordoned (unless Keep), drop the claim. A node another disruptor took
  // meanwhile is not uncordoned under it: NMO, Karpenter and the autoscaler own its cordon now
  // (NMO uncordons when its NodeMaintenance goes); kured recorded our cordon as the node's own
  // and would leave it cordoned after its reboot, so the claim stays until kured lets go and
  // the node is restored then.
  const std::string over = why.empty() ? "window " + p.claim + " is over" : why;
  for (const auto& n : p.claimed) {
    const auto* tool = held_by_tool(p.others, n->meta.name);
    if (tool && tool->holder == "kured") {
      p.waiting_for_others.push_back(n->meta.name);
      logging::info("maintenancewindow", "restore waits for kured to release the node",
                    {{"window", p.name}, {"node", n->meta.name}, {"reason", tool->reason}});
      continue;
    }
    if (auto st = release_unless_taken(drainer_, *n, p.others, keep_cordoned, over); !st.ok()) return st;
    if (tool) {
      events_.record(p.ref, "Normal", "LeftToOtherDisruptor",
                     n->meta.name + ": " + over + "; left cordoned: " + tool->holder + " holds it (" + tool->reason + ")");
      logging::info("maintenancewindow", "restore leaves the node to another disruptor",
                    {{"window", p.name}, {"node", n->meta.name}, {"holder", tool->holder}, {"reason", tool->reason}});
    }
  }
  return kube::Unit{};
}

// Deleted: restore the zone at once, then (rebalance: true, a spec that parses) move the
// displaced replicas back as after the window's end, bounded as that is, and only then let
// the window go. The status says so while it does.
ReconcileResult MaintenanceWindowController::finalize(Pass& p) {
  if (auto st = restore(p, false, "window " + p.claim + " was deleted"); !st.ok()) return st.error();
  if (!p.waiting_for_others.empty()) return requeue_after(std::chrono::seconds(15));  // kured first
  auto parsed = parse_window_spec(p.obj.has_field("spec") ? p.obj.at("spec") : value::null());
  const value preflight = p.old_status.has_field("preflight") ? p.old_status.at("preflight") : value::null();
  const auto deleted_at = kube::parse_rfc3339(p.obj.at("metadata").at("deletionTimestamp").as_string()).value_or(p.now);
  const bool drained_something = !p.claimed.empty() || (p.old_status.has_field("phase") && p.old_status.at("phase").as_string() == "Rebalancing");
  if (parsed.spec && parsed.spec->rebalance && drained_something && preflight.is_object() && preflight.has_field("displaced") &&
      p.now - deleted_at < kRebalanceTimeout) {
    const auto& w = *parsed.spec;
    const auto step = rebalance_step(*client_, nodes_.list(), pods_.list(), parse_displaced(preflight.at("displaced")), w.zone_label, w.zones, p.claim);
    if (!step.done) {
      value status = value::object();
      status["phase"] = value::string("Rebalancing");
      std::string msg = "deleted: nodes restored, moving displaced replicas back before the window goes";
      for (size_t i = 0; i < step.waiting.size() && i < 3; ++i) msg += "; " + step.waiting[i];
      status["conditions"][0] = condition("Ready", false, "Rebalancing", msg, p.generation, p.old_status, p.now);
      if (auto st = write_status(p, status); !st.ok()) return st.error();
      return requeue_after(std::chrono::seconds(15));
    }
  }
  if (auto st = ResourceWriter(*client_, kWindows, p.name).remove_finalizer(kWindowFinalizer); !st.ok()) return st.error();
  return done();
}

kube::Status MaintenanceWindowController::write_status(Pass& p, value status) {
  // Only when something changed; `evicted_now` is added to the count read fresh.
  const auto& old_status = p.old_status;
  status["observedGeneration"] = value::number(p.generation);
  // What the status says, less its volatile parts (and the eviction counter, which the write
  // below accumulates).
  auto steady = [&](value st) {
    if (st.has_field("pods") && st.at("pods").is_object()) {
      if (st.at("pods").has_field("blocked")) st["pods"].erase("blocked");
      if (st.at("pods").has_field("evicted")) st["pods"].erase("evicted");
    }
    if (st.has_field("blockers")) st.erase("blockers");
    if (st.has_field("summary")) st.erase("summary");
    if (st.has_field("conditions") && st.at("conditions").is_array())
      for (size_t i = 0; i < st.at("conditions").size(); ++i)
        if (st["conditions"][i].has_field("message")) st["conditions"][i].erase("message");
    return st.serialize();
  };
  if (p.evicted_now == 0) {
    value cmp = status;
    if (old_status.has_field("pods") && old_status.at("pods").has_field("evicted") && cmp.has_field("pods"))
      cmp["pods"]["evicted"] = old_status.at("pods").at("evicted");
    if (old_status.serialize() == cmp.serialize()) return kube::Unit{};
    if (steady(old_status) == steady(status)) {
      auto last = volatile_written_.find(p.name);
      if (last != volatile_written_.end() && p.now - last->second < kVolatileStatusEvery) return kube::Unit{};
      volatile_written_[p.name] = p.now;
    }
  }
  if (status.has_field("phase")) status["summary"] = value::string(summary_of(p, status));
  if (status.has_field("phase")) {
    const std::string to = status.at("phase").as_string();
    const std::string from = old_status.has_field("phase") ? old_status.at("phase").as_string() : "";
    if (to != from) {
      const value* ready = nullptr;
      if (status.has_field("conditions") && status.at("conditions").size() > 0) ready = &status.at("conditions").at(0);
      logging::info("maintenancewindow", "phase", {{"window", p.name}, {"from", from.empty() ? "-" : from}, {"to", to},
                                                   {"reason", ready ? ready->at("reason").as_string() : ""},
                                                   {"message", ready && ready->has_field("message") ? ready->at("message").as_string() : ""}});
    }
  }
  // Counted against the fresh status (a lagging cache must not lose evictions). The window's
  // statuses say what changed and keep the rest (a Completed window still shows what it
  // evicted): they are merged into the fresh one, as a merge patch would be.
  const int evicted_now = p.evicted_now;
  return ResourceWriter(*client_, kWindows, p.name).write_status([&](const value& cs) {
    value out = merged(cs, status);
    const int64_t before = cs.has_field("pods") && cs.at("pods").has_field("evicted") ? cs.at("pods").at("evicted").as_integer() : 0;
    if (out.has_field("pods") || evicted_now > 0) out["pods"]["evicted"] = value::number(before + evicted_now);
    return out;
  });
}

std::string MaintenanceWindowController::summary_of(const Pass& p, const value& status) {
  // One line for `kubectl get mw` (issue 23.10): what the window does now and what it waits on.
  const std::string phase = status.at("phase").as_string();
  auto num = [&](const char* group, const char* k) -> std::string {
    return status.has_field(group) && status.at(group).has_field(k) ? std::to_string(status.at(group).at(k).as_integer()) : "0";
  };
  auto ready_message = [&]() -> std::string {
    if (!status.has_field("conditions") || status.at("conditions").size() == 0) return "";
    const auto& c = status.at("conditions").at(0);
    return c.has_field("message") ? c.at("message").as_string() : "";
  };
  std::string zones;
  if (p.spec)
    for (const auto& z : p.spec->zones) zones += (zones.empty() ? "" : ",") + z;
  const auto when = [&](kube::TimePoint t) { return kube::format_rfc3339(t); };
  std::string out;
  if (phase == "Scheduled") {
    out = p.spec && p.spec->suspend ? "suspended: nothing will be touched"
                                    : "evacuation of " + zones + " starts " + (p.spec ? when(p.spec->evacuation_start()) : "") + " (" + num("nodes", "total") + " nodes)";
  } else if (phase == "Evacuating") {
    out = "evacuating " + zones + ": " + num("nodes", "drained") + "/" + num("nodes", "total") + " drained";
    if (status.has_field("blockers") && status.at("blockers").size() > 0) {
      const auto& b = status.at("blockers").at(0);
      out += ", waiting on " + b.at("kind").as_string() + " " + (b.has_field("namespace") ? b.at("namespace").as_string() + "/" : "") +
             b.at("name").as_string() + " (" + b.at("reason").as_string() + ")";
    }
  } else if (phase == "Evacuated") {
    out = zones + " empty (" + num("nodes", "drained") + "/" + num("nodes", "total") + " drained); window starts " + (p.spec ? when(p.spec->start) : "");
  } else if (phase == "InProgress") {
    out = "holding " + zones + " empty until " + (p.spec ? when(p.spec->end) : "");
  } else {
    out = phase + ": " + ready_message();
  }
  return out.size() > 200 ? out.substr(0, 197) + "..." : out;
}

kube::Status MaintenanceWindowController::blocked_status(Pass& p, const std::string& reason, const std::string& message,
                                                         const value& preflight) {
  value st = value::object();
  st["phase"] = value::string("Blocked");
  if (preflight.is_object()) st["preflight"] = preflight;
  st["conditions"][0] = condition("Ready", false, reason, message, p.generation, p.old_status, p.now);
  st["conditions"][1] = condition("Blocked", true, reason, message, p.generation, p.old_status, p.now);
  st["conditions"][2] = condition("Evacuated", false, reason, "nothing was touched", p.generation, p.old_status, p.now);
  if (!p.old_status.has_field("phase") || p.old_status.at("phase").as_string() != "Blocked")
    events_.record(p.ref, "Warning", reason, message);
  return write_status(p, st);
}

planner::Preflight MaintenanceWindowController::run_preflight(const Pass& p) {
  // The preflight (design 4): computed once per spec while scheduled, and again at the start
  // of evacuation before the first node is touched.
  const WindowSpec& w = *p.spec;
  std::set<std::string> drained;
  for (const auto& n : p.targets) drained.insert(n->meta.name);
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
                            {.evict_unmanaged_pods = w.drain.evict_unmanaged_pods,
                             .delete_empty_dir_data = w.drain.delete_empty_dir_data,
                             .rollout_when_blocked = w.drain.rollout.when == "WhenBlocked"});
}

value MaintenanceWindowController::preflight_json(const Pass& p, const planner::Preflight& pf) {
  value o = value::object();
  o["observedGeneration"] = value::number(p.generation);
  o["computedAt"] = value::string(kube::format_rfc3339(p.now));
  o["podsToEvict"] = value::number(pf.pods_to_evict);
  o["lowerBoundSeconds"] = value::number(pf.lower_bound_seconds);
  // The workloads the evacuation displaces and their spread before it: what rebalancing
  // restores after the window (bounded; beyond it, the rest are left where they are).
  std::vector<DisplacedWorkload> displaced;
  for (const auto& ws : pf.workloads) {
    bool touched = false;
    for (const auto& z : p.spec->zones) touched = touched || (ws.before.count(z) && ws.before.at(z) > 0);
    if (!touched || ws.workload.rfind("Pod/", 0) == 0) continue;
    if (displaced.size() >= kMaxDisplacedRecorded) {
      o["displacedTruncated"] = value::boolean(true);
      break;
    }
    displaced.push_back({ws.ns, ws.workload, ws.before, ws.max_skew});
  }
  o["displaced"] = displaced_json(displaced);
  o["blockers"] = blockers_json(pf.blockers);
  return o;
}

// Before evacuation (or suspended): between a recurring window's occurrences its nodes go
// back; the preflight is kept current; look again when evacuation starts.
ReconcileResult MaintenanceWindowController::sync_scheduled(Pass& p) {
  const WindowSpec& w = *p.spec;
  value& status = p.status;
  // A recurring window between occurrences: the last one is over, give its nodes back.
  if (w.schedule && !p.claimed.empty())
    if (auto st = restore(p, w.restore == "Keep"); !st.ok()) return st.error();
  if (w.schedule) status["nextWindowStart"] = value::string(kube::format_rfc3339(w.start));
  if (!w.suspend) status["preflight"] = p.preflight_current ? p.old_preflight : preflight_json(p, run_preflight(p));
  status["phase"] = value::string("Scheduled");
  status["nodes"]["total"] = value::number(static_cast<int>(p.targets.size()));
  status["conditions"][0] = condition("Ready", true, w.suspend ? "Suspended" : "Scheduled",
                                      w.suspend ? "suspended: nothing will be touched" : "evacuation starts at " + kube::format_rfc3339(w.evacuation_start()),
                                      p.generation, p.old_status, p.now);
  status["conditions"][1] = condition("Blocked", false, "NotBlocked", "", p.generation, p.old_status, p.now);
  status["conditions"][2] = condition("Evacuated", false, "NotStarted", "", p.generation, p.old_status, p.now);
  if (auto st = write_status(p, status); !st.ok()) return st.error();
  if (w.suspend) return done();
  return requeue_after(w.evacuation_start() - p.now);
}

// After the window: restore, then rebalance (design 2.3) the displaced workloads back to
// their spread, bounded in time so a workload that cannot move (a PDB at zero, no room) does
// not hold the window open.
ReconcileResult MaintenanceWindowController::sync_ended(Pass& p) {
  const WindowSpec& w = *p.spec;
  value& status = p.status;
  const auto& old_status = p.old_status;
  const std::string was = old_status.has_field("phase") ? old_status.at("phase").as_string() : "";
  const bool same_spec = old_status.has_field("observedGeneration") && old_status.at("observedGeneration").as_integer() == p.generation;
  if (was == "Missed" && same_spec) return done();  // terminal until the spec changes
  if (p.claimed.empty() && (was.empty() || was == "Scheduled" || was == "Blocked" || was == "Missed")) {
    // Over before anything was done: say so rather than "Completed ... restored".
    const std::string reason = was == "Blocked" ? "BlockedThroughout" : "WindowAlreadyOver";
    const std::string msg = "the window ended at " + kube::format_rfc3339(w.end) +
                            (was == "Blocked" ? " while it was Blocked" : " before it was ever evacuated") + ": nothing was touched";
    events_.record(p.ref, "Warning", "WindowMissed", msg);
    status["phase"] = value::string("Missed");
    status["nodes"]["total"] = value::number(static_cast<int>(p.targets.size()));
    if (p.old_preflight.is_object()) status["preflight"] = p.old_preflight;
    status["conditions"][0] = condition("Ready", false, reason, msg, p.generation, old_status, p.now);
    status["conditions"][1] = condition("Blocked", false, "NotBlocked", "", p.generation, old_status, p.now);
    status["conditions"][2] = condition("Evacuated", false, reason, "nothing was touched", p.generation, old_status, p.now);
    if (auto st = write_status(p, status); !st.ok()) return st.error();
    return done();
  }
  if (auto st = restore(p, w.restore == "Keep"); !st.ok()) return st.error();
  if (!p.waiting_for_others.empty()) {
    std::string nodes;
    for (const auto& n : p.waiting_for_others) nodes += (nodes.empty() ? "" : ", ") + n;
    status["phase"] = value::string("Restoring");
    status["conditions"][0] = condition("Ready", false, "WaitingForOtherDisruptor",
                                        "kured is rebooting " + nodes + ": restored once it releases its lock", p.generation, old_status, p.now);
    if (auto st = write_status(p, status); !st.ok()) return st.error();
    return requeue_after(std::chrono::seconds(15));
  }
  status["nodes"]["total"] = value::number(static_cast<int>(p.targets.size()));
  status["nodes"]["restored"] = value::number(static_cast<int64_t>(p.claimed.size()) +
                                              (old_status.has_field("nodes") && old_status.at("nodes").has_field("restored")
                                                   ? old_status.at("nodes").at("restored").as_integer()
                                                   : 0));
  if (p.old_preflight.is_object()) status["preflight"] = p.old_preflight;
  status["conditions"][1] = condition("Blocked", false, "NotBlocked", "", p.generation, old_status, p.now);
  status["conditions"][2] = condition("Evacuated", false, "Restored", "", p.generation, old_status, p.now);
  const std::string old_phase = old_status.has_field("phase") ? old_status.at("phase").as_string() : "";
  if (w.rebalance && w.restore != "Keep" && old_phase != "Completed" && p.old_preflight.is_object() &&
      p.old_preflight.has_field("displaced")) {
    const auto displaced = parse_displaced(p.old_preflight.at("displaced"));
    const bool timed_out = p.now - w.end >= kRebalanceTimeout;
    // spec.healthChecks: no eviction while a check fails; the window waits (bounded as the
    // rebalance is), or with onFailure Abort and the streak at failureThreshold stops moving.
    if (w.health) {
      const HealthGate health = rebalance_health(p, w, status);
      const bool stop = health.threshold_reached && w.health->on_failure == "Abort";
      if (!health.passing && !timed_out && !stop) {
        status["phase"] = value::string("Rebalancing");
        status["conditions"][0] = condition("Ready", false, health.reason, "rebalancing waits: " + health.message, p.generation, old_status, p.now);
        if (auto st = write_status(p, status); !st.ok()) return st.error();
        return requeue_after(std::clamp<kube::Duration>(health.next_check - p.now, std::chrono::seconds(1), std::chrono::seconds(15)));
      }
      if (!health.passing) {
        const std::string msg = "rebalancing stopped" + std::string(stop ? " (healthChecks.onFailure Abort)" : " at its time limit") + ": " + health.message;
        events_.record(p.ref, "Warning", "RebalanceIncomplete", msg);
        logging::warn("maintenancewindow", "rebalancing stopped: health checks failing", {{"window", p.name}, {"message", health.message}});
        status["phase"] = value::string("Completed");
        status["conditions"][0] = condition("Ready", true, "RebalanceIncomplete", msg, p.generation, old_status, p.now);
        if (auto st = write_status(p, status); !st.ok()) return st.error();
        return done();
      }
    }
    const auto step = rebalance_step(*client_, nodes_.list(), pods_.list(), displaced, w.zone_label, w.zones, p.claim);
    if (!step.done && !timed_out) {
      status["phase"] = value::string("Rebalancing");
      std::string msg = "moving displaced replicas back";
      for (size_t i = 0; i < step.waiting.size() && i < 3; ++i) msg += "; " + step.waiting[i];
      status["conditions"][0] = condition("Ready", false, "Rebalancing", msg, p.generation, old_status, p.now);
      if (old_phase != "Rebalancing") events_.record(p.ref, "Normal", "Rebalancing", "window over, nodes restored; moving displaced replicas back");
      if (auto st = write_status(p, status); !st.ok()) return st.error();
      return requeue_after(std::chrono::seconds(15));
    }
    if (step.done) {
      events_.record(p.ref, "Normal", "Rebalanced", "every displaced workload is back within its spread");
    } else {
      std::string msg = "rebalancing gave up after " +
                        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(kRebalanceTimeout).count()) + " minutes";
      for (size_t i = 0; i < step.waiting.size() && i < 3; ++i) msg += "; " + step.waiting[i];
      events_.record(p.ref, "Warning", "RebalanceIncomplete", msg);
      status["phase"] = value::string("Completed");
      status["conditions"][0] = condition("Ready", true, "RebalanceIncomplete", msg, p.generation, old_status, p.now);
      if (auto st = write_status(p, status); !st.ok()) return st.error();
      return done();
    }
  }
  status["phase"] = value::string("Completed");
  status["conditions"][0] = condition("Ready", true, "Completed", "the window is over and its nodes are restored", p.generation, old_status, p.now);
  if (auto st = write_status(p, status); !st.ok()) return st.error();
  return done();
}

// The window's health checks before a rebalancing eviction, evaluated every interval; the
// verdict goes to status.health, an Event and the log when it turns.
HealthGate MaintenanceWindowController::rebalance_health(Pass& p, const WindowSpec& w, value& status) {
  value old_health = p.old_status.has_field("health") ? p.old_status.at("health") : value::null();
  if (auto written_it = health_written_.find(p.name); written_it != health_written_.end()) {
    const auto cached = kube::parse_rfc3339(old_health.is_object() && old_health.has_field("checkedAt") ? old_health.at("checkedAt").as_string() : "");
    const auto written = kube::parse_rfc3339(written_it->second.at("checkedAt").as_string());
    if (written && (!cached || *written > *cached)) old_health = written_it->second;
  }
  const auto nodes = nodes_.list();
  HealthGate g = run_health_gate(*w.health, old_health, p.now, false, [&] {
    const auto pods = pods_.list();
    const ClusterView view{&nodes, &pods, [](const model::Node& n) { return n.unschedulable || claim_of(n) != nullptr; }};
    return evaluate_health(*w.health, prometheus_.get(), view, p.now);
  });
  status["health"] = g.status;
  if (!g.ran) return g;
  health_written_[p.name] = g.status;
  const bool was_passing = !old_health.is_object() || !old_health.has_field("passing") || old_health.at("passing").as_bool();
  if (!g.passing) {
    logging::warn("maintenancewindow", "health check failing: rebalancing waits",
                  {{"window", p.name}, {"message", g.message}, {"consecutiveFailures", std::to_string(g.consecutive_failures)}});
    if (was_passing) events_.record(p.ref, "Warning", "HealthCheckFailing", "rebalancing waits: " + g.message);
  } else if (!was_passing) {
    events_.record(p.ref, "Normal", "HealthChecksPassing", "every health check passes again: rebalancing continues");
    logging::info("maintenancewindow", "health checks passing again", {{"window", p.name}});
  }
  return g;
}

// From evacuation start to the window's end: hold the zone-count floor, run the preflight on
// first touch, claim, cordon and drain every node of the window, report progress.
ReconcileResult MaintenanceWindowController::sync_active(Pass& p) {
  const WindowSpec& w = *p.spec;
  if (p.claimed.empty()) {
    if (auto why = zone_floor_refusal(p); !why.empty()) {
      if (auto st = blocked_status(p, "MinAvailableZones", why); !st.ok()) return st.error();
      return requeue_after(std::chrono::minutes(1));
    }
    // First touch: the preflight, fresh. With requireCapacity, pods that would find no place
    // block the window before any node is cordoned.
    const auto pf = run_preflight(p);
    p.status["preflight"] = preflight_json(p, pf);
    if (auto why = refusing(pf); w.require_capacity && !why.empty()) {
      if (auto st = blocked_status(p, "PreflightFailed", "displaced pods would find no place (safety.requireCapacity): " + why,
                                   p.status["preflight"]);
          !st.ok())
        return st.error();
      return requeue_after(std::chrono::minutes(1));
    }
  } else if (p.old_preflight.is_object()) {
    p.status["preflight"] = p.old_preflight;
  }
  Progress pr;
  pr.total = static_cast<int>(p.targets.size());
  DrainBudget budget{.max_in_flight = w.drain.max_concurrent_evictions};
  for (const auto& n : p.targets)
    if (auto st = drain_node(p, *n, budget, pr); !st.ok()) return st.error();
  return report_progress(p, pr, budget.in_flight);
}

std::string MaintenanceWindowController::zone_floor_refusal(Pass& p) {
  // Never below minAvailableZones schedulable zones, counting the zones of other windows whose
  // time overlaps this one and that came first (earlier evacuation start, or the same and an
  // earlier name): of two windows that together would break the floor, the later one is
  // Blocked.
  const WindowSpec& w = *p.spec;
  std::string overlapping;
  const auto nodes = nodes_.list();
  for (const auto& other : windows_.list()) {
    if (other->meta.name == p.name || other->meta.deleted) continue;
    std::error_code oec;
    const value oobj = value::parse(other->json, oec);
    if (oec || window_stands_aside(oobj, nodes)) continue;  // Blocked, holding nothing: takes no zone
    auto op = parse_window_spec(oobj.has_field("spec") ? oobj.at("spec") : value::null());
    if (!op.spec || op.spec->suspend || !op.spec->resolve(p.now)) continue;
    const auto& o = *op.spec;
    const bool overlaps = o.evacuation_start() < w.end && w.evacuation_start() < o.end;
    const bool first = o.evacuation_start() < w.evacuation_start() ||
                       (o.evacuation_start() == w.evacuation_start() && other->meta.name < p.name);
    if (!overlaps || !first) continue;
    for (const auto& z : o.zones)
      if (std::find(w.zones.begin(), w.zones.end(), z) == w.zones.end()) {
        p.zones_remaining.erase(z);  // may already be out: that window has cordoned it
        overlapping += (overlapping.empty() ? "" : ", ") + z + " (MaintenanceWindow " + other->meta.name + ")";
      }
  }
  if (static_cast<int>(p.zones_remaining.size()) >= w.min_available_zones) return "";
  return "evacuating " + std::to_string(w.zones.size()) + " zone(s) would leave " + std::to_string(p.zones_remaining.size()) +
         " schedulable zone(s), below safety.minAvailableZones " + std::to_string(w.min_available_zones) +
         (overlapping.empty() ? "" : "; overlapping windows take " + overlapping);
}

kube::Status MaintenanceWindowController::drain_node(Pass& p, const model::Node& n, DrainBudget& budget, Progress& pr) {
  const WindowSpec& w = *p.spec;
  const auto* c = claim_of(n);
  if (c && *c != p.claim) {
    pr.block("Node", "", n.meta.name, "ClaimedByOther", "claimed by " + *c);
    return kube::Unit{};
  }
  // Held by a tool that drains it itself (kured, NMO, Karpenter, the autoscaler): not claimed,
  // not drained twice, never uncordoned by us; named in status. A node someone merely cordoned
  // is still claimed and drained (its pods would go down with the zone) and left cordoned after.
  if (const auto* tool = held_by_tool(p.others, n.meta.name); !c && tool) {
    value h = value::object();
    h["node"] = value::string(n.meta.name);
    h["holder"] = value::string(tool->holder);
    h["reason"] = value::string(tool->reason);
    if (pr.held_by_others.size() < 100) pr.held_by_others[pr.held_by_others.size()] = h;
    return kube::Unit{};
  }
  // Claimed (and cordoned) straight into "draining": the drain starts in this same pass, and a
  // separate "cordoned" write per node was a third of the first pass's requests.
  std::optional<NodeState> current_state = read_node_state(n).state;
  if (!c) {
    if (auto st = drainer_.claim(n, p.claim, NodeState::kDraining, p.now); !st.ok()) {
      // The node changed since the cache saw it (someone claimed it, or our cache lags): the
      // next pass sees it as it is; the other nodes go on now.
      if (st.error().is_conflict()) return kube::Unit{};
      return st;
    }
    current_state = NodeState::kDraining;
  }
  if (current_state == NodeState::kSkipped) {
    ++pr.skipped;  // onBlocked: SkipNode gave this node up for this window
    return kube::Unit{};
  }
  ++pr.cordoned;
  auto d = drainer_.drain(n, w.drain, budget, p.now);
  pr.evicted += d.evicted + d.forced;
  for (const auto& b : d.blockers) pr.block(b.kind, b.ns, b.name, b.reason, b.message);
  if (auto st = drainer_.mark_blocked(n, d.policy_blocked, p.now); !st.ok()) return st;
  if (d.policy_blocked && w.drain.on_blocked == "SkipNode") {
    // Give the node back (uncordoned, still claimed so it is not taken again) and go on with
    // the others: the zone will not be empty, and status and an Event say so.
    if (auto st = drainer_.skip(n, p.now); !st.ok()) return st;
    events_.record(node_ref(n), "Warning", "NodeSkipped", "a pod the drain policy will not evict (onBlocked: SkipNode); left in service");
    events_.record(p.ref, "Warning", "NodeSkipped", n.meta.name + ": a pod the drain policy will not evict (onBlocked: SkipNode)");
    --pr.cordoned;
    ++pr.skipped;
    return kube::Unit{};
  }
  const NodeState state = d.remaining == 0 ? NodeState::kDrained : NodeState::kDraining;
  if (current_state != state) {
    if (auto st = drainer_.set_state(n, state, p.now); !st.ok()) return st;
    if (d.remaining == 0) drainer_.drained(n, p.claim, p.now);
  }
  if (d.remaining == 0) ++pr.drained;
  return kube::Unit{};
}

ReconcileResult MaintenanceWindowController::report_progress(Pass& p, const Progress& pr, int in_flight) {
  const WindowSpec& w = *p.spec;
  value& status = p.status;
  const auto& old_status = p.old_status;
  // Nodes other tools hold are theirs to empty: the zone is evacuated once ours are.
  const bool evacuated = pr.drained + pr.skipped + static_cast<int>(pr.held_by_others.size()) == pr.total;
  const bool started = p.now >= w.start;
  status["phase"] = value::string(evacuated ? (started ? "InProgress" : "Evacuated") : "Evacuating");
  status["nodes"]["total"] = value::number(pr.total);
  status["nodes"]["cordoned"] = value::number(pr.cordoned);
  status["nodes"]["drained"] = value::number(pr.drained);
  if (pr.skipped > 0) status["nodes"]["skipped"] = value::number(pr.skipped);
  p.evicted_now = pr.evicted;
  status["pods"]["evicted"] = value::number(0);  // set from the fresh count by write_status
  status["pods"]["blocked"] = value::number(pr.blocked);
  if (pr.blockers.size() > 0) status["blockers"] = pr.blockers;
  // Always written (an empty list clears the last one: the status is merged into the fresh one).
  status["heldByOthers"] = pr.held_by_others;
  if (pr.held_by_others.size() > 0 && !(old_status.has_field("heldByOthers") && old_status.at("heldByOthers") == pr.held_by_others)) {
    std::string names;
    for (const auto& h : pr.held_by_others.as_array())
      names += (names.empty() ? "" : "; ") + h.at("holder").as_string() + " holds " + h.at("node").as_string();
    events_.record(p.ref, "Normal", "HeldByOthers", names + ": left to them, not claimed");
    logging::info("maintenancewindow", "nodes of the zone held by other disruptors are left to them", {{"window", p.name}, {"held", names}});
  }
  const bool late = !evacuated && started;
  status["conditions"][0] = condition("Ready", !late, late ? "EvacuationLate" : "OnSchedule",
                                      late ? "the window has started and the zone is not empty" : "", p.generation, old_status, p.now);
  status["conditions"][1] = condition("Blocked", pr.blocked > 0 && !evacuated, pr.blocked > 0 ? "PodsBlocked" : "NotBlocked",
                                      pr.blocked > 0 ? std::to_string(pr.blocked) + " pod(s) cannot be evicted yet" : "", p.generation,
                                      old_status, p.now);
  status["conditions"][2] = condition("Evacuated", evacuated, evacuated ? "AllNodesDrained" : "Draining",
                                      std::to_string(pr.drained) + "/" + std::to_string(pr.total) + " nodes drained", p.generation,
                                      old_status, p.now);
  for (size_t i = 0; i < pr.blockers.size() && i < 3; ++i) {
    const auto& b = pr.blockers.at(i);
    events_.record(p.ref, "Warning", "EvictionBlocked",
                   b.at("kind").as_string() + " " + (b.has_field("namespace") ? b.at("namespace").as_string() + "/" : "") +
                       b.at("name").as_string() + ": " + b.at("message").as_string());
  }
  if (auto st = write_status(p, status); !st.ok()) return st.error();
  // Keep watching while pods move; otherwise wake for the window's end.
  if (!evacuated || in_flight > 0) return requeue_after(std::chrono::seconds(2));
  return requeue_after(std::min<kube::Duration>(w.end - p.now, std::chrono::seconds(30)));
}

}  // namespace nonevent::controllers
