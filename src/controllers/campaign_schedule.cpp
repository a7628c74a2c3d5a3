#include "controllers/campaign_schedule.h"

#include <algorithm>

namespace nonevent::controllers {

using web::json::value;
using namespace std::chrono_literals;

namespace {

// How far ahead the schedule is followed: a campaign is not planned over more than five years,
// and CronSchedule::next looks no further.
constexpr kube::Duration kHorizon = std::chrono::hours(24 * 366 * 5);
// Slots no longer than a week: a longer one is a mistyped duration, not a schedule.
constexpr kube::Duration kMaxSlot = std::chrono::hours(24 * 7);

std::string str(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : ""; }

std::string at_text(kube::TimePoint t) { return kube::format_rfc3339(t); }

}  // namespace

std::optional<CampaignSchedule> CampaignSchedule::parse(const value& schedule, std::vector<std::string>& problems) {
  const size_t before = problems.size();
  if (!schedule.is_object()) {
    problems.push_back("spec.schedule: must be an object with timeZone, allowed and blackouts");
    return std::nullopt;
  }
  std::string err;
  const std::string tz_name = str(schedule, "timeZone").empty() ? "UTC" : str(schedule, "timeZone");
  auto tz = TimeZone::load(tz_name, err);
  if (!tz) {
    problems.push_back("spec.schedule.timeZone: " + err);
    tz = TimeZone::load("UTC", err);
  }
  CampaignSchedule s(std::move(*tz));
  if (schedule.has_field("allowed")) {
    const value& allowed = schedule.at("allowed");
    if (!allowed.is_array() || allowed.size() == 0)
      problems.push_back("spec.schedule.allowed: at least one slot (cron and duration), or leave allowed out to allow any time");
    else
      for (size_t i = 0; i < allowed.size(); ++i) {
        const std::string at = "spec.schedule.allowed[" + std::to_string(i) + "]";
        const value& a = allowed.at(i);
        const std::string cron = str(a, "cron"), ds = str(a, "duration");
        auto starts = CronSchedule::parse(cron, err);
        if (cron.empty()) problems.push_back(at + ".cron: required, a 5-field cron expression such as \"0 22 * * 1-5\"");
        else if (!starts) problems.push_back(at + ".cron: " + err);
        auto d = kube::parse_duration(ds);
        if (ds.empty()) problems.push_back(at + ".duration: required, a duration such as 6h");
        else if (!d || d->count() <= 0 || *d > kMaxSlot)
          problems.push_back(at + ".duration: \"" + ds + "\" must be a positive duration of at most 168h, such as 6h");
        if (starts && d && d->count() > 0 && *d <= kMaxSlot) s.allowed_.push_back(AllowedSlot{cron, *starts, *d});
      }
  }
  if (schedule.has_field("blackouts")) {
    const value& blackouts = schedule.at("blackouts");
    if (!blackouts.is_array()) problems.push_back("spec.schedule.blackouts: must be a list of {start, end, reason}");
    else
      for (size_t i = 0; i < blackouts.size(); ++i) {
        const std::string at = "spec.schedule.blackouts[" + std::to_string(i) + "]";
        const value& b = blackouts.at(i);
        const std::string ss = str(b, "start"), es = str(b, "end");
        auto start = kube::parse_rfc3339(ss), end = kube::parse_rfc3339(es);
        if (!start) problems.push_back(at + ".start: \"" + ss + "\" is not an RFC 3339 time such as 2026-11-27T00:00:00Z");
        if (!end) problems.push_back(at + ".end: \"" + es + "\" is not an RFC 3339 time such as 2026-11-30T23:59:59Z");
        if (start && end && !(*start < *end)) problems.push_back(at + ".end: must be after start");
        if (start && end && *start < *end) s.blackouts_.push_back({*start, *end, str(b, "reason")});
      }
    std::sort(s.blackouts_.begin(), s.blackouts_.end(), [](const Blackout& a, const Blackout& b) { return a.start < b.start; });
  }
  if (problems.size() != before) return std::nullopt;
  return s;
}

std::optional<OpenInterval> CampaignSchedule::slot_at(kube::TimePoint t) const {
  // A slot that started at s runs [s, s + duration): t is in it when a start lies in
  // (t - duration, t]. Overlapping slots are one stretch of open time.
  std::optional<OpenInterval> in;
  for (const auto& a : allowed_) {
    auto s = a.starts.next(t - a.duration + 1s, tz_);
    if (s && *s <= t) {
      if (!in) in = OpenInterval{*s, *s + a.duration};
      in->start = std::min(in->start, *s);
      in->end = std::max(in->end, *s + a.duration);
    }
  }
  if (!in) return in;
  // Slots starting before this one ends carry it on.
  for (int grew = 0; grew < 1000; ++grew) {
    kube::TimePoint end = in->end;
    for (const auto& a : allowed_)
      if (auto s = a.starts.next(in->end - a.duration + 1s, tz_); s && *s <= in->end) end = std::max(end, *s + a.duration);
    if (end == in->end) break;
    in->end = end;
  }
  return in;
}

std::optional<kube::TimePoint> CampaignSchedule::next_slot_start(kube::TimePoint after) const {
  std::optional<kube::TimePoint> first;
  for (const auto& a : allowed_)
    if (auto s = a.starts.next(after, tz_); s && (!first || *s < *first)) first = s;
  return first;
}

const Blackout* CampaignSchedule::blackout_at(kube::TimePoint t) const {
  for (const auto& b : blackouts_)
    if (b.start <= t && t < b.end) return &b;
  return nullptr;
}

std::optional<kube::TimePoint> CampaignSchedule::next_open(kube::TimePoint t) const {
  const auto horizon = t + kHorizon;
  while (t < horizon) {
    if (const auto* b = blackout_at(t)) {
      t = b->end;
      continue;
    }
    if (!allowed_.empty() && !slot_at(t)) {
      auto s = next_slot_start(t);
      if (!s) return std::nullopt;
      t = *s;
      continue;
    }
    return t;
  }
  return std::nullopt;
}

kube::TimePoint CampaignSchedule::close_after(kube::TimePoint open) const {
  kube::TimePoint end = open + kHorizon;
  if (!allowed_.empty())
    if (auto slot = slot_at(open)) end = slot->end;
  for (const auto& b : blackouts_)
    if (b.start > open && b.start < end) end = b.start;
  return end;
}

ScheduleGate CampaignSchedule::gate(kube::TimePoint t) const {
  ScheduleGate g;
  const auto opens = next_open(t);
  if (opens && *opens == t) {
    const auto closes = close_after(t);
    if (closes < t + kHorizon) g.closes_at = closes;
    return g;
  }
  g.open = false;
  g.opens_at = opens;
  const std::string until = opens ? "no new batch starts before " + at_text(*opens) : "the schedule does not open again within five years";
  if (const auto* b = blackout_at(t)) {
    g.reason = "Blackout";
    g.message = "blackout" + (b->reason.empty() ? std::string() : " \"" + b->reason + "\"") + " from " + at_text(b->start) + " to " +
                at_text(b->end) + ": " + until;
  } else {
    g.reason = "OutsideSchedule";
    std::string slots;
    for (const auto& a : allowed_) slots += (slots.empty() ? "" : ", ") + ("\"" + a.cron + "\"");
    g.message = "outside the allowed slots (" + slots + " in " + tz_.name() + "): " + until;
  }
  return g;
}

std::vector<OpenInterval> CampaignSchedule::open_intervals(kube::TimePoint from, kube::TimePoint to) const {
  std::vector<OpenInterval> out;
  kube::TimePoint t = from;
  while (t < to && out.size() < 100000) {
    auto o = next_open(t);
    if (!o || *o >= to) break;
    const auto c = std::min(close_after(*o), to);
    out.push_back({*o, c});
    t = c;
  }
  return out;
}

std::optional<kube::TimePoint> CampaignSchedule::finish_after(kube::TimePoint from, kube::Duration work) const {
  if (work <= kube::Duration::zero()) return from;
  kube::TimePoint t = from;
  const auto horizon = from + kHorizon;
  while (t < horizon) {
    auto o = next_open(t);
    if (!o) return std::nullopt;
    const auto c = close_after(*o);
    if (c - *o >= work) return *o + work;
    work -= c - *o;
    t = c;
  }
  return std::nullopt;
}

kube::Duration CampaignSchedule::open_time(kube::TimePoint from, kube::TimePoint to) const {
  kube::Duration total{};
  for (const auto& i : open_intervals(from, to)) total += i.end - i.start;
  return total;
}

}  // namespace nonevent::controllers
