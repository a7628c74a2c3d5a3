#include "controllers/health_checks.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace nonevent::controllers {

using web::json::value;

namespace {

// An evaluation lists this many failing nodes or pods by name; the rest are counted.
constexpr size_t kNamesShown = 3;

std::string str(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : ""; }

std::string number_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out.precision(6);
  out << v;
  return out.str();
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels)
    if (k != "__name__") out += (out.empty() ? "" : ",") + k + "=\"" + v + "\"";
  return "{" + out + "}";
}

std::optional<double> bound(const value& p, const char* k, const std::string& at, std::vector<std::string>& problems) {
  if (!p.has_field(k)) return std::nullopt;
  const value& b = p.at(k);
  if (b.is_number()) return b.as_double();
  // A quantity-like string ("0.01") as well, since YAML authors quote numbers.
  if (b.is_string()) {
    try {
      size_t used = 0;
      const double d = std::stod(b.as_string(), &used);
      if (used == b.as_string().size()) return d;
    } catch (...) {
    }
  }
  problems.push_back(at + "." + k + ": must be a number, such as 0.01");
  return std::nullopt;
}

std::optional<PrometheusCheck> parse_prometheus(const value& p, const std::string& at, std::vector<std::string>& problems) {
  if (!p.is_object()) {
    problems.push_back(at + ": must be an object with query (and max, min or expectEmpty) or firingAlerts");
    return std::nullopt;
  }
  PrometheusCheck c;
  const size_t before = problems.size();
  if (p.has_field("firingAlerts")) {
    const value& f = p.at("firingAlerts");
    if (!f.is_object()) {
      problems.push_back(at + ".firingAlerts: must be a map of alert labels, such as {severity: critical} ({} for any alert)");
    } else {
      std::map<std::string, std::string> labels;
      for (const auto& [k, v] : f.as_object()) {
        if (!v.is_string()) problems.push_back(at + ".firingAlerts." + k + ": must be a string (a label value)");
        else labels[k] = v.as_string();
      }
      c.firing_alerts = labels;
    }
    if (p.has_field("query")) problems.push_back(at + ": query and firingAlerts are two checks; give one");
    return problems.size() == before ? std::optional(c) : std::nullopt;
  }
  c.query = str(p, "query");
  if (c.query.empty()) problems.push_back(at + ".query: required, a PromQL expression (or give firingAlerts)");
  c.max = bound(p, "max", at, problems);
  c.min = bound(p, "min", at, problems);
  if (p.has_field("expectEmpty")) {
    if (!p.at("expectEmpty").is_boolean()) problems.push_back(at + ".expectEmpty: must be true or false");
    else c.expect_empty = p.at("expectEmpty").as_bool();
  }
  if (c.expect_empty && (c.max || c.min)) problems.push_back(at + ".expectEmpty: an empty result has no value for max or min; give one or the other");
  if (!c.expect_empty && !c.max && !c.min)
    problems.push_back(at + ": say what healthy is: max, min, or expectEmpty: true (for an alert-style query)");
  if (c.max && c.min && *c.min > *c.max) problems.push_back(at + ".min: larger than max, so no value could pass");
  return problems.size() == before ? std::optional(c) : std::nullopt;
}

std::optional<KubernetesCheck> parse_kubernetes(const value& k, const std::string& at, std::vector<std::string>& problems) {
  if (!k.is_object()) {
    problems.push_back(at + ": must be an object with nodesReady and/or pendingPodsOlderThan");
    return std::nullopt;
  }
  KubernetesCheck c;
  const size_t before = problems.size();
  if (k.has_field("nodesReady")) {
    if (!k.at("nodesReady").is_boolean()) problems.push_back(at + ".nodesReady: must be true or false");
    else c.nodes_ready = k.at("nodesReady").as_bool();
  }
  if (k.has_field("pendingPodsOlderThan")) {
    const std::string text = str(k, "pendingPodsOlderThan");
    auto d = kube::parse_duration(text);
    if (!d || d->count() <= 0) problems.push_back(at + ".pendingPodsOlderThan: \"" + text + "\" must be a positive duration, such as 10m");
    else c.pending_pods_older_than = *d;
  }
  if (problems.size() == before && !c.nodes_ready && !c.pending_pods_older_than)
    problems.push_back(at + ": checks nothing; set nodesReady: true or pendingPodsOlderThan");
  return problems.size() == before ? std::optional(c) : std::nullopt;
}

