#include "observe/resource_metrics.h"

#include <cpprest/json.h>

#include <map>

namespace nonevent::observe {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using web::json::value;

namespace {

const value& at(const value& v, std::initializer_list<const char*> path) {
  static const value null = value::null();
  const value* cur = &v;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->has_field(k)) return null;
    cur = &cur->at(k);
  }
  return *cur;
}
double num(const value& v, std::initializer_list<const char*> path) {
  const value& x = at(v, path);
  return x.is_number() ? x.as_double() : 0;
}
std::string str(const value& v, std::initializer_list<const char*> path) {
  const value& x = at(v, path);
  return x.is_string() ? x.as_string() : "";
}
bool condition(const value& obj, const std::string& type, const std::string& reason = "") {
  const value& cs = at(obj, {"status", "conditions"});
  if (!cs.is_array()) return false;
  for (const auto& c : cs.as_array())
    if (str(c, {"type"}) == type) return str(c, {"status"}) == "True" && (reason.empty() || str(c, {"reason"}) == reason);
  return false;
}
std::string reason_of(const value& obj, const std::string& type) {
  const value& cs = at(obj, {"status", "conditions"});
  if (cs.is_array())
    for (const auto& c : cs.as_array())
      if (str(c, {"type"}) == type) return str(c, {"reason"});
  return "";
}
double epoch_seconds(const std::string& rfc3339) {
  auto t = kube::parse_rfc3339(rfc3339);
  return t ? std::chrono::duration<double>(t->time_since_epoch()).count() : 0;
}

// Families built up sample by sample, emitted in name order.
struct Families {
  std::map<std::string, MetricFamily> by_name;
  void gauge(const std::string& name, const std::string& help, std::vector<ClientMetric::Label> labels, double v) {
    auto& f = by_name[name];
    f.name = name;
    f.help = help;
    f.type = MetricType::Gauge;
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = v;
    f.metric.push_back(std::move(m));
  }
};

// status.health (spec.healthChecks' last evaluation), for a resource that declares checks:
// whether they pass and how many failing evaluations in a row, so an alert can say a gate is
// failing before it pauses or aborts anything.
void health_gauges(Families& fs, const value& obj, const std::string& kind, const std::string& name) {
  const value& h = at(obj, {"status", "health"});
  if (!h.is_object() || !at(obj, {"spec", "healthChecks"}).is_object()) return;
  const value& passing = at(h, {"passing"});
  fs.gauge("nonevent_" + kind + "_health_checks_passing", "1 while the " + kind + "'s health checks pass (spec.healthChecks).",
           {{kind, name}}, passing.is_boolean() ? passing.as_bool() : 1);
  fs.gauge("nonevent_" + kind + "_health_consecutive_failures", "Failing evaluations of the " + kind + "'s health checks in a row.",
           {{kind, name}}, num(h, {"consecutiveFailures"}));
}

}  // namespace

std::vector<MetricFamily> ResourceMetrics::Collect() const {
  Families fs;
  const double now = std::chrono::duration<double>(clock_->now().time_since_epoch()).count();
  std::error_code ec;
  for (const auto& c : manager_.campaigns().list()) {
    const value obj = value::parse(c->json, ec);
    if (ec) continue;
    const std::string name = c->meta.name;
    const std::string phase = str(obj, {"status", "phase"});
    for (const char* p : {"Pending", "Progressing", "Paused", "Completed", "Failed"})
      fs.gauge("nonevent_campaign_phase", "1 for the campaign's current phase.", {{"campaign", name}, {"phase", p}}, phase == p);
    const value& zones = at(obj, {"status", "zones"});
    if (zones.is_array())
      for (const auto& z : zones.as_array())
        for (const auto& [state, field] : std::vector<std::pair<const char*, const char*>>{
                 {"total", "total"}, {"updated", "updated"}, {"in_progress", "inProgress"}, {"failed", "failed"}})
          fs.gauge("nonevent_campaign_nodes", "Nodes of the campaign by zone and state.",
                   {{"campaign", name}, {"zone", str(z, {"zone"})}, {"state", state}}, num(z, {field}));
    const double total = num(obj, {"status", "nodes", "total"});
    fs.gauge("nonevent_campaign_progress_ratio", "Share of the campaign's nodes that report the target version.",
             {{"campaign", name}}, total > 0 ? num(obj, {"status", "nodes", "updated"}) / total : 0);
    fs.gauge("nonevent_campaign_failed_nodes", "Nodes whose patch failed.", {{"campaign", name}}, num(obj, {"status", "nodes", "failed"}));
    if (auto d = str(obj, {"status", "deadline"}); !d.empty())
      fs.gauge("nonevent_campaign_deadline_timestamp_seconds", "When the campaign must be done (Unix time).", {{"campaign", name}}, epoch_seconds(d));
    if (auto e = str(obj, {"status", "estimatedCompletion"}); !e.empty())
      fs.gauge("nonevent_campaign_estimated_completion_timestamp_seconds", "Projected completion from observed batch durations (Unix time).",
               {{"campaign", name}}, epoch_seconds(e));
    fs.gauge("nonevent_campaign_behind_deadline", "1 while the projection misses the deadline.", {{"campaign", name}},
             condition(obj, "BehindDeadline"));
    fs.gauge("nonevent_campaign_paused", "1 while paused (by spec or by the failure budget).", {{"campaign", name}}, condition(obj, "Paused"));
    const value& blockers = at(obj, {"status", "blockers"});
    fs.gauge("nonevent_campaign_blockers", "Pods, PDBs or zones holding the campaign's drains up now.", {{"campaign", name}},
             blockers.is_array() ? static_cast<double>(blockers.size()) : 0);
    health_gauges(fs, obj, "campaign", name);
  }
  for (const auto& w : manager_.windows().list()) {
    const value obj = value::parse(w->json, ec);
    if (ec) continue;
    const std::string name = w->meta.name;
    const std::string phase = str(obj, {"status", "phase"});
    for (const char* p : {"Scheduled", "Evacuating", "Evacuated", "InProgress", "Restoring", "Completed", "Blocked"})
      fs.gauge("nonevent_window_phase", "1 for the window's current phase.", {{"window", name}, {"phase", p}}, phase == p);
    for (const char* s : {"total", "cordoned", "drained"})
      fs.gauge("nonevent_window_nodes", "Nodes of the window by state.", {{"window", name}, {"state", s}}, num(obj, {"status", "nodes", s}));
    if (auto s = str(obj, {"status", "windowStart"}); !s.empty())
      fs.gauge("nonevent_window_seconds_until_start", "Seconds until the window starts (negative once started).", {{"window", name}},
               epoch_seconds(s) - now);
    fs.gauge("nonevent_window_evacuation_late", "1 when the window has started and its zone is not empty.", {{"window", name}},
             reason_of(obj, "Ready") == "EvacuationLate");
    fs.gauge("nonevent_window_blocked_pods", "Pods that cannot be evicted yet.", {{"window", name}}, num(obj, {"status", "pods", "blocked"}));
    health_gauges(fs, obj, "window", name);
  }
  std::vector<MetricFamily> out;
  for (auto& [n, f] : fs.by_name) out.push_back(std::move(f));
  return out;
}

}  // namespace nonevent::observe
