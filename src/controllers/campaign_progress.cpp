// A PatchCampaign's progress: the failure budget (step 2: pause or abort), the surge
// capacity its MachineDeployments carry, and the pass's end (the ETA from observed
// durations, Events, the status write and when to look again).
#include <algorithm>

#include "controllers/campaign_pass.h"
#include "controllers/resource_status.h"
#include "controllers/surge_capacity.h"
#include "kube/log.h"

namespace nonevent::controllers {

using kube::PatchType;
using web::json::value;

namespace {
kube::Duration from_seconds(double s) { return std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(s)); }
}  // namespace

kube::Status PatchCampaignController::apply_failure_budget(Pass& p) {
  const CampaignSpec& c = p.c();
  for (const auto& f : p.new_failures.as_array()) p.failed_list[p.failed_list.size()] = f;
  const int budget_nodes = std::max(1, c.max_failed_nodes);
  p.over_budget = static_cast<int>(p.failed.size()) >= budget_nodes;
  p.failure_pause_out = p.resumed_after_failures ? value::null() : p.failure_pause;
  const web::json::value& annotations = field(field(p.obj, "metadata"), "annotations");
  const bool abort_requested = annotations.is_object() && annotations.has_field(kAbortAnnotation);
  if (abort_requested || (p.over_budget && c.failure_action == "Abort")) {
    if (auto st = abort_campaign(p, abort_requested); !st.ok()) return st;
  } else if (p.over_budget && !c.paused && !p.failure_pause_out.is_object()) {
    auto paused = pause_by_spec(p);
    if (!paused.ok()) return paused.error();
    p.failure_pause_out = paused.value();
    events_.record(p.ref, "Warning", "CampaignPaused",
                   std::to_string(p.failed.size()) + " node(s) failed (failurePolicy.maxFailedNodes " +
                       std::to_string(c.max_failed_nodes) + "): paused; fix the cause and set spec.paused to false to retry them");
  }
  // failurePolicy.maxQuarantinedNodes: one more undrainable node would exceed it. Paused the
  // same way; a resume while that still holds pauses again (raise the budget, or free the pod).
  const value& quarantine_pause = field(p.old_status, "quarantinePause");
  p.quarantine_pause_out = quarantine_pause;
  if (quarantine_pause.is_object() && !c.paused && p.generation > integer(quarantine_pause, "generation"))
    p.quarantine_pause_out = value::null();  // resumed
  if (p.quarantine_budget_hit && !c.paused && !p.aborted && !p.quarantine_pause_out.is_object()) {
    auto paused = pause_by_spec(p);
    if (!paused.ok()) return paused.error();
    p.quarantine_pause_out = paused.value();
    const std::string msg = std::to_string(p.quarantined.size()) + " node(s) quarantined and another drain is past drainTimeout " +
                            "(failurePolicy.maxQuarantinedNodes " + std::to_string(c.max_quarantined_nodes) +
                            "): paused; free the pod, or raise maxQuarantinedNodes, and set spec.paused to false";
    events_.record(p.ref, "Warning", "CampaignPaused", msg);
    logging::warn("patchcampaign", "paused: quarantine budget exceeded", {{"campaign", p.name}, {"quarantined", std::to_string(p.quarantined.size())}});
  }
  p.paused = c.paused || (p.failure_pause_out.is_object() && p.over_budget) || p.quarantine_pause_out.is_object() || p.aborted;
  return kube::Unit{};
}

kube::Result<value> PatchCampaignController::pause_by_spec(Pass& p) {
  // Paused by setting spec.paused, so resuming is the same gesture as any resume. Returns
  // the record status keeps: the generation the pause made, and when.
  value spec = value::object();
  spec["paused"] = value::boolean(true);
  auto r = client_->patch(kube::resources::patch_campaigns(), "", p.name, PatchType::kMerge, value::object({{"spec", spec}}).serialize());
  if (!r.ok()) return r.error();
  std::error_code ec;
  const value after = value::parse(r.value(), ec);
  value record = value::object();
  record["generation"] = value::number(ec ? p.generation + 1 : integer(after.at("metadata"), "generation"));
  record["since"] = value::string(kube::format_rfc3339(p.now));
  return record;
}

