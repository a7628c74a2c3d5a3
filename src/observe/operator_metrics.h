#pragma once
// The operator's own metrics (design 5), named by Prometheus conventions: nonevent_ prefix,
// base units, _total counters, and bounded labels (controller, queue, verb, code, result —
// never a pod name). Each hook plugs into the piece that knows the fact: the manager
// (reconciles, queues, leadership), the drain engine (evictions, drain durations) and the
// REST client (API requests).
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "controllers/manager.h"
#include "kube/rest_client.h"

namespace nonevent::observe {

class OperatorMetrics {
 public:
  OperatorMetrics();
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  controllers::ManagerHooks manager_hooks();
  kube::RestClient::RequestObserver request_observer();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& evictions_;
  prometheus::Family<prometheus::Histogram>& drain_duration_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Counter>& queue_adds_;
  prometheus::Family<prometheus::Counter>& queue_retries_;
  prometheus::Family<prometheus::Counter>& api_requests_;
  prometheus::Gauge& leader_;
};

}  // namespace nonevent::observe
