#pragma once
// Recurring windows (design 2.4): a 5-field cron expression evaluated in an IANA time zone,
// DST-safe. Time zones are read from the system's TZif files (/usr/share/zoneinfo, package
// tzdata) because GCC 12's standard library has no std::chrono time zone database.
//
// DST rules, chosen to match what an SRE expects of "every night at 02:30":
//  - a local time that does not exist (the spring-forward gap) runs at the same wall-clock
//    distance past the gap (02:30 → 03:30), once;
//  - a local time that happens twice (fall back) runs at its first occurrence, once.
#include <bitset>
#include <optional>
#include <string>
#include <vector>

#include "kube/clock.h"

namespace nonevent::controllers {

class TimeZone {
 public:
  // "UTC", or an IANA name such as "Europe/Berlin". nullopt with `error` set when unknown.
  static std::optional<TimeZone> load(const std::string& name, std::string& error,
                                      const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  // Seconds east of UTC in effect at `t`.
  long offset_at(kube::TimePoint t) const;
  // The UTC instant of a local wall-clock time (seconds since the epoch, as if local were
  // UTC), with the DST rules above.
  kube::TimePoint to_utc(long long local_seconds) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<long long> transitions_;  // UTC seconds
  std::vector<long> offsets_;           // offset in effect from each transition on
  long initial_offset_ = 0;             // before the first transition
};

class CronSchedule {
 public:
  // minute hour day-of-month month day-of-week; numbers, *, lists, ranges, steps; month and
  // weekday names (JAN, MON); 7 is Sunday too. nullopt with `error` naming the bad field.
  static std::optional<CronSchedule> parse(const std::string& expr, std::string& error);
  // The first start at or after `after`, in `tz` (within the next five years).
  std::optional<kube::TimePoint> next(kube::TimePoint after, const TimeZone& tz) const;

 private:
  bool day_matches(int day_of_month, int month, int weekday) const;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;
  std::bitset<13> months_;
  std::bitset<7> weekdays_;
  bool days_star_ = true, weekdays_star_ = true;
};

}  // namespace nonevent::controllers