kube::Status PatchCampaignController::end_holds(Pass& p) {
  if (auto st = release_kured_lock_when_idle(p, true); !st.ok()) return st;
  for (const auto& n : nodes_.list())
    if (const auto* by = n->annotation(kProtectedBy); by && *by == p.claim)
      if (auto st = drainer_.unprotect(*n); !st.ok()) return st;
  return kube::Unit{};
}

kube::Status PatchCampaignController::abort_campaign(Pass& p, bool requested) {
  p.aborted = true;
  std::vector<NodePtr> still;
  for (const auto& n : nodes_.list())
    if (const auto* cl = claim_of(*n); cl && *cl == p.claim && !p.failed.count(n->meta.name)) still.push_back(n);
  const auto others = other_holds(still, opts_.others);
  for (const auto& n : still)
    if (auto st = release_unless_taken(drainer_, *n, others, false, "campaign aborted"); !st.ok()) return st;
  // Failed nodes kept cordoned stay so, but are no longer the campaign's.
  for (const auto& n : nodes_.list())
    if (const auto* cl = claim_of(*n); cl && *cl == p.claim && p.failed.count(n->meta.name))
      if (auto st = drainer_.release(*n, true, "campaign aborted; failed node left cordoned"); !st.ok()) return st;
  p.surge_extra.clear();  // every surge node was given back above
  if (text(p.old_status, "phase") != "Failed") {
    const std::string why = requested              ? std::string("aborted on request (annotation ") + kAbortAnnotation + ")"
                            : !p.abort_why.empty() ? p.abort_why
                                                   : std::to_string(p.failed.size()) + " node(s) failed: aborted";
    events_.record(p.ref, "Warning", "CampaignAborted", why);
    logging::warn("patchcampaign", "aborted", {{"campaign", p.name}, {"requested", requested ? "true" : "false"},
                                                 {"failedNodes", std::to_string(p.failed.size())}});
  }
  return kube::Unit{};
}

kube::Status PatchCampaignController::keep_surge_capacity(Pass& p) {
  // Each MachineDeployment at its size plus the surge nodes it carries.
  const CampaignSpec& c = p.c();
  if (c.strategy != Strategy::kReplace || (c.max_surge.value <= 0 && p.surge_extra.empty())) return kube::Unit{};
  std::vector<std::string> conflicts;
  if (auto st = reconcile_surge_capacity(*client_, p.name, p.surge_extra, &conflicts); !st.ok()) return st;
  for (const auto& m : conflicts) p.blockers.push_back({"MachineDeployment", "", m.substr(0, m.find(' ')), "SurgeConflict", m});
  return kube::Unit{};
}

std::optional<kube::TimePoint> PatchCampaignController::estimate_completion(const Pass& p, bool complete) {
  // From observed durations (a batch takes as long as its slowest node); none before the
  // first node or batch has finished.
  const CampaignSpec& c = p.c();
  if (complete) return p.now;
  const value observed = field(p.old_status, "observed").is_object() ? p.old_status.at("observed") : value::object();
  const double nodes_done = number(observed, "nodes") + p.completed_nodes;
  const double node_secs = number(observed, "nodeSeconds") + p.completed_node_seconds;
  const double batches_done = number(observed, "batches") + p.completed_batches;
  const double batch_secs = number(observed, "batchSeconds") + p.completed_batch_seconds;
  if (batches_done <= 0 && nodes_done <= 0) return std::nullopt;
  const double per_batch = batches_done > 0 ? batch_secs / batches_done : node_secs / nodes_done;
  const double per_node = nodes_done > 0 ? node_secs / nodes_done : per_batch;
  const auto left = from_seconds(planner::campaign_seconds_left(
      p.work_left, {.batch_s = per_batch, .node_s = per_node, .batch_soak_s = seconds(c.batch_soak),
                    .canary_soak_s = seconds(c.canary_soak), .canary_pending = !p.canary_completed,
                    .zones_in_parallel = c.zones_in_parallel}));
  // With a schedule, the work is laid into its open time only (issue 26): a fleet that takes
  // 10 hours of work in 6-hour nightly slots ends on the second night.
  if (c.schedule) return c.schedule->finish_after(p.now, left);
  return p.now + left;
}

