// Whether a PatchCampaign may start new work in this pass (issue 26): its schedule
// (spec.schedule: allowed slots and blackouts) and its health checks (spec.healthChecks). A
// closed gate stops new batches and lets the running one finish; health checks failing
// failureThreshold times in a row also pause the campaign (through spec.paused, so resuming is
// the ordinary resume) or abort it.
#include "controllers/campaign_pass.h"
#include "controllers/drain.h"
#include "kube/log.h"

namespace nonevent::controllers {

using web::json::value;

kube::Status PatchCampaignController::open_gates(Pass& p) {
  const CampaignSpec& c = p.c();
  // spec.schedule: closed, no batch starts and no rolling batch takes another node; the
  // nodes in flight finish. The pass wakes when it opens.
  if (c.schedule) p.gate = c.schedule->gate(p.now);
  if (!p.gate.open && p.gate.opens_at) p.wake_at(*p.gate.opens_at);
  if (!c.health) return kube::Unit{};

  // A pause the checks made ends when the user resumes (a newer generation, not paused): the
  // failure streak is forgotten and the checks run at once.
  const value& pause = field(p.old_status, "healthPause");
  const bool resumed = pause.is_object() && !c.paused && p.generation > integer(pause, "generation");
  p.health_pause_out = resumed ? value::null() : pause;
  if (resumed) events_.record(p.ref, "Normal", "CampaignResumed", "resumed after failing health checks: they run again before the next batch");
  const value& old_health = field(p.old_status, "health");
  // Checks run while the campaign could start work or has work in flight: not while paused, over,
  // or waiting on its schedule with nothing out (a closed night would count as failures).
  const bool in_flight = !p.claimed.empty() || !p.unseen->empty();
  const bool over = text(p.old_status, "phase") == "Completed" && integer(p.old_status, "observedGeneration") == p.generation;
  if (p.aborted || (p.paused && !resumed) || over || (!p.gate.open && !in_flight)) {
    p.health = recorded_health(old_health);
    return kube::Unit{};
  }
  p.health = run_health_gate(*c.health, old_health, p.now, resumed, [&] {
    std::vector<std::shared_ptr<const model::Pod>> pods;
    for (const auto& check : c.health->checks)
      if (check.kubernetes && check.kubernetes->pending_pods_older_than && pods.empty()) pods = pods_.list();
    // Nodes out of service on purpose (cordoned: ours, another disruptor's, a person's) are
    // expected to go NotReady; a NotReady node nobody cordoned is the trouble to catch.
    const ClusterView view{&p.all_nodes, &pods, [](const model::Node& n) { return n.unschedulable || claim_of(n) != nullptr; }};
    return evaluate_health(*c.health, opts_.prometheus.get(), view, p.now);
  });
  p.wake_at(p.health.next_check);
  if (p.health.ran) report_health_change(p, old_health);
  if (!p.health.threshold_reached || p.health_pause_out.is_object()) return kube::Unit{};

  const std::string why = p.health.message + ": " + std::to_string(p.health.consecutive_failures) +
                          " failing evaluation(s) in a row (healthChecks.failureThreshold " + std::to_string(c.health->failure_threshold) + ")";
  if (c.health->on_failure == "Abort") {
    p.abort_why = why + ": aborted (healthChecks.onFailure Abort)";
    p.paused = true;
    return abort_campaign(p, false);
  }
  auto paused = pause_by_spec(p);
  if (!paused.ok()) return paused.error();
  p.health_pause_out = paused.value();
  p.health_pause_out["message"] = value::string(why + "; paused: set spec.paused to false once healthy (kubectl nonevent resume)");
  if (const auto* f = p.health.status.has_field("checks") ? &p.health.status.at("checks") : nullptr)
    for (const auto& ch : f->as_array())
      if (ch.has_field("passing") && !ch.at("passing").as_bool()) {
        p.health_pause_out["check"] = ch;
        break;
      }
  p.paused = true;
  events_.record(p.ref, "Warning", "CampaignPaused", text(p.health_pause_out, "message"));
  logging::warn("patchcampaign", "paused: health checks failing", {{"campaign", p.name}, {"why", why}});
  return kube::Unit{};
}

void PatchCampaignController::report_health_change(const Pass& p, const value& old_health) {
  // Every failing evaluation in the log (an SRE follows the streak to the pause); an Event when
  // the verdict turns, either way.
  const bool was_passing = !old_health.is_object() || !old_health.has_field("passing") || old_health.at("passing").as_bool();
  if (!p.health.passing) {
    logging::warn("patchcampaign", "health check failing: no new batch", {{"campaign", p.name}, {"reason", p.health.reason},
                                                                          {"message", p.health.message},
                                                                          {"consecutiveFailures", std::to_string(p.health.consecutive_failures)}});
    if (was_passing) events_.record(p.ref, "Warning", "HealthCheckFailing", p.health.message + (p.claimed.empty() ? "" : " (the running batch finishes)"));
  } else if (!was_passing) {
    events_.record(p.ref, "Normal", "HealthChecksPassing", "every health check passes again: batches may start");
    logging::info("patchcampaign", "health checks passing again", {{"campaign", p.name}});
  } else {
    logging::debug("patchcampaign", "health checks passed", {{"campaign", p.name}});
  }
}

}  // namespace nonevent::controllers
