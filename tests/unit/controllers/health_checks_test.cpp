// spec.healthChecks (issue 26): what each kind of check reads and when it fails, that nothing
// unanswerable ever passes (fail closed), the failure streak over time, and bad input named by
// its field.
#include "controllers/health_checks.h"

#include <gtest/gtest.h>

namespace nonevent::controllers {
namespace {

using namespace std::chrono_literals;
using web::json::value;

const kube::TimePoint kNow = *kube::parse_rfc3339("2026-12-01T10:00:00Z");

// Prometheus as a test scripts it: the answer to each query, the alerts, or an error.
class FakePrometheus final : public MetricsSource {
 public:
  std::map<std::string, std::vector<PromSample>> answers;
  std::vector<PromAlert> firing;
  std::optional<std::string> down;  // set: every request fails with this
  int asked = 0;
  std::string describe() const override { return "Prometheus at http://fake"; }
  kube::Result<std::vector<PromSample>> query(const std::string& q) override {
    ++asked;
    if (down) return kube::ApiError::transport(*down);
    auto a = answers.find(q);
    return a == answers.end() ? std::vector<PromSample>{} : a->second;
  }
  kube::Result<std::vector<PromAlert>> alerts() override {
    ++asked;
    if (down) return kube::ApiError::transport(*down);
    return firing;
  }
};

HealthChecks parse(const std::string& json) {
  std::vector<std::string> problems;
  auto h = parse_health_checks(value::parse(json), "spec.healthChecks", problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return *h;
}

std::string problems_of(const std::string& json) {
  std::vector<std::string> problems;
  EXPECT_FALSE(parse_health_checks(value::parse(json), "spec.healthChecks", problems));
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  return all;
}

HealthReport run(const HealthChecks& h, MetricsSource* prom, const ClusterView& view = {}) { return evaluate_health(h, prom, view, kNow); }

TEST(HealthChecks, ParsesTheIssuesExample) {
  const auto h = parse(R"({"interval":"30s","failureThreshold":2,"onFailure":"Abort","checks":[
      {"name":"error-rate","prometheus":{"query":"error_ratio","max":0.01}},
      {"name":"no-critical-alerts","prometheus":{"firingAlerts":{"severity":"critical"}}},
      {"name":"cluster","kubernetes":{"nodesReady":true,"pendingPodsOlderThan":"10m"}}]})");
  EXPECT_EQ(h.interval, 30s);
  EXPECT_EQ(h.failure_threshold, 2);
  EXPECT_EQ(h.on_failure, "Abort");
  ASSERT_EQ(h.checks.size(), 3u);
  EXPECT_EQ(*h.checks[0].prometheus->max, 0.01);
  EXPECT_EQ(h.checks[1].prometheus->firing_alerts->at("severity"), "critical");
  EXPECT_EQ(*h.checks[2].kubernetes->pending_pods_older_than, 10min);
  EXPECT_TRUE(h.uses_prometheus());
  // Defaults: every minute, three in a row, pause.
  const auto d = parse(R"({"checks":[{"name":"n","kubernetes":{"nodesReady":true}}]})");
  EXPECT_EQ(d.interval, 1min);
  EXPECT_EQ(d.failure_threshold, 3);
  EXPECT_EQ(d.on_failure, "Pause");
  EXPECT_FALSE(d.uses_prometheus());
}

TEST(HealthChecks, BadInputIsNamedByItsField) {
  const auto all = problems_of(R"({"interval":"0s","failureThreshold":0,"onFailure":"Ignore","checks":[
      {"name":"a","prometheus":{"query":"up"}},
      {"name":"a","prometheus":{"query":"up","expectEmpty":true,"max":1}},
      {"name":"c","prometheus":{"query":"up","min":2,"max":1}},
      {"prometheus":{"firingAlerts":{"severity":3}}},
      {"name":"e","kubernetes":{"pendingPodsOlderThan":"soon"}},
      {"name":"f","kubernetes":{}},
      {"name":"g","kubernetes":{"nodesReady":true},"prometheus":{"firingAlerts":{}}},
      {"name":"h","prometheus":{"max":1}}]})");
  for (const char* want : {"spec.healthChecks.interval: \"0s\" must be a duration of at least 1s",
                           "spec.healthChecks.failureThreshold: must be a whole number of at least 1",
                           "spec.healthChecks.onFailure: \"Ignore\" must be Pause or Abort",
                           "spec.healthChecks.checks[0].prometheus: say what healthy is",
                           "spec.healthChecks.checks[1].name: \"a\" is used twice",
                           "spec.healthChecks.checks[1].prometheus.expectEmpty: an empty result has no value",
                           "spec.healthChecks.checks[2].prometheus.min: larger than max",
                           "spec.healthChecks.checks[3].name: required",
                           "spec.healthChecks.checks[3].prometheus.firingAlerts.severity: must be a string",
                           "spec.healthChecks.checks[4].kubernetes.pendingPodsOlderThan: \"soon\" must be a positive duration",
                           "spec.healthChecks.checks[5].kubernetes: checks nothing",
                           "spec.healthChecks.checks[6]: give exactly one of prometheus or kubernetes",
                           "spec.healthChecks.checks[7].prometheus.query: required"})
    EXPECT_NE(all.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << all;
  EXPECT_NE(problems_of(R"({"checks":[]})").find("spec.healthChecks.checks: at least one check"), std::string::npos);
  EXPECT_NE(problems_of(R"("yes")").find("spec.healthChecks: must be an object"), std::string::npos);
}

