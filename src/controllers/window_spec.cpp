#include "controllers/window_spec.h"

#include <algorithm>

namespace nonevent::controllers {

using web::json::value;

namespace {
std::string str(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : ""; }
}  // namespace

bool WindowSpec::resolve(kube::TimePoint now) {
  if (!schedule || !time_zone) return true;
  // The earliest occurrence whose end is still ahead.
  auto next = schedule->next(now - duration + std::chrono::seconds(1), *time_zone);
  if (!next) return false;
  start = *next;
  end = *next + duration;
  return true;
}

std::vector<std::string> zone_set(const value& spec, std::vector<std::string>& problems) {
  // A set, as the CRD's x-kubernetes-list-type: set makes it: a duplicate is refused with
  // kube-apiserver's words.
  std::vector<std::string> zones;
  if (!spec.has_field("zones") || !spec.at("zones").is_array()) return zones;
  const auto& list = spec.at("zones").as_array();
  size_t i = 0;
  for (const auto& z : list) {
    if (z.is_string() && !z.as_string().empty()) {
      if (std::find(zones.begin(), zones.end(), z.as_string()) != zones.end())
        problems.push_back("spec.zones[" + std::to_string(i) + "]: Duplicate value: \"" + z.as_string() + "\"");
      else zones.push_back(z.as_string());
    }
    ++i;
  }
  return zones;
}

ParsedWindow parse_window_spec(const value& spec) {
  ParsedWindow out;
  WindowSpec w;
  auto& p = out.problems;
  if (!spec.is_object()) {
    p.push_back("spec: required");
    return out;
  }
  w.zones = zone_set(spec, p);
  if (w.zones.empty()) p.push_back("spec.zones: at least one zone is required");
  if (auto zl = str(spec, "zoneLabel"); !zl.empty()) w.zone_label = zl;
  if (spec.has_field("schedule")) {
    std::string err;
    w.schedule = CronSchedule::parse(str(spec, "schedule"), err);
    if (!w.schedule) p.push_back("spec.schedule: " + err);
    const std::string tz = str(spec, "timeZone").empty() ? "UTC" : str(spec, "timeZone");
    w.time_zone = TimeZone::load(tz, err);
    if (!w.time_zone) p.push_back("spec.timeZone: " + err);
    const std::string ds = str(spec, "duration");
    auto d = parse_duration(ds);
    if (ds.empty()) p.push_back("spec.duration: required with schedule, a duration such as 4h");
    else if (!d || d->count() <= 0) p.push_back("spec.duration: \"" + ds + "\" is not a positive duration such as 4h");
    else w.duration = *d;
    if (spec.has_field("start") || spec.has_field("end")) p.push_back("spec.start: start/end and schedule/duration are mutually exclusive");
  } else {
    const std::string ss = str(spec, "start"), es = str(spec, "end");
    auto s = kube::parse_rfc3339(ss);
    auto e = kube::parse_rfc3339(es);
    if (ss.empty()) p.push_back("spec.start: required (or schedule and duration), an RFC 3339 time such as 2026-12-01T02:00:00Z");
    else if (!s) p.push_back("spec.start: \"" + ss + "\" is not an RFC 3339 time such as 2026-12-01T02:00:00Z");
    if (es.empty()) p.push_back("spec.end: required (or schedule and duration), an RFC 3339 time such as 2026-12-01T06:00:00Z");
    else if (!e) p.push_back("spec.end: \"" + es + "\" is not an RFC 3339 time such as 2026-12-01T06:00:00Z");
    if (s && e && !(*s < *e)) p.push_back("spec.end: must be after spec.start");
    if (s) w.start = *s;
    if (e) w.end = *e;
  }
  if (auto eb = str(spec, "evacuateBefore"); !eb.empty()) {
    if (auto d = parse_duration(eb)) w.evacuate_before = *d;
    else p.push_back("spec.evacuateBefore: \"" + eb + "\" is not a duration such as 2h");
  }
  if (auto r = str(spec, "restore"); !r.empty()) {
    if (r != "Uncordon" && r != "Keep") p.push_back("spec.restore: must be Uncordon or Keep");
    w.restore = r;
  }
  if (spec.has_field("rebalance") && spec.at("rebalance").is_boolean()) w.rebalance = spec.at("rebalance").as_bool();
  if (spec.has_field("healthChecks")) w.health = parse_health_checks(spec.at("healthChecks"), "spec.healthChecks", p);
  if (spec.has_field("suspend") && spec.at("suspend").is_boolean()) w.suspend = spec.at("suspend").as_bool();
  if (spec.has_field("safety") && spec.at("safety").has_field("minAvailableZones")) {
    const auto& m = spec.at("safety").at("minAvailableZones");
    if (!m.is_integer() || m.as_integer() < 1) p.push_back("spec.safety.minAvailableZones: must be an integer of at least 1");
    else w.min_available_zones = m.as_integer();
  }
  if (spec.has_field("safety") && spec.at("safety").has_field("requireCapacity") && spec.at("safety").at("requireCapacity").is_boolean())
    w.require_capacity = spec.at("safety").at("requireCapacity").as_bool();
  if (spec.has_field("drain")) w.drain = parse_drain_policy(spec.at("drain"), "spec.drain", p);
  if (p.empty()) out.spec = w;
  return out;
}

}  // namespace nonevent::controllers
