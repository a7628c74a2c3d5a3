#pragma once
// When a PatchCampaign may start work (spec.schedule, issue 26): allowed slots, each a cron
// start in the schedule's IANA time zone and a duration ("weeknights 22:00 for 6h"), and dated
// blackouts ("never during Black Friday"). A new batch, or a node added to a rolling batch,
// starts only when the schedule is open: inside an allowed slot (or anywhere, with no slots)
// and outside every blackout. Work already started finishes whatever the schedule says: a
// node half-drained is worse than one patched a few minutes into a blackout.
//
// The same open time is what the ETA and `nonevent plan` count: work left is laid into the
// open intervals from now on, so a campaign whose schedule leaves too little time before its
// deadline says so before it starts.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "controllers/recurrence.h"
#include "kube/clock.h"

namespace nonevent::controllers {

struct AllowedSlot {
  std::string cron;  // as written, for messages
  CronSchedule starts;
  kube::Duration duration{};
};

struct Blackout {
  kube::TimePoint start, end;  // [start, end)
  std::string reason;
};

// A stretch of time when new work may start.
struct OpenInterval {
  kube::TimePoint start, end;
};

// Whether new work may start at an instant, and if not, why and until when.
struct ScheduleGate {
  bool open = true;
  std::string reason;   // closed: "Blackout" or "OutsideSchedule"
  std::string message;  // closed: what holds it and until when, for the condition and Event
  std::optional<kube::TimePoint> opens_at;   // closed: the next open instant (none within the horizon)
  std::optional<kube::TimePoint> closes_at;  // open: when it next closes (none: open for good)
};

class CampaignSchedule {
 public:
  // spec.schedule; problems come back as "spec.schedule.<field>: message".
  static std::optional<CampaignSchedule> parse(const web::json::value& schedule, std::vector<std::string>& problems);

  ScheduleGate gate(kube::TimePoint t) const;
  // The open intervals overlapping [from, to), in order, clipped to it.
  std::vector<OpenInterval> open_intervals(kube::TimePoint from, kube::TimePoint to) const;
  // The instant by which `work` of open time has passed, starting at `from` (nullopt: the
  // schedule does not open enough within five years).
  std::optional<kube::TimePoint> finish_after(kube::TimePoint from, kube::Duration work) const;
  // Open time in [from, to).
  kube::Duration open_time(kube::TimePoint from, kube::TimePoint to) const;

  const std::string& time_zone() const { return tz_.name(); }
  const std::vector<AllowedSlot>& allowed() const { return allowed_; }
  const std::vector<Blackout>& blackouts() const { return blackouts_; }

 private:
  CampaignSchedule(TimeZone tz) : tz_(std::move(tz)) {}
  // The allowed slot `t` is in, as [start, end) of the union of slots running at t.
  std::optional<OpenInterval> slot_at(kube::TimePoint t) const;
  std::optional<kube::TimePoint> next_slot_start(kube::TimePoint after) const;
  const Blackout* blackout_at(kube::TimePoint t) const;
  std::optional<kube::TimePoint> next_open(kube::TimePoint t) const;
  kube::TimePoint close_after(kube::TimePoint open) const;  // t is open: when it closes (max() for never)

  TimeZone tz_;
  std::vector<AllowedSlot> allowed_;
  std::vector<Blackout> blackouts_;  // by start
};

}  // namespace nonevent::controllers
