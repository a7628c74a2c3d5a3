#pragma once
// Health gates (issue 26): before each batch and during soaks a PatchCampaign asks whether the
// services on the cluster are healthy, and a MaintenanceWindow asks before each rebalancing
// eviction. A check is a Prometheus query held to a bound, "no alert of these labels firing",
// or a look at the cluster itself (every node Ready, no pod Pending for long).
//
// Fail closed: a check that cannot be answered (Prometheus unreachable, a query error, no
// --prometheus-url, a query that returns no data) fails; it never passes. One failing check
// stops new work; `failureThreshold` consecutive failing evaluations act per `onFailure`.
//
// The gate's memory is the resource's status.health (when it last ran, the consecutive
// failures, each check's observed value), so a restarted operator neither forgets a failure
// streak nor re-runs every check at once.
#include <cpprest/json.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "kube/clock.h"
#include "model/objects.h"

namespace nonevent::controllers {

// --- what the resources ask for (spec.healthChecks)

struct PrometheusCheck {
  std::string query;  // PromQL, instant query
  std::optional<double> max, min;
  bool expect_empty = false;
  // firingAlerts: every alert firing whose labels include all of these fails the check.
  std::optional<std::map<std::string, std::string>> firing_alerts;
};

struct KubernetesCheck {
  bool nodes_ready = false;  // every node nonevent does not hold is Ready
  std::optional<kube::Duration> pending_pods_older_than;
};

struct HealthCheck {
  std::string name;
  std::optional<PrometheusCheck> prometheus;
  std::optional<KubernetesCheck> kubernetes;
};

struct HealthChecks {
  kube::Duration interval = std::chrono::minutes(1);
  int failure_threshold = 3;
  std::string on_failure = "Pause";  // Pause | Abort
  std::vector<HealthCheck> checks;
  bool uses_prometheus() const;
};

// spec.healthChecks; problems come back as "<prefix>.<field>: message".
std::optional<HealthChecks> parse_health_checks(const web::json::value& v, const std::string& prefix, std::vector<std::string>& problems);

// --- where Prometheus answers come from (observe/prometheus_api.h: its HTTP API; tests: a fake)

struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};
struct PromAlert {
  std::map<std::string, std::string> labels;
  std::string state;  // firing | pending
};

class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual std::string describe() const = 0;  // "Prometheus at https://…", for messages
  // An instant query: a vector's samples, or one sample for a scalar.
  virtual kube::Result<std::vector<PromSample>> query(const std::string& promql) = 0;
  virtual kube::Result<std::vector<PromAlert>> alerts() = 0;
};

// --- one evaluation

struct CheckResult {
  std::string name;
  bool passing = false;
  bool unavailable = false;  // the check could not be answered (counted as failing)
  std::string query;         // prometheus checks: what was asked
  std::string observed;      // the value (or values) seen, for the condition
  std::string message;       // why it failed (or what passed)
};

struct HealthReport {
  bool passing = true;
  std::vector<CheckResult> checks;
  const CheckResult* first_failing() const;
};

// What kubernetes checks read; `held` says whether a node is out of service on purpose (ours,
// another disruptor's): a node held is expected to be NotReady and is not counted.
struct ClusterView {
  const std::vector<std::shared_ptr<const model::Node>>* nodes = nullptr;
  const std::vector<std::shared_ptr<const model::Pod>>* pods = nullptr;
  std::function<bool(const model::Node&)> held;
};

// Runs every check now. `prometheus` may be null (no --prometheus-url): its checks fail.
HealthReport evaluate_health(const HealthChecks& spec, MetricsSource* prometheus, const ClusterView& cluster, kube::TimePoint now);

// --- the gate over time (status.health)

struct HealthGate {
  bool ran = false;             // evaluated in this pass
  bool passing = true;          // the newest evaluation passed (new work may start)
  int consecutive_failures = 0;
  bool threshold_reached = false;
  std::string reason;           // failing: HealthCheckFailing | HealthCheckUnavailable
  std::string message;          // failing: the first failing check, its query and observed value
  kube::TimePoint next_check{};
  web::json::value status;      // status.health to write
};

// The recorded verdict, not evaluated now (the resource is paused, or waits on its schedule).
HealthGate recorded_health(const web::json::value& old_health);

// Evaluates when due (no evaluation recorded, or `interval` since the last), else carries the
// recorded verdict forward. `reset` forgets a failure streak (the user resumed after a pause).
HealthGate run_health_gate(const HealthChecks& spec, const web::json::value& old_health, kube::TimePoint now, bool reset,
                           const std::function<HealthReport()>& evaluate);

}  // namespace nonevent::controllers