CheckResult run_prometheus(const HealthCheck& check, MetricsSource* prom) {
  const PrometheusCheck& p = *check.prometheus;
  CheckResult r{.name = check.name};
  r.query = p.firing_alerts ? "ALERTS" + labels_text(*p.firing_alerts) : p.query;
  if (!prom) {
    r.unavailable = true;
    r.message = "no Prometheus to ask: the operator runs without --prometheus-url (chart value healthChecks.prometheus.url)";
    return r;
  }
  if (p.firing_alerts) {
    auto alerts = prom->alerts();
    if (!alerts.ok()) {
      r.unavailable = true;
      r.message = prom->describe() + " did not answer: " + alerts.error().message;
      return r;
    }
    std::vector<std::string> firing;
    for (const auto& a : alerts.value()) {
      if (a.state != "firing") continue;
      bool match = true;
      for (const auto& [k, v] : *p.firing_alerts) {
        auto l = a.labels.find(k);
        match = match && l != a.labels.end() && l->second == v;
      }
      if (match) firing.push_back(a.labels.count("alertname") ? a.labels.at("alertname") : labels_text(a.labels));
    }
    r.passing = firing.empty();
    r.observed = std::to_string(firing.size()) + " firing";
    std::string names;
    for (size_t i = 0; i < firing.size() && i < kNamesShown; ++i) names += (i ? ", " : "") + firing[i];
    if (firing.size() > kNamesShown) names += " and " + std::to_string(firing.size() - kNamesShown) + " more";
    r.message = r.passing ? "no matching alert firing" : "alerts firing: " + names;
    if (!r.passing) r.observed += " (" + names + ")";
    return r;
  }
  auto samples = prom->query(p.query);
  if (!samples.ok()) {
    r.unavailable = true;
    r.message = prom->describe() + " did not answer the query: " + samples.error().message;
    return r;
  }
  const auto& s = samples.value();
  if (p.expect_empty) {
    r.passing = s.empty();
    r.observed = std::to_string(s.size()) + " series";
    if (!s.empty()) r.observed += ", first " + labels_text(s[0].labels) + " " + number_text(s[0].value);
    r.message = r.passing ? "empty, as expected" : "expected no series, got " + r.observed;
    return r;
  }
  if (s.empty()) {
    // No data is not health: a rate over a target that stopped reporting is empty too. A query
    // for which no data means healthy says so with `or vector(0)`.
    r.observed = "no data";
    r.message = "the query returned no data (add `or vector(0)` if no data means healthy)";
    return r;
  }
  // Every series within bounds; the worst one is what the condition shows.
  r.passing = true;
  const PromSample* worst = nullptr;
  for (const auto& sample : s) {
    const bool ok = !std::isnan(sample.value) && (!p.max || sample.value <= *p.max) && (!p.min || sample.value >= *p.min);
    if (!ok && (r.passing || (p.max && sample.value > worst->value) || (!p.max && sample.value < worst->value))) worst = &sample;
    r.passing = r.passing && ok;
  }
  const PromSample& shown = worst ? *worst : s[0];
  r.observed = number_text(shown.value) + (s.size() > 1 ? " " + labels_text(shown.labels) : "");
  std::string limits;
  if (p.max) limits += "max " + number_text(*p.max);
  if (p.min) limits += std::string(limits.empty() ? "" : ", ") + "min " + number_text(*p.min);
  r.message = (r.passing ? "within " : "outside ") + limits + ": " + r.observed;
  return r;
}