value PatchCampaignController::quarantined_nodes(const Pass& p) {
  // From the nodes' marks (the record: a person clears one to give the node back).
  value out = value::array();
  for (const auto& n : p.all_nodes) {
    if (!p.quarantined.count(n->meta.name) || out.size() >= 100) continue;
    value q = value::object();
    q["name"] = value::string(n->meta.name);
    if (!n->zone.empty()) q["zone"] = value::string(n->zone.str());
    if (const auto* at = n->annotation(kQuarantinedAt)) q["since"] = value::string(*at);
    if (const auto* why = n->annotation(kQuarantineReason)) q["reason"] = value::string(*why);
    out[out.size()] = q;
  }
  // Quarantined in this pass: the cache does not show the mark yet.
  for (const auto& name : p.newly_quarantined) {
    bool listed = false;
    for (const auto& q : out.as_array()) listed = listed || text(q, "name") == name;
    if (listed || out.size() >= 100) continue;
    value q = value::object();
    q["name"] = value::string(name);
    q["since"] = value::string(kube::format_rfc3339(p.now));
    out[out.size()] = q;
  }
  return out;
}

value PatchCampaignController::schedule_status(const Pass& p) {
  value s = value::object();
  s["state"] = value::string(p.gate.open ? "Open" : p.gate.reason);
  if (!p.gate.open) s["message"] = value::string(p.gate.message);
  if (p.gate.opens_at) s["opensAt"] = value::string(kube::format_rfc3339(*p.gate.opens_at));
  if (p.gate.closes_at) s["closesAt"] = value::string(kube::format_rfc3339(*p.gate.closes_at));
  return s;
}

void PatchCampaignController::report_schedule_change(const Pass& p, const std::string& phase) {
  // Once per change of the schedule's state, in the log and as an Event.
  if (!p.c().schedule || phase != "Progressing") return;
  const std::string was = text(field(p.old_status, "schedule"), "state");
  const std::string now = p.gate.open ? "Open" : p.gate.reason;
  if (was == now || (was.empty() && p.gate.open)) return;  // opening matters only after a close
  if (!p.gate.open) {
    events_.record(p.ref, "Normal", p.gate.reason, p.gate.message + (p.in_progress > 0 ? " (the running batch finishes)" : ""));
    logging::info("patchcampaign", "schedule closed: no new batch", {{"campaign", p.name}, {"reason", p.gate.reason},
                                                                      {"message", p.gate.message}, {"inProgress", std::to_string(p.in_progress)}});
  } else {
    const std::string until = p.gate.closes_at ? " until " + kube::format_rfc3339(*p.gate.closes_at) : "";
    events_.record(p.ref, "Normal", "ScheduleOpen", "the schedule is open" + until + ": batches start again");
    logging::info("patchcampaign", "schedule open", {{"campaign", p.name}, {"until", until.empty() ? "-" : until.substr(7)}});
  }
}

std::string PatchCampaignController::held_zones(const Pass& p) {
  // The zones held by windows that this campaign still has work in, for the condition and summary.
  std::string held;
  for (const auto& z : p.zones_out.as_array())
    if (text(z, "state") == "HeldByWindow")
      held += (held.empty() ? "" : ", ") + text(z, "zone") + " held by " + text(z, "heldBy") + " until " + text(z, "heldUntil");
  return held;
}

