// Step 3 of a PatchCampaign pass, zone by zone in order: count the zone, close a batch that
// has finished (and start its soak), decide the zone's state, and when it may, choose the
// next batch (the canary first, then up to maxUnavailable plus maxSurge nodes the planner
// accepts) and claim it. Each zone's counts and batch go into status.zones.
#include <algorithm>

#include "controllers/campaign_pass.h"
#include "controllers/surge_capacity.h"
#include "controllers/window_spec.h"
#include "controllers/zone_floor.h"
#include "planner/drain_prediction.h"

namespace nonevent::controllers {

using web::json::value;

namespace {

// The zones MaintenanceWindows hold now or will start evacuating within `lookahead` (a node
// started now could not be finished before the window needs its zone), and the highest
// safety.minAvailableZones among those windows.
struct WindowHolds {
  std::map<std::string, Hold> zones;  // zone → the window holding it and until when
  int min_available_zones = kDefaultMinAvailableZones;
};
WindowHolds zones_held_by_windows(GenericInformer* windows, const std::vector<NodePtr>& nodes, kube::TimePoint now,
                                  kube::Duration lookahead) {
  WindowHolds held;
  if (!windows) return held;
  for (const auto& w : windows->list()) {
    std::error_code ec;
    const value obj = value::parse(w->json, ec);
    if (ec || window_stands_aside(obj, nodes)) continue;
    auto parsed = parse_window_spec(field(obj, "spec"));
    if (!parsed.spec || parsed.spec->suspend || !parsed.spec->resolve(now)) continue;
    const auto& s = *parsed.spec;
    if (now + lookahead >= s.evacuation_start() && now < s.end) {
      for (const auto& z : s.zones) {
        const Hold hold{claim_for("MaintenanceWindow", w->meta.name), s.end};
        auto [it, fresh] = held.zones.try_emplace(z, hold);
        if (!fresh && s.end > it->second.until) it->second = hold;
      }
      held.min_available_zones = std::max(held.min_available_zones, s.min_available_zones);
    }
  }
  return held;
}

}  // namespace

// One zone's working state in this pass.
struct PatchCampaignController::ZoneRoll {
  std::string zone;
  const std::vector<NodePtr>* nodes = nullptr;
  value old;                     // its status.zones entry as read
  value out = value::object();   // its new entry
  // out: nodes out of service against maxUnavailable; surge: surge nodes in flight against
  // maxSurge (their capacity is replaced before they go out).
  int total = 0, updated = 0, failed = 0, quarantined = 0, flight = 0, out_of_service = 0, surge = 0;
  std::vector<NodePtr> candidates;  // unpatched, unclaimed, Ready, held by no other disruptor
  std::vector<std::pair<std::string, OtherHold>> held_by_others;  // out of service, not ours
  value batch = value::array();     // the running batch's nodes
  bool batch_was_canary = false;
  std::optional<kube::TimePoint> soak_until;
  std::string state = "Pending";
  int budget = 1;          // maxUnavailable in this zone
  double in_flight_s = 0;  // rolling: the time its nodes in flight have run, summed
};

kube::Status PatchCampaignController::roll_zones(Pass& p) {
  const CampaignSpec& c = p.c();
  // Zones windows hold are out for this campaign's batches and for the zone floor alike;
  // respectWindows: false only lets the campaign work inside them.
  const auto holds = zones_held_by_windows(windows_, p.all_nodes, p.now, c.node_timeout);
  // Zones a window has claimed nodes in (restoring after its end, say) are held too, until
  // it lets them go.
  std::map<std::string, Hold> all_holds = holds.zones;
  for (const auto& n : p.all_nodes)
    if (const auto* cl = claim_of(*n); cl && cl->rfind("MaintenanceWindow/", 0) == 0 && !n->zone.empty())
      all_holds.try_emplace(n->zone.str(), Hold{*cl, p.now});
  for (const auto& [zone, hold] : all_holds) p.zones_held.insert(zone);
  p.others = other_holds(p.all_nodes, opts_.others);
  if (c.respect_windows) p.holds = all_holds;
  p.zone_floor = std::min<int>(holds.min_available_zones, static_cast<int>(zones_present(p.all_nodes, c.zone_label).size()));
  p.canary_completed = field(p.old_status, "canaryCompleted").is_boolean() && p.old_status.at("canaryCompleted").as_bool();
  if (c.canary_nodes <= 0) p.canary_completed = true;
  // Step 1 changed annotations; the cache catches up on the next pass, but counts taken now
  // must not treat a just-released node as still ours.
  std::set<std::string> released_now(p.newly_quarantined.begin(), p.newly_quarantined.end());
  for (const auto& f : p.new_failures.as_array()) released_now.insert(text(f, "name"));

  const value old_zones = field(p.old_status, "zones").is_array() ? p.old_status.at("zones") : value::array();
  for (const auto& zone : p.zones) {
    ZoneRoll z;
    z.zone = zone;
    z.nodes = &p.by_zone[zone];
    z.old = value::object();
    for (const auto& e : old_zones.as_array())
      if (text(e, "zone") == zone) z.old = e;
    z.out["zone"] = value::string(zone);
    count_zone(p, z, released_now);
    close_finished_batch(p, z);
    if (auto st = roll_zone(p, z, released_now, p.holds.count(zone) > 0); !st.ok()) return st;
    record_zone(p, z, released_now);
  }
  return kube::Unit{};
}

void PatchCampaignController::count_zone(Pass& p, ZoneRoll& z, const std::set<std::string>& released_now) {
  const CampaignSpec& c = p.c();
  z.total = static_cast<int>(z.nodes->size());
  for (const auto& n : *z.nodes) {
    const auto* cl = claim_of(*n);
    if (p.quarantined.count(n->meta.name)) {  // left cordoned by this campaign: out, and not tried again
      ++z.quarantined;
      if (!n->ready || n->unschedulable) ++z.out_of_service;
      continue;
    }
    const bool ours_now = p.ours(*n) && !released_now.count(n->meta.name);
    if (ours_now && !p.failed.count(n->meta.name)) {
      ++z.flight;
      const auto u = p.unseen->find(n->meta.name);
      ++(n->annotation(kSurgeFrom) || (u != p.unseen->end() && !u->second.empty()) ? z.surge : z.out_of_service);
      continue;
    }
    if (p.failed.count(n->meta.name)) {  // released, or kept cordoned (keepFailedNodesCordoned)
      ++z.failed;
      if (!n->ready || n->unschedulable) ++z.out_of_service;
      continue;
    }
    if (p.patched(*n)) ++z.updated;
    // Out for other reasons: counts against the budget. A node another disruptor holds is out
    // whatever its Ready and cordon say (Karpenter's and the autoscaler's taints come before
    // their cordon-free drain), and is never a candidate.
    const auto other = cl ? p.others.end() : p.others.find(n->meta.name);
    if (other != p.others.end()) z.held_by_others.emplace_back(other->first, other->second);
    if (!n->ready || n->unschedulable || other != p.others.end()) ++z.out_of_service;
    if (!p.patched(*n) && !cl && n->ready && other == p.others.end()) z.candidates.push_back(n);
  }
  // Replace: nodes deleted for this zone's batch and not yet replaced.
  if (c.strategy != Strategy::kReplace || !field(z.old, "replace").is_object()) return;
  const value& rep = z.old.at("replace");
  const int expected = static_cast<int>(integer(rep, "updatedBefore") + integer(rep, "count"));
  const int pending = std::max(0, expected - z.updated - z.flight);  // claimed ones are counted already
  if (pending > 0 || z.flight > 0) z.out["replace"] = rep;             // the batch is still running
  if (pending <= 0) return;
  const auto since = kube::parse_rfc3339(text(rep, "since")).value_or(p.now);
  if (p.now - since > c.node_timeout && !field(rep, "timedOut").is_boolean())
    p.blockers.push_back({"Zone", "", z.zone, "ReplacementTimeout",
                          std::to_string(pending) + " replacement node(s) not Ready with " + c.version + " yet"});
  z.total += pending;
  z.out_of_service += pending;
  z.flight += pending;
}

void PatchCampaignController::close_finished_batch(Pass& p, ZoneRoll& z) {
  // The running batch: the nodes recorded for it, and any we hold (a batch claimed just
  // before a crash is recovered from the nodes' claims).
  const CampaignSpec& c = p.c();
  z.batch = field(z.old, "batch").is_array() ? z.old.at("batch") : value::array();
  z.batch_was_canary = field(z.old, "batchIsCanary").is_boolean() && z.old.at("batchIsCanary").as_bool();
  z.soak_until = kube::parse_rfc3339(text(z.old, "soakUntil"));
  if (z.flight == 0 && z.batch.size() > 0) {
    // The batch is over: record how long it took, then soak.
    if (const auto started = kube::parse_rfc3339(text(z.old, "batchStartedAt"))) {
      ++p.completed_batches;
      p.completed_batch_seconds += seconds(p.now - *started);
    }
    bool batch_failed = false;
    for (const auto& b : z.batch.as_array()) batch_failed = batch_failed || p.failed.count(b.as_string());
    const auto soak = z.batch_was_canary ? c.canary_soak : c.batch_soak;
    if (z.batch_was_canary && !batch_failed) p.canary_completed = true;
    if (soak > kube::Duration::zero()) z.soak_until = p.now + soak;
    z.batch = value::array();
  }
}

kube::Status PatchCampaignController::roll_zone(Pass& p, ZoneRoll& z, const std::set<std::string>& released_now, bool held) {
  const CampaignSpec& c = p.c();
  // With no batchSoak there is nothing to wait for between batches: once the canary is done,
  // a zone's batch is topped up as its nodes finish (a Deployment's rolling update under
  // maxUnavailable). Waiting for a whole batch let its slowest drain hold every other slot idle.
  const bool rolling = p.canary_completed && c.batch_soak == kube::Duration::zero();
  // Budgets are of the zone's own size: a surge node's new node is not counted (with 10
  // nodes and maxSurge 10%, the eleventh would otherwise allow a second surge node).
  const int zone_size = z.total - z.surge;
  z.budget = c.max_unavailable_in(zone_size);
  if (rolling && z.flight > 0) {
    // The batch is the nodes in flight: finished ones leave it, their slots are free again.
    std::map<std::string, const model::Node*> zone_node;
    for (const auto& n : *z.nodes) zone_node[n->meta.name] = n.get();
    value still = value::array();
    for (const auto& b : z.batch.as_array()) {
      auto n = zone_node.find(b.as_string());
      if (n == zone_node.end()) continue;
      if (p.ours(*n->second) && !released_now.count(n->first) && !p.failed.count(n->first)) {
        still[still.size()] = b;
        z.in_flight_s += seconds(p.now - annotation_time(*n->second, kClaimedAt).value_or(p.now));
      }
    }
    z.batch = still;
  }
  const bool zone_done = z.updated + z.failed + z.quarantined >= z.total && z.flight == 0;
  // A recorded soak holds new claims even while the zone still counts a node in flight (a
  // top-up checked only the zone's state, which says Progressing then).
  const bool soaking = z.soak_until && p.now < *z.soak_until;
  if (zone_done) z.state = z.failed > 0 ? "Paused" : "Completed";
  else if (z.flight > 0) z.state = "Progressing";
  else if (held) z.state = "HeldByWindow";
  else if (p.paused) z.state = "Paused";
  else if (soaking) z.state = "Soaking";
  else if (!p.may_start()) z.state = p.wait_reason();  // Blackout | OutsideSchedule | HealthCheckFailing | HealthCheckUnavailable
  if (z.state == "Soaking") p.wake_at(*z.soak_until);
  const bool zone_active = !zone_done && !held && (z.flight > 0 || p.active_zones < c.zones_in_parallel);
  if (zone_active) ++p.active_zones;
  const bool topping_up = rolling && z.flight > 0;
  if (zone_active && !p.paused && p.may_start() && (z.flight == 0 || topping_up) && !soaking && !z.candidates.empty())
    return start_batch(p, z, zone_size, topping_up);
  if (z.batch.size() > 0) {
    z.out["batchStartedAt"] = z.old.at("batchStartedAt");
    z.out["batchIsCanary"] = value::boolean(z.batch_was_canary);
  }
  return kube::Unit{};
}

kube::Status PatchCampaignController::start_batch(Pass& p, ZoneRoll& z, int zone_size, bool topping_up) {
  const CampaignSpec& c = p.c();
  // The canary first, then up to maxUnavailable nodes, minus nodes this zone already has out
  // for other reasons (and, rolling, the nodes still in flight). Surge nodes first (they keep
  // the zone's capacity), then nodes taken out under maxUnavailable.
  const int surge_free = c.strategy == Strategy::kReplace ? std::max(0, c.max_surge_in(zone_size) - z.surge) : 0;
  const int out_free = std::max(0, z.budget - z.out_of_service);
  int size = p.canary_completed ? out_free + surge_free : std::min(c.canary_nodes, out_free + surge_free);
  size = std::min<int>(size, static_cast<int>(z.candidates.size()));
  if (topping_up && field(z.old, "batchStartedAt").is_string()) {
    z.out["batchStartedAt"] = z.old.at("batchStartedAt");
    z.out["batchIsCanary"] = value::boolean(z.batch_was_canary);
  }
  if (size <= 0 && !topping_up) {
    std::string others;
    for (const auto& [node, hold] : z.held_by_others)
      others += (others.empty() ? "" : ", ") + node + " held by " + hold.who();
    p.blockers.push_back({"Zone", "", z.zone, z.held_by_others.empty() ? "ZoneUnavailable" : "HeldByOtherDisruptors",
                          std::to_string(z.out_of_service) + " node(s) already out in " + z.zone + " (maxUnavailable " +
                              std::to_string(z.budget) + ")" + (others.empty() ? "" : ": " + others)});
  }
  auto picks = select_batch(p, z, size, surge_free, out_free);
  if (!picks.ok()) return picks.error();
  if (picks.value().surge.empty() && picks.value().out.empty()) return kube::Unit{};
  if (auto st = take_kured_lock_for_batch(p, z); !st.ok()) return st.error().is_conflict() ? kube::Status(kube::Unit{}) : st;
  if (p.kured_ds && !p.kured_ours) return kube::Unit{};  // kured holds it: wait
  return claim_batch(p, z, picks.value());
}

kube::Status PatchCampaignController::take_kured_lock_for_batch(Pass& p, ZoneRoll& z) {
  // --coordinate-kured: no node of ours goes out while kured reboots one, and kured waits
  // while ours are out (the lock is released once nothing is in flight).
  if (!p.kured_ds || p.kured_ours) return kube::Unit{};
  if (p.kured_lock.held()) {
    std::string holders;
    for (const auto& h : p.kured_lock.holders) holders += (holders.empty() ? "" : ", ") + h;
    p.blockers.push_back({"DaemonSet", std::string(p.kured_ds->meta.namespace_.view()), p.kured_ds->meta.name, "KuredLockHeld",
                          "kured holds its reboot lock (" + (holders.empty() ? p.kured_lock.text : holders) + "): no batch starts in " +
                              z.zone + " until it lets go (--coordinate-kured)"});
    return kube::Unit{};
  }
  if (auto st = take_kured_lock(*client_, *p.kured_ds, p.claim, p.now); !st.ok()) return st;
  p.kured_ours = true;
  return kube::Unit{};
}

kube::Status PatchCampaignController::release_kured_lock_when_idle(Pass& p, bool force) {
  if (!p.kured_ds || !p.kured_ours || (p.in_progress > 0 && !force)) return kube::Unit{};
  auto st = release_kured_lock(*client_, *p.kured_ds, p.claim);
  if (!st.ok() && st.error().is_conflict()) return kube::Unit{};  // kured's DaemonSet changed: next pass
  if (st.ok()) p.kured_ours = false;
  return st;
}

kube::Result<PatchCampaignController::BatchPicks> PatchCampaignController::select_batch(Pass& p, ZoneRoll& z, int size, int surge_free,
                                                                                        int out_free) {
  const CampaignSpec& c = p.c();
  // Nodes whose drain would meet a pod the policy forbids evicting go last: everything else
  // in the zone is patched before the campaign waits on them.
  std::map<std::string, bool> blocked;
  for (const auto& n : z.candidates) blocked[n->meta.name] = drainer_.has_blockers(*n, c.drain);
  std::sort(z.candidates.begin(), z.candidates.end(), [&](const NodePtr& a, const NodePtr& b) {
    return std::pair(blocked[a->meta.name], a->meta.name) < std::pair(blocked[b->meta.name], b->meta.name);
  });
  // Surge nodes are the first candidates a MachineDeployment runs (it can add their capacity
  // first); the rest go out under maxUnavailable.
  BatchPicks picks;
  bool lacked_deployment = false;
  for (const auto& n : z.candidates) {
    if (static_cast<int>(picks.surge.size() + picks.out.size()) >= size) break;
    if (static_cast<int>(picks.surge.size()) < surge_free) {
      auto md = machine_deployment_of(*client_, *n);
      if (!md.ok()) return md.error();
      if (md.value()) {
        picks.surge.emplace_back(n, *md.value());
        continue;
      }
      lacked_deployment = true;
    }
    if (static_cast<int>(picks.out.size()) < out_free) picks.out.push_back(n);
  }
  if (lacked_deployment && picks.surge.empty())
    p.blockers.push_back({"Zone", "", z.zone, "NoMachineDeployment",
                          "maxSurge adds capacity through the Cluster API MachineDeployment that runs a node; nodes without "
                          "one are replaced only under maxUnavailable"});
  // The planner must accept the nodes that go out now (surge nodes are checked when their new
  // node is there): the batch shrinks until it does.
  int out_size = static_cast<int>(picks.out.size());
  while (out_size > 0) {
    p.planner_view(pods_);
    std::set<std::string> trial = p.cordoned_ours;
    for (int i = 0; i < out_size; ++i) trial.insert(picks.out[i]->meta.name);
    auto unplaceable = planner::unplaceable_after_drain(p.view_nodes, p.view_pods, trial);
    if (unplaceable.empty()) break;
    if (out_size == 1) {
      const auto* pod = unplaceable.front().pod;
      p.blockers.push_back({"Pod", std::string(pod->meta.namespace_.view()), pod->meta.name, "WouldNotReschedule",
                            "draining " + picks.out[0]->meta.name + " would leave it Pending: " + unplaceable.front().reason});
    }
    --out_size;
  }
  // Design 7.2: never the last schedulable node of a zone when that leaves fewer schedulable
  // zones than the floor, counting every claim and every zone a window holds.
  while (out_size > 0) {
    std::set<std::string> leaving = p.cordoned_ours;
    for (int i = 0; i < out_size; ++i) leaving.insert(picks.out[i]->meta.name);
    for (const auto& [node, hold] : p.others) leaving.insert(node);  // out whatever their cordon says
    for (const auto& [node, md] : *p.unseen)
      if (md.empty()) leaving.insert(node);
    const auto open = zones_left_schedulable(p.all_nodes, c.zone_label, leaving, p.zones_held);
    if (open.count(z.zone) || static_cast<int>(open.size()) >= p.zone_floor) break;
    if (out_size == 1)
      p.blockers.push_back({"Zone", "", z.zone, "MinAvailableZones",
                            "taking " + z.zone + "'s last schedulable node would leave " + std::to_string(open.size()) +
                                " schedulable zone(s), below minAvailableZones " + std::to_string(p.zone_floor) +
                                " (every window's and campaign's nodes counted)"});
    --out_size;
  }
  picks.out.resize(out_size);
  return picks;
}

kube::Status PatchCampaignController::claim_batch(Pass& p, ZoneRoll& z, const BatchPicks& picks) {
  const CampaignSpec& c = p.c();
  if (picks.surge.empty() && picks.out.empty()) return kube::Unit{};
  const bool is_canary = !p.canary_completed;
  int claimed_now = 0;
  // `md`: the MachineDeployment a surge claim scaled, "" for other claims.
  auto claimed_one = [&](const model::Node& n, const std::string& md) {
    z.batch[z.batch.size()] = value::string(n.meta.name);
    (*p.unseen)[n.meta.name] = md;
    ++z.flight;
    ++claimed_now;
  };
  for (const auto& [n, md] : picks.surge) {
    auto st = drainer_.claim(*n, p.claim, NodeState::kSurging, p.now, /*cordon=*/false, {{kSurgeFrom, md}});
    if (!st.ok()) {
      if (st.error().is_conflict()) break;  // the node changed under us: next pass
      return st;
    }
    ++p.surge_extra[md];
    claimed_one(*n, md);
    events_.record(node_ref(*n), "Normal", "SurgeRequested",
                   p.claim + ": MachineDeployment " + md + " scaled up by one; drained once a new node with " + c.version + " is Ready");
  }
  for (const auto& n : picks.out) {
    auto st = drainer_.claim(*n, p.claim, NodeState::kDraining, p.now);
    if (!st.ok()) {
      if (st.error().is_conflict()) break;
      return st;
    }
    p.cordoned_ours.insert(n->meta.name);
    claimed_one(*n, "");
  }
  if (claimed_now == 0) return kube::Unit{};
  if (!z.out.has_field("batchStartedAt")) {
    z.out["batchStartedAt"] = value::string(kube::format_rfc3339(p.now));
    z.out["batchIsCanary"] = value::boolean(is_canary);
    events_.record(p.ref, "Normal", is_canary ? "CanaryStarted" : "BatchStarted", z.zone + ": " + std::to_string(claimed_now) + " node(s)");
  }
  if (c.strategy == Strategy::kReplace) {
    // Replacements this zone waits for: the nodes it had patched before the batch plus every
    // node the batch (and its top-ups) sent away.
    value rep = z.out.has_field("replace") ? z.out.at("replace") : value::object();
    if (!rep.has_field("updatedBefore")) rep["updatedBefore"] = value::number(z.updated);
    rep["count"] = value::number(integer(rep, "count") + claimed_now);
    rep["since"] = value::string(kube::format_rfc3339(p.now));
    z.out["replace"] = rep;
  }
  z.state = "Progressing";
  return kube::Unit{};
}

void PatchCampaignController::record_zone(Pass& p, ZoneRoll& z, const std::set<std::string>& released_now) {
  const CampaignSpec& c = p.c();
  // Nodes we hold that the batch list lacks (claimed before a crash wrote the status). A
  // failed node kept cordoned (keepFailedNodesCordoned) is held but in no batch: listed again,
  // it made every pass close that "batch" anew, count it in status.observed (a status write,
  // whose watch event ran the next pass: a hot loop of writes while paused) and pull the
  // average batch time, and so the ETA, towards zero.
  for (const auto& n : *z.nodes) {
    const auto* cl = claim_of(*n);
    if (!cl || *cl != p.claim || released_now.count(n->meta.name) || p.failed.count(n->meta.name)) continue;
    bool listed = false;
    for (const auto& b : z.batch.as_array()) listed = listed || b.as_string() == n->meta.name;
    if (!listed) z.batch[z.batch.size()] = value::string(n->meta.name);
  }
  value& zo = z.out;
  if (z.batch.size() > 0) {
    zo["batch"] = z.batch;
    if (!zo.has_field("batchStartedAt")) zo["batchStartedAt"] = value::string(kube::format_rfc3339(p.now));
    for (const auto& b : z.batch.as_array()) p.current_batch[p.current_batch.size()] = b;
    if (p.current_zone.empty()) p.current_zone = z.zone;
  }
  if (z.soak_until && p.now < *z.soak_until) zo["soakUntil"] = value::string(kube::format_rfc3339(*z.soak_until));
  zo["total"] = value::number(z.total);
  zo["updated"] = value::number(z.updated);
  zo["inProgress"] = value::number(z.flight);
  if (z.surge > 0) zo["surging"] = value::number(z.surge);  // of those, surge nodes (their new node first)
  zo["failed"] = value::number(z.failed);
  if (z.quarantined > 0) zo["quarantined"] = value::number(z.quarantined);
  zo["state"] = value::string(z.state);
  double not_before_s = 0;
  if (auto hold = p.holds.find(z.zone); hold != p.holds.end() && z.state == "HeldByWindow") {
    zo["heldBy"] = value::string(hold->second.by);
    zo["heldUntil"] = value::string(kube::format_rfc3339(hold->second.until));
    not_before_s = std::max(0.0, seconds(hold->second.until - p.now));
  }
  if (!z.held_by_others.empty()) {
    value held = value::array();
    for (const auto& [node, hold] : z.held_by_others) {
      value h = value::object();
      h["node"] = value::string(node);
      h["holder"] = value::string(hold.holder);
      h["reason"] = value::string(hold.reason);
      if (held.size() < 100) held[held.size()] = h;
      p.others_in_zones.emplace(node, hold);
    }
    zo["heldByOthers"] = held;
  }
  p.zones_out[p.zones_out.size()] = zo;
  p.total += z.total;
  p.updated += z.updated;
  p.in_progress += z.flight;
  p.quarantined_in_zones += z.quarantined;
  const int left = z.total - z.updated - z.failed - z.quarantined;
  // For the ETA: the running batch counts as a whole batch less the time it has already run.
  double running_s = 0;
  if (z.flight > 0 && zo.has_field("batchStartedAt"))
    if (auto started = kube::parse_rfc3339(zo.at("batchStartedAt").as_string())) running_s = seconds(p.now - *started);
  if (left > 0)
    // Nodes others hold take their share of the budget for as long as they hold them (at
    // least one slot is assumed to come free: they let go eventually).
    p.work_left.push_back({.nodes = left,
                           .budget = std::max(1, c.nodes_at_once_in(z.total - z.surge) - static_cast<int>(z.held_by_others.size())),
                           .running_s = running_s,
                           .in_flight_s = z.in_flight_s, .not_before_s = not_before_s});
}

}  // namespace nonevent::controllers
