#include "controllers/window_spec.h"

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

ParsedWindow parse_window_spec(const value& spec) {
  ParsedWindow out;
  WindowSpec w;
  auto& p = out.problems;
  if (!spec.is_object()) {
    p.push_back("spec: required");
    return out;
  }
  if (spec.has_field("zones") && spec.at("zones").is_array())
    for (const auto& z : spec.at("zones").as_array())
      if (z.is_string() && !z.as_string().empty()) w.zones.push_back(z.as_string());
  if (w.zones.empty()) p.push_back("spec.zones: at least one zone is required");
  if (auto zl = str(spec, "zoneLabel"); !zl.empty()) w.zone_label = zl;
  if (spec.has_field("schedule")) {
    std::string err;
    w.schedule = CronSchedule::parse(str(spec, "schedule"), err);
    if (!w.schedule) p.push_back("spec.schedule: " + err);
    const std::string tz = str(spec, "timeZone").empty() ? "UTC" : str(spec, "timeZone");
    w.time_zone = TimeZone::load(tz, err);
    if (!w.time_zone) p.push_back("spec.timeZone: " + err);
    auto d = parse_duration(str(spec, "duration"));
    if (!d || d->count() <= 0) p.push_back("spec.duration: required with schedule, a duration such as 4h");
    else w.duration = *d;
    if (spec.has_field("start") || spec.has_field("end")) p.push_back("spec.start: start/end and schedule/duration are mutually exclusive");
  } else {
    auto s = kube::parse_rfc3339(str(spec, "start"));
    auto e = kube::parse_rfc3339(str(spec, "end"));
    if (!s) p.push_back("spec.start: required, an RFC 3339 time such as 2026-12-01T02:00:00Z");
    if (!e) p.push_back("spec.end: required, an RFC 3339 time such as 2026-12-01T06:00:00Z");
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
  if (spec.has_field("suspend") && spec.at("suspend").is_boolean()) w.suspend = spec.at("suspend").as_bool();
  if (spec.has_field("safety") && spec.at("safety").has_field("minAvailableZones"))
    w.min_available_zones = spec.at("safety").at("minAvailableZones").as_integer();
  if (spec.has_field("safety") && spec.at("safety").has_field("requireCapacity") && spec.at("safety").at("requireCapacity").is_boolean())
    w.require_capacity = spec.at("safety").at("requireCapacity").as_bool();
  if (spec.has_field("drain")) w.drain = parse_drain_policy(spec.at("drain"), "spec.drain", p);
  if (p.empty()) out.spec = w;
  return out;
}

}  // namespace nonevent::controllers