CheckResult run_kubernetes(const HealthCheck& check, const ClusterView& cluster, kube::TimePoint now) {
  const KubernetesCheck& k = *check.kubernetes;
  CheckResult r{.name = check.name, .passing = true};
  std::vector<std::string> problems;
  if (k.nodes_ready && cluster.nodes) {
    std::vector<std::string> not_ready;
    for (const auto& n : *cluster.nodes)
      if (!n->ready && !n->meta.deleted && !(cluster.held ? cluster.held(*n) : n->unschedulable)) not_ready.push_back(n->meta.name);
    if (!not_ready.empty()) {
      std::string names;
      for (size_t i = 0; i < not_ready.size() && i < kNamesShown; ++i) names += (i ? ", " : "") + not_ready[i];
      problems.push_back(std::to_string(not_ready.size()) + " node(s) NotReady that nothing holds (" + names +
                         (not_ready.size() > kNamesShown ? ", ..." : "") + ")");
    }
  }
  if (k.pending_pods_older_than && cluster.pods) {
    std::vector<std::string> stuck;
    for (const auto& pod : *cluster.pods)
      if (pod->phase == model::PodPhase::kPending && !pod->meta.deleted && now - pod->meta.created >= *k.pending_pods_older_than)
        stuck.push_back(pod->meta.namespace_.str() + "/" + pod->meta.name);
    if (!stuck.empty()) {
      std::sort(stuck.begin(), stuck.end());
      std::string names;
      for (size_t i = 0; i < stuck.size() && i < kNamesShown; ++i) names += (i ? ", " : "") + stuck[i];
      problems.push_back(std::to_string(stuck.size()) + " pod(s) Pending for longer than " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*k.pending_pods_older_than).count()) + "s (" +
                         names + (stuck.size() > kNamesShown ? ", ..." : "") + ")");
    }
  }
  r.passing = problems.empty();
  for (const auto& p : problems) r.message += (r.message.empty() ? "" : "; ") + p;
  r.observed = r.passing ? "ok" : r.message;
  if (r.passing) r.message = "nodes and pods as expected";
  return r;
}

value check_json(const CheckResult& r) {
  value c = value::object();
  c["name"] = value::string(r.name);
  c["passing"] = value::boolean(r.passing);
  if (!r.query.empty()) c["query"] = value::string(r.query);
  if (!r.observed.empty()) c["observed"] = value::string(r.observed);
  if (!r.message.empty()) c["message"] = value::string(r.message);
  return c;
}

}  // namespace

bool HealthChecks::uses_prometheus() const {
  return std::any_of(checks.begin(), checks.end(), [](const HealthCheck& c) { return c.prometheus.has_value(); });
}

std::optional<HealthChecks> parse_health_checks(const value& v, const std::string& prefix, std::vector<std::string>& problems) {
  if (!v.is_object()) {
    problems.push_back(prefix + ": must be an object with checks (and interval, failureThreshold, onFailure)");
    return std::nullopt;
  }
  const size_t before = problems.size();
  HealthChecks h;
  if (v.has_field("interval")) {
    const std::string text = str(v, "interval");
    auto d = kube::parse_duration(text);
    if (!d || *d < std::chrono::seconds(1)) problems.push_back(prefix + ".interval: \"" + text + "\" must be a duration of at least 1s, such as 1m");
    else h.interval = *d;
  }
  if (v.has_field("failureThreshold")) {
    const value& t = v.at("failureThreshold");
    if (!t.is_integer() || t.as_integer() < 1) problems.push_back(prefix + ".failureThreshold: must be a whole number of at least 1");
    else h.failure_threshold = t.as_integer();
  }
  if (v.has_field("onFailure")) {
    h.on_failure = str(v, "onFailure");
    if (h.on_failure != "Pause" && h.on_failure != "Abort") problems.push_back(prefix + ".onFailure: \"" + h.on_failure + "\" must be Pause or Abort");
  }
  const value checks = v.has_field("checks") ? v.at("checks") : value::null();
  if (!checks.is_array() || checks.size() == 0) {
    problems.push_back(prefix + ".checks: at least one check (prometheus or kubernetes)");
  } else {
    std::set<std::string> names;
    for (size_t i = 0; i < checks.size(); ++i) {
      const std::string at = prefix + ".checks[" + std::to_string(i) + "]";
      const value& c = checks.at(i);
      HealthCheck check;
      check.name = c.is_object() ? str(c, "name") : "";
      if (check.name.empty()) problems.push_back(at + ".name: required (it names the check in conditions and Events)");
      else if (!names.insert(check.name).second) problems.push_back(at + ".name: \"" + check.name + "\" is used twice");
      const bool has_p = c.is_object() && c.has_field("prometheus"), has_k = c.is_object() && c.has_field("kubernetes");
      if (has_p == has_k) {
        problems.push_back(at + ": give exactly one of prometheus or kubernetes");
        continue;
      }
      if (has_p) check.prometheus = parse_prometheus(c.at("prometheus"), at + ".prometheus", problems);
      if (has_k) check.kubernetes = parse_kubernetes(c.at("kubernetes"), at + ".kubernetes", problems);
      h.checks.push_back(std::move(check));
    }
  }
  if (problems.size() != before) return std::nullopt;
  return h;
}