TEST(HealthChecks, AQueryPassesOnlyWithEverySeriesWithinItsBounds) {
  FakePrometheus prom;
  const auto h = parse(R"({"checks":[{"name":"error-rate","prometheus":{"query":"errors","max":0.01}}]})");
  prom.answers["errors"] = {{{}, 0.004}};
  auto r = run(h, &prom);
  EXPECT_TRUE(r.passing) << r.checks[0].message;
  EXPECT_EQ(r.checks[0].observed, "0.004");
  // Two series, one over: the worst is shown with its labels.
  prom.answers["errors"] = {{{{"service", "cart"}}, 0.002}, {{{"service", "shop"}}, 0.034}};
  r = run(h, &prom);
  EXPECT_FALSE(r.passing);
  EXPECT_FALSE(r.checks[0].unavailable);
  EXPECT_EQ(r.checks[0].query, "errors");
  EXPECT_EQ(r.checks[0].observed, "0.034 {service=\"shop\"}");
  EXPECT_NE(r.checks[0].message.find("outside max 0.01"), std::string::npos) << r.checks[0].message;
  // A floor (min) fails below it; NaN never passes.
  const auto floor = parse(R"({"checks":[{"name":"ready","prometheus":{"query":"ready","min":0.9}}]})");
  prom.answers["ready"] = {{{}, 0.95}};
  EXPECT_TRUE(run(floor, &prom).passing);
  prom.answers["ready"] = {{{}, 0.5}};
  EXPECT_FALSE(run(floor, &prom).passing);
  prom.answers["ready"] = {{{}, std::nan("")}};
  EXPECT_FALSE(run(floor, &prom).passing);
}

TEST(HealthChecks, NoDataAndNoAnswerNeverPass) {
  FakePrometheus prom;
  const auto h = parse(R"({"checks":[{"name":"error-rate","prometheus":{"query":"errors","max":0.01}}]})");
  auto r = run(h, &prom);  // no series at all
  EXPECT_FALSE(r.passing);
  EXPECT_EQ(r.checks[0].observed, "no data");
  EXPECT_NE(r.checks[0].message.find("or vector(0)"), std::string::npos);
  prom.down = "connect to 127.0.0.1:9 refused";
  r = run(h, &prom);
  EXPECT_FALSE(r.passing);
  EXPECT_TRUE(r.checks[0].unavailable);
  EXPECT_NE(r.checks[0].message.find("Prometheus at http://fake did not answer the query: connect to 127.0.0.1:9 refused"), std::string::npos)
      << r.checks[0].message;
  // No --prometheus-url at all: the check says so and fails.
  r = run(h, nullptr);
  EXPECT_FALSE(r.passing);
  EXPECT_TRUE(r.checks[0].unavailable);
  EXPECT_NE(r.checks[0].message.find("--prometheus-url"), std::string::npos);
  // An alert-style query: empty is the healthy answer.
  const auto empty = parse(R"({"checks":[{"name":"quiet","prometheus":{"query":"ALERTS","expectEmpty":true}}]})");
  prom.down.reset();
  EXPECT_TRUE(run(empty, &prom).passing);
  prom.answers["ALERTS"] = {{{{"alertname", "Down"}}, 1}};
  r = run(empty, &prom);
  EXPECT_FALSE(r.passing);
  EXPECT_NE(r.checks[0].observed.find("1 series, first {alertname=\"Down\"} 1"), std::string::npos) << r.checks[0].observed;
  prom.down = "timeout";
  EXPECT_FALSE(run(empty, &prom).passing);  // unanswered is not empty
}

TEST(HealthChecks, FiringAlertsMatchEveryGivenLabelAndIgnorePendingOnes) {
  FakePrometheus prom;
  const auto h = parse(R"({"checks":[{"name":"no-critical","prometheus":{"firingAlerts":{"severity":"critical"}}}]})");
  prom.firing = {{{{"alertname", "DiskFilling"}, {"severity", "warning"}}, "firing"},
                 {{{"alertname", "APIDown"}, {"severity", "critical"}}, "pending"}};
  auto r = run(h, &prom);
  EXPECT_TRUE(r.passing) << r.checks[0].message;
  EXPECT_EQ(r.checks[0].query, "ALERTS{severity=\"critical\"}");
  prom.firing[1].state = "firing";
  r = run(h, &prom);
  EXPECT_FALSE(r.passing);
  EXPECT_EQ(r.checks[0].observed, "1 firing (APIDown)");
  // {} matches any firing alert.
  const auto any = parse(R"({"checks":[{"name":"none","prometheus":{"firingAlerts":{}}}]})");
  EXPECT_EQ(run(any, &prom).checks[0].observed, "2 firing (DiskFilling, APIDown)");
}