std::string PatchCampaignController::summary_of(const Pass& p, const std::string& phase, const std::string& held) {
  // One line for `kubectl get pcamp` (issue 23.10).
  const std::string counts = std::to_string(p.updated) + "/" + std::to_string(p.total) + " nodes report " + p.c().version;
  const size_t failed = p.failed.size();
  if (phase != "Progressing") return phase + ": " + counts + (failed > 0 ? ", " + std::to_string(failed) + " failed" : "");
  std::string out = (p.current_zone.empty() ? std::string("waiting") : "rolling " + p.current_zone) + ": " + counts;
  if (!p.may_start()) out += "; " + p.wait_message();
  else if (!held.empty()) out += "; " + held;
  else if (!p.blockers.empty()) out += "; waiting on " + p.blockers.front().kind + " " + p.blockers.front().name;
  return out.size() > 200 ? out.substr(0, 197) + "..." : out;
}

bool PatchCampaignController::held_only(const Pass& p) {
  // Every zone with work left is held by a window.
  for (const auto& z : p.zones_out.as_array())
    if (text(z, "state") != "HeldByWindow" && text(z, "state") != "Completed") return false;
  return true;
}

// Long because the status is one literal, built in one place (its fields read together).
ReconcileResult PatchCampaignController::write_progress(Pass& p, const ResourceWriter& writer) {
  const CampaignSpec& c = p.c();
  const auto now = p.now;
  // Quarantined nodes are out of the campaign: it completes with every other node patched
  // (the Degraded condition and status.quarantinedNodes keep them in view).
  const bool complete = p.updated + p.quarantined_in_zones >= p.total && p.in_progress == 0;
  const auto started = kube::parse_rfc3339(text(p.old_status, "startedAt")).value_or(now);
  const auto deadline = started + c.deadline;
  const std::optional<kube::TimePoint> eta = estimate_completion(p, complete);
  const bool behind = eta && *eta > deadline && !complete;

  const std::string phase = p.aborted ? "Failed" : complete ? "Completed" : p.paused ? "Paused" : "Progressing";
  if (phase == "Completed" && text(p.old_status, "phase") != "Completed")
    events_.record(p.ref, "Normal", "CampaignCompleted",
                   std::to_string(p.updated) + "/" + std::to_string(p.total) + " nodes report " + c.version);
  if (behind && !condition_is_true(p.old_status, "BehindDeadline"))
    events_.record(p.ref, "Warning", "BehindDeadline",
                   "projected to finish at " + kube::format_rfc3339(*eta) + ", after the deadline " + kube::format_rfc3339(deadline));
  // Another disruptor taking or letting go of one of our nodes: once per change, in the log
  // and as an Event (the condition below keeps the current list).
  if (!p.others_in_zones.empty() && !condition_is_true(p.old_status, "HeldByOthers")) {
    events_.record(p.ref, "Normal", "HeldByOthers", describe(p.others_in_zones));
    logging::info("patchcampaign", "nodes held by other disruptors count against the budget",
                  {{"campaign", p.name}, {"held", describe(p.others_in_zones)}});
  } else if (p.others_in_zones.empty() && condition_is_true(p.old_status, "HeldByOthers")) {
    logging::info("patchcampaign", "other disruptors let go of the campaign's nodes", {{"campaign", p.name}});
  }
  report_schedule_change(p, phase);
  for (size_t i = 0; i < p.blockers.size() && i < 3; ++i) {
    const auto& b = p.blockers[i];
    events_.record(p.ref, "Warning", "EvictionBlocked", b.kind + " " + (b.ns.empty() ? "" : b.ns + "/") + b.name + ": " + b.message);
  }

  const int failed_count = static_cast<int>(p.failed.size());
  const int quarantined_count = static_cast<int>(p.quarantined.size());
  const std::string held = held_zones(p);
  const std::string summary = summary_of(p, phase, held);
  if (phase != text(p.old_status, "phase") || p.completed_nodes > 0 || p.new_failures.size() > 0)
    logging::info("patchcampaign", "progress",
                  {{"campaign", p.name}, {"phase", phase}, {"updated", std::to_string(p.updated) + "/" + std::to_string(p.total)},
                   {"inProgress", std::to_string(p.in_progress)}, {"failed", std::to_string(failed_count)},
                   {"eta", eta ? kube::format_rfc3339(*eta) : "-"}, {"deadline", kube::format_rfc3339(deadline)},
                   {"waitingOn", p.blockers.empty() ? "-" : p.blockers.front().kind + " " + p.blockers.front().name + ": " + p.blockers.front().message}});
  auto st = writer.write_status([&](const value& cur) {
    value s = value::object();
    s["phase"] = value::string(phase);
    s["observedGeneration"] = value::number(p.generation);
    s["startedAt"] = value::string(kube::format_rfc3339(started));
    s["deadline"] = value::string(kube::format_rfc3339(deadline));
    if (eta) s["estimatedCompletion"] = value::string(kube::format_rfc3339(*eta));
    if (complete) s["completedAt"] = field(cur, "completedAt").is_string() ? cur.at("completedAt") : value::string(kube::format_rfc3339(now));
    s["nodes"]["total"] = value::number(p.total);
    s["nodes"]["updated"] = value::number(p.updated);
    s["nodes"]["inProgress"] = value::number(p.in_progress);
    s["nodes"]["failed"] = value::number(failed_count);
    s["zones"] = p.zones_out;
    if (!p.current_zone.empty()) s["currentZone"] = value::string(p.current_zone);
    s["currentBatch"] = p.current_batch;
    s["canaryCompleted"] = value::boolean(p.canary_completed);
    // Counters add this pass's deltas to the fresh values, so a lagging cache loses none.
    const value& co = field(cur, "observed");
    s["observed"]["nodes"] = value::number(number(co, "nodes") + p.completed_nodes);
    s["observed"]["nodeSeconds"] = value::number(number(co, "nodeSeconds") + p.completed_node_seconds);
    s["observed"]["batches"] = value::number(number(co, "batches") + p.completed_batches);
    s["observed"]["batchSeconds"] = value::number(number(co, "batchSeconds") + p.completed_batch_seconds);
    if (p.failed_list.size() > 0) s["failedNodes"] = p.failed_list;
    if (p.failure_pause_out.is_object()) s["failurePause"] = p.failure_pause_out;
    if (p.quarantine_pause_out.is_object()) s["quarantinePause"] = p.quarantine_pause_out;
    s["nodes"]["quarantined"] = value::number(quarantined_count);
    if (!p.quarantined.empty()) s["quarantinedNodes"] = quarantined_nodes(p);
    if (c.schedule) s["schedule"] = schedule_status(p);
    if (c.health && p.health.status.is_object()) s["health"] = p.health.status;
    if (p.health_pause_out.is_object()) s["healthPause"] = p.health_pause_out;
    if (!p.blockers.empty()) s["blockers"] = blockers_json(p.blockers);
    const std::string progress = std::to_string(p.updated) + "/" + std::to_string(p.total) + " nodes report " + c.version;
    // Held: nothing in flight and every zone left waits on a window. Progressing says so, and
    // names the window (issue 23.10: it read True, RollingZones, for two hours).
    const bool all_held = phase == "Progressing" && p.in_progress == 0 && !p.holds.empty() && held_only(p);
    // Outside the schedule with nothing in flight: not progressing, and it says until when.
    // Failing health checks the same way: the running batch finishes, no new one starts.
    const bool closed = phase == "Progressing" && !p.may_start();
    const bool waits_on_schedule = closed && p.in_progress == 0;
    s["conditions"][0] = condition("Progressing", phase == "Progressing" && !all_held && !waits_on_schedule,
                                   waits_on_schedule ? p.wait_reason() : all_held ? "HeldByWindow" : phase == "Progressing" ? "RollingZones" : phase,
                                   progress + (closed ? std::string(p.in_progress > 0 ? "; finishing the running batch, then " : "; ") + p.wait_message()
                                               : held.empty() ? "" : "; " + held),
                                   p.generation, cur, now);
    s["summary"] = value::string(summary);
    s["conditions"][1] = condition("Paused", p.paused && !p.aborted,
                                   p.aborted                                          ? "Aborted"
                                   : p.failure_pause_out.is_object() && p.over_budget ? "FailureBudgetExceeded"
                                   : p.quarantine_pause_out.is_object()              ? "QuarantineBudgetExceeded"
                                   : p.health_pause_out.is_object()                  ? "HealthCheckFailed"
                                   : c.paused                                        ? "PausedBySpec"
                                                                                     : "NotPaused",
                                   !p.paused                          ? ""
                                   : p.aborted && !p.abort_why.empty() ? p.abort_why
                                   : p.health_pause_out.is_object() ? text(p.health_pause_out, "message")
                                                                    : std::to_string(failed_count) + " failed node(s), " + std::to_string(quarantined_count) +
                                                                          " quarantined (maxQuarantinedNodes " + std::to_string(c.max_quarantined_nodes) + ")",
                                   p.generation, cur, now);
    s["conditions"][2] = condition("Degraded", failed_count > 0 || quarantined_count > 0,
                                   failed_count > 0 ? "NodesFailed" : quarantined_count > 0 ? "NodesQuarantined" : "AllHealthy",
                                   std::to_string(failed_count) + " node(s) failed, " + std::to_string(quarantined_count) + " quarantined",
                                   p.generation, cur, now);
    s["conditions"][3] = condition("Complete", complete, complete ? "AllNodesPatched" : "InProgress", progress, p.generation, cur, now);
    s["conditions"][4] = condition("BehindDeadline", behind, behind ? "ProjectedPastDeadline" : "OnSchedule",
                                   eta ? "estimated completion " + kube::format_rfc3339(*eta) + ", deadline " + kube::format_rfc3339(deadline)
                                       : "no estimate yet",
                                   p.generation, cur, now);
    // Who else holds the campaign's nodes: they count against maxUnavailable and are waited for.
    const bool others = !p.others_in_zones.empty();
    s["conditions"][5] = condition("HeldByOthers", others, others ? "OtherDisruptors" : "NoneHeld",
                                   others ? std::to_string(p.others_in_zones.size()) + " node(s) held by other disruptors: " +
                                                describe(p.others_in_zones)
                                          : "no node of the campaign is held by another disruptor",
                                   p.generation, cur, now);
    if (c.health)
      s["conditions"][6] = condition("HealthChecksPassing", p.health.passing, p.health.passing ? "ChecksPassing" : p.health.reason,
                                     p.health.passing ? (p.health.status.is_object() ? "every health check passed at " + text(p.health.status, "checkedAt")
                                                                                      : "not evaluated yet")
                                                      : p.health.message,
                                     p.generation, cur, now);
    return s;
  }, &p.obj);  // obj is the newest version: no GET before the write
  if (!st.ok()) return st.error();
  if (complete || p.aborted) {
    // Over: kured may reboot again, and patched nodes need no protection from scale-down.
    if (auto ended = end_holds(p); !ended.ok()) return ended.error();
    return done();
  }
  if (p.in_progress > 0) p.wake_at(now + std::chrono::seconds(5));
  if (!p.wake) return requeue_after(std::chrono::seconds(30));
  return requeue_after(std::max<kube::Duration>(*p.wake - now, std::chrono::seconds(1)));
}

}  // namespace nonevent::controllers
