// Cron schedules in IANA time zones, across daylight-saving changes.
#include <gtest/gtest.h>

#include "controllers/recurrence.h"

namespace nonevent::controllers {
namespace {

kube::TimePoint t(const char* s) { return *kube::parse_rfc3339(s); }
std::string next(const char* cron, const char* zone, const char* after) {
  std::string err;
  auto c = CronSchedule::parse(cron, err);
  EXPECT_TRUE(c) << err;
  auto tz = TimeZone::load(zone, err);
  EXPECT_TRUE(tz) << err;
  auto n = c->next(t(after), *tz);
  return n ? kube::format_rfc3339(*n) : "none";
}

TEST(Recurrence, UtcBasics) {
  EXPECT_EQ(next("0 2 * * SUN", "UTC", "2026-12-01T00:00:00Z"), "2026-12-06T02:00:00Z");  // a Tuesday → Sunday
  EXPECT_EQ(next("*/15 * * * *", "UTC", "2026-12-01T00:01:00Z"), "2026-12-01T00:15:00Z");
  EXPECT_EQ(next("30 4 1 JAN,JUL *", "UTC", "2026-12-01T00:00:00Z"), "2027-01-01T04:30:00Z");
  EXPECT_EQ(next("0 0 13 * FRI", "UTC", "2026-12-01T00:00:00Z"), "2026-12-04T00:00:00Z") << "either day field matches";
  EXPECT_EQ(next("0 3 * * 7", "UTC", "2026-12-01T00:00:00Z"), "2026-12-06T03:00:00Z") << "7 is Sunday";
}

TEST(Recurrence, BerlinSpringForwardRunsPastTheGapOnce) {
  // 2027-03-28: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that night.
  EXPECT_EQ(next("30 2 * * *", "Europe/Berlin", "2027-03-27T00:00:00Z"), "2027-03-27T01:30:00Z");  // 02:30 CET
  EXPECT_EQ(next("30 2 * * *", "Europe/Berlin", "2027-03-27T02:00:00Z"), "2027-03-28T01:30:00Z");  // 03:30 CEST
  EXPECT_EQ(next("30 2 * * *", "Europe/Berlin", "2027-03-28T01:31:00Z"), "2027-03-29T00:30:00Z");  // 02:30 CEST
}

TEST(Recurrence, BerlinFallBackRunsTheRepeatedHourOnce) {
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice: the first one runs.
  EXPECT_EQ(next("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z"), "2026-10-25T00:30:00Z");
  EXPECT_EQ(next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:31:00Z"), "2026-10-26T01:30:00Z");
}

TEST(Recurrence, NewYorkAcrossTheChange) {
  EXPECT_EQ(next("0 3 * * *", "America/New_York", "2027-03-13T12:00:00Z"), "2027-03-14T07:00:00Z");  // EDT
  EXPECT_EQ(next("0 3 * * *", "America/New_York", "2027-03-12T12:00:00Z"), "2027-03-13T08:00:00Z");  // EST
}

TEST(Recurrence, BadInputNamesTheField) {
  std::string err;
  EXPECT_FALSE(CronSchedule::parse("0 25 * * *", err));
  EXPECT_NE(err.find("\"25\" is not a valid hour field"), std::string::npos) << err;
  EXPECT_FALSE(CronSchedule::parse("0 2 * *", err));
  EXPECT_NE(err.find("want 5"), std::string::npos) << err;
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons", err));
  EXPECT_NE(err.find("unknown time zone"), std::string::npos) << err;
  EXPECT_FALSE(TimeZone::load("../../etc/passwd", err));
}

}  // namespace
}  // namespace nonevent::controllers