TEST(HealthChecks, KubernetesChecksCountOnlyWhatNobodyHolds) {
  auto node = [](const char* name, bool ready, bool cordoned) {
    auto n = std::make_shared<model::Node>();
    n->meta.name = name;
    n->ready = ready;
    n->unschedulable = cordoned;
    return std::shared_ptr<const model::Node>(n);
  };
  auto pod = [](const char* name, model::PodPhase phase, kube::Duration age) {
    auto p = std::make_shared<model::Pod>();
    p->meta.name = name;
    p->meta.namespace_ = model::IStr("shop");
    p->meta.created = kNow - age;
    p->phase = phase;
    return std::shared_ptr<const model::Pod>(p);
  };
  std::vector<std::shared_ptr<const model::Node>> nodes{node("a", true, false), node("b", false, true)};
  std::vector<std::shared_ptr<const model::Pod>> pods{pod("web-1", model::PodPhase::kPending, 5min),
                                                      pod("web-2", model::PodPhase::kRunning, 2h)};
  const ClusterView view{&nodes, &pods, nullptr};
  const auto h = parse(R"({"checks":[{"name":"cluster","kubernetes":{"nodesReady":true,"pendingPodsOlderThan":"10m"}}]})");
  auto r = run(h, nullptr, view);  // b is NotReady but cordoned (being patched): expected
  EXPECT_TRUE(r.passing) << r.checks[0].message;
  nodes.push_back(node("c", false, false));
  pods.push_back(pod("cart-1", model::PodPhase::kPending, 11min));
  r = run(h, nullptr, view);
  EXPECT_FALSE(r.passing);
  EXPECT_FALSE(r.checks[0].unavailable);
  EXPECT_NE(r.checks[0].message.find("1 node(s) NotReady that nothing holds (c)"), std::string::npos) << r.checks[0].message;
  EXPECT_NE(r.checks[0].message.find("1 pod(s) Pending for longer than 600s (shop/cart-1)"), std::string::npos) << r.checks[0].message;
}

TEST(HealthChecks, TheGateCountsAStreakAndRunsOncePerInterval) {
  FakePrometheus prom;
  const auto h = parse(R"({"interval":"1m","failureThreshold":3,"checks":[{"name":"errors","prometheus":{"query":"errors","max":0.01}}]})");
  prom.answers["errors"] = {{{}, 0.5}};
  auto eval = [&] { return evaluate_health(h, &prom, {}, kNow); };
  value status = value::null();
  kube::TimePoint t = kNow;
  HealthGate g;
  for (int i = 1; i <= 3; ++i) {
    g = run_health_gate(h, status, t, false, eval);
    EXPECT_TRUE(g.ran);
    EXPECT_FALSE(g.passing);
    EXPECT_EQ(g.consecutive_failures, i);
    EXPECT_EQ(g.threshold_reached, i == 3);
    EXPECT_EQ(g.reason, "HealthCheckFailing");
    EXPECT_NE(g.message.find("health check errors failing (errors): outside max 0.01: 0.5 [" + std::to_string(i) + " of failureThreshold 3]"),
              std::string::npos)
        << g.message;
    status = g.status;
    // Before the interval is up nothing is asked again and the verdict stands.
    const int asked = prom.asked;
    const auto between = run_health_gate(h, status, t + 30s, false, eval);
    EXPECT_FALSE(between.ran);
    EXPECT_EQ(prom.asked, asked);
    EXPECT_EQ(between.consecutive_failures, i);
    EXPECT_EQ(between.next_check, t + 1min);
    t += 1min;
  }
  EXPECT_EQ(g.status.at("checks").at(0).at("observed").as_string(), "0.5");
  // A reset (the user resumed) starts the streak again; a pass ends it.
  g = run_health_gate(h, status, t, true, eval);
  EXPECT_EQ(g.consecutive_failures, 1);
  prom.answers["errors"] = {{{}, 0.001}};
  g = run_health_gate(h, g.status, t + 1min, false, eval);
  EXPECT_TRUE(g.passing);
  EXPECT_EQ(g.consecutive_failures, 0);
  EXPECT_FALSE(g.status.has_field("message"));
  // Unanswerable counts toward the streak, with its own reason.
  prom.down = "no route to host";
  g = run_health_gate(h, g.status, t + 2min, false, eval);
  EXPECT_FALSE(g.passing);
  EXPECT_EQ(g.reason, "HealthCheckUnavailable");
  EXPECT_EQ(g.consecutive_failures, 1);
}

}  // namespace
}  // namespace nonevent::controllers
