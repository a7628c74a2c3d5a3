#include "observe/operator_metrics.h"

namespace nonevent::observe {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

OperatorMetrics::OperatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      evictions_(BuildCounter().Name("nonevent_evictions_total").Help("Evictions asked for, by result: success, pdb_blocked (429 or held back by the PDB's status), error.").Register(*registry_)),
      drain_duration_(BuildHistogram().Name("nonevent_node_drain_duration_seconds").Help("From claiming a node to finding it empty.").Register(*registry_)),
      reconcile_duration_(BuildHistogram().Name("nonevent_reconcile_duration_seconds").Help("Time one reconcile took.").Register(*registry_)),
      reconcile_errors_(BuildCounter().Name("nonevent_reconcile_errors_total").Help("Reconciles that failed and were retried with backoff.").Register(*registry_)),
      queue_depth_(BuildGauge().Name("nonevent_workqueue_depth").Help("Keys waiting in the work queue.").Register(*registry_)),
      queue_adds_(BuildCounter().Name("nonevent_workqueue_adds_total").Help("Keys added to the work queue.").Register(*registry_)),
      queue_retries_(BuildCounter().Name("nonevent_workqueue_retries_total").Help("Rate-limited re-adds after failures.").Register(*registry_)),
      api_requests_(BuildCounter().Name("nonevent_api_requests_total").Help("Kubernetes API requests by verb and HTTP code (0: no answer).").Register(*registry_)),
      leader_(BuildGauge().Name("nonevent_leader").Help("1 while this replica holds the leader Lease and runs the controllers.").Register(*registry_).Add({})) {
  // Known label values exist from the start, so rate() and absent() behave from scrape one.
  for (const char* c : {"maintenancewindow", "patchcampaign"}) {
    for (const char* r : {"success", "pdb_blocked", "error"}) evictions_.Add({{"controller", c}, {"result", r}});
    reconcile_errors_.Add({{"controller", c}});
  }
}

controllers::ManagerHooks OperatorMetrics::manager_hooks() {
  controllers::ManagerHooks h;
  static const prometheus::Histogram::BucketBoundaries reconcile_buckets{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
  static const prometheus::Histogram::BucketBoundaries drain_buckets{10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
  h.on_reconcile = [this](const std::string& controller, double seconds, bool ok) {
    reconcile_duration_.Add({{"controller", controller}}, reconcile_buckets).Observe(seconds);
    if (!ok) reconcile_errors_.Add({{"controller", controller}}).Increment();
  };
  h.queue_hooks = [this](const std::string& queue) {
    auto* depth = &queue_depth_.Add({{"queue", queue}});
    auto* adds = &queue_adds_.Add({{"queue", queue}});
    auto* retries = &queue_retries_.Add({{"queue", queue}});
    return kube::WorkQueueHooks{[depth](size_t d) { depth->Set(static_cast<double>(d)); }, [adds] { adds->Increment(); },
                                [retries] { retries->Increment(); }};
  };
  h.on_leading = [this](bool leading) { leader_.Set(leading ? 1 : 0); };
  h.drain_observer = [this](const std::string& controller) {
    auto* success = &evictions_.Add({{"controller", controller}, {"result", "success"}});
    auto* blocked = &evictions_.Add({{"controller", controller}, {"result", "pdb_blocked"}});
    auto* error = &evictions_.Add({{"controller", controller}, {"result", "error"}});
    auto* drained = &drain_duration_.Add({{"controller", controller}}, drain_buckets);
    return controllers::DrainObserver{
        [success, blocked, error](const char* result) {
          (std::string_view(result) == "success" ? success : std::string_view(result) == "pdb_blocked" ? blocked : error)->Increment();
        },
        [drained](double seconds) { drained->Observe(seconds); }};
  };
  return h;
}

kube::RestClient::RequestObserver OperatorMetrics::request_observer() {
  return [this](const char* verb, int code) { api_requests_.Add({{"verb", verb}, {"code", std::to_string(code)}}).Increment(); };
}

}  // namespace nonevent::observe