const CheckResult* HealthReport::first_failing() const {
  for (const auto& c : checks)
    if (!c.passing) return &c;
  return nullptr;
}

HealthReport evaluate_health(const HealthChecks& spec, MetricsSource* prometheus, const ClusterView& cluster, kube::TimePoint now) {
  HealthReport report;
  for (const auto& check : spec.checks) {
    report.checks.push_back(check.prometheus ? run_prometheus(check, prometheus) : run_kubernetes(check, cluster, now));
    report.passing = report.passing && report.checks.back().passing;
  }
  return report;
}

HealthGate recorded_health(const value& old_health) {
  HealthGate g;
  if (!old_health.is_object()) return g;
  g.status = old_health;
  g.passing = !old_health.has_field("passing") || !old_health.at("passing").is_boolean() || old_health.at("passing").as_bool();
  g.consecutive_failures = old_health.has_field("consecutiveFailures") && old_health.at("consecutiveFailures").is_integer()
                               ? old_health.at("consecutiveFailures").as_integer()
                               : 0;
  g.reason = str(old_health, "reason");
  g.message = str(old_health, "message");
  return g;
}

HealthGate run_health_gate(const HealthChecks& spec, const value& old_health, kube::TimePoint now, bool reset,
                           const std::function<HealthReport()>& evaluate) {
  HealthGate g;
  const auto checked = old_health.is_object() ? kube::parse_rfc3339(str(old_health, "checkedAt")) : std::nullopt;
  const int old_failures = old_health.is_object() && old_health.has_field("consecutiveFailures") &&
                                   old_health.at("consecutiveFailures").is_integer()
                               ? old_health.at("consecutiveFailures").as_integer()
                               : 0;
  const bool due = reset || !checked || now - *checked >= spec.interval || now < *checked;
  if (!due) {
    g = recorded_health(old_health);  // between evaluations the newest verdict stands
    g.next_check = *checked + spec.interval;
  } else {
    const HealthReport report = evaluate();
    g.ran = true;
    g.passing = report.passing;
    g.consecutive_failures = report.passing ? 0 : (reset ? 0 : old_failures) + 1;
    g.next_check = now + spec.interval;
    g.status = value::object();
    g.status["checkedAt"] = value::string(kube::format_rfc3339(now));
    g.status["passing"] = value::boolean(report.passing);
    g.status["consecutiveFailures"] = value::number(g.consecutive_failures);
    g.status["failureThreshold"] = value::number(spec.failure_threshold);
    value checks = value::array();
    for (const auto& c : report.checks) checks[checks.size()] = check_json(c);
    g.status["checks"] = checks;
    if (const auto* f = report.first_failing()) {
      g.reason = f->unavailable ? "HealthCheckUnavailable" : "HealthCheckFailing";
      g.message = "health check " + f->name + " failing";
      if (!f->query.empty()) g.message += " (" + f->query + ")";
      g.message += ": " + f->message + " [" + std::to_string(g.consecutive_failures) + " of failureThreshold " +
                   std::to_string(spec.failure_threshold) + "]";
      g.status["reason"] = value::string(g.reason);
      g.status["message"] = value::string(g.message);
    }
  }
  g.threshold_reached = !g.passing && g.consecutive_failures >= spec.failure_threshold;
  return g;
}

}  // namespace nonevent::controllers
