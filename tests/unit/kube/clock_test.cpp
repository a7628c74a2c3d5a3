// Time as the API writes it: Go durations (spec.evacuateBefore, drain.forceAfter, CEL's
// duration()) and RFC 3339 times.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace nonevent::kube
