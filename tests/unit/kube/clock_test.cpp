// Time as the API writes it: Go durations (spec.evacuateBefore, drain.forceAfter, CEL's
// duration()) and RFC 3339 times.
#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "kube/clock.h"

namespace nonevent::kube {
namespace {

using namespace std::chrono_literals;

TEST(Clock, GoDurations) {
  EXPECT_EQ(parse_duration("90s"), Duration(90s));
  EXPECT_EQ(parse_duration("1h30m"), Duration(90min));
  EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
  EXPECT_EQ(parse_duration("1.5h"), Duration(90min));
  EXPECT_EQ(parse_duration("-5m"), Duration(-5min));
  EXPECT_EQ(parse_duration("0"), Duration::zero()) << "Go accepts a bare 0";
  EXPECT_EQ(parse_duration("10us"), Duration(10us));
  EXPECT_EQ(parse_duration("10\u00b5s"), Duration(10us));
  for (const char* bad : {"", "10", "two hours", "5d", "-", "1h 30m"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Clock, Rfc3339RoundTrips) {
  auto t = parse_rfc3339("2026-12-01T02:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-12-01T02:00:00Z");
  EXPECT_EQ(parse_rfc3339("2026-12-01T03:00:00+01:00"), t);
  EXPECT_FALSE(parse_rfc3339("tomorrow"));
}

TEST(Clock, Rfc3339IsWhatStrftimeWrites) {
  auto reference = [](TimePoint t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  // Leap days, the ends of years and of the epoch's first second, then a walk over 60 years.
  std::vector<TimePoint> points;
  for (const char* s : {"1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2024-12-31T23:59:59Z",
                        "2100-03-01T00:00:00Z"})
    points.push_back(*parse_rfc3339(s));
  for (auto t = *parse_rfc3339("1960-01-01T00:00:00Z"); t < *parse_rfc3339("2020-01-01T00:00:00Z"); t += 7h + 13min + 17s)
    points.push_back(t + 123456us);
  for (const auto t : points) {
    ASSERT_EQ(format_rfc3339(t), reference(t));
    const auto micro = format_rfc3339_micro(t);
    ASSERT_EQ(micro.substr(0, 19), reference(t).substr(0, 19));
    ASSERT_EQ(parse_rfc3339(micro), t);
  }
}

}  // namespace
}  // namespace nonevent::kube
