// spec.schedule (issue 26): allowed slots in an IANA zone, dated blackouts, what is open when,
// how long work takes inside the open time, across DST in Berlin and New York; bad input named
// by its field.
#include "controllers/campaign_schedule.h"

#include <gtest/gtest.h>

namespace nonevent::controllers {
namespace {

using namespace std::chrono_literals;
using web::json::value;

kube::TimePoint at(const char* rfc3339) { return *kube::parse_rfc3339(rfc3339); }
std::string fmt(std::optional<kube::TimePoint> t) { return t ? kube::format_rfc3339(*t) : "none"; }

CampaignSchedule schedule(const std::string& json) {
  std::vector<std::string> problems;
  auto s = CampaignSchedule::parse(value::parse(json), problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return *s;
}

std::vector<std::string> problems_of(const std::string& json) {
  std::vector<std::string> problems;
  EXPECT_FALSE(CampaignSchedule::parse(value::parse(json), problems));
  return problems;
}

TEST(CampaignSchedule, BadInputIsNamedByItsField) {
  auto p = problems_of(R"({"timeZone":"Mars/Olympus","allowed":[{"cron":"0 25 * * *","duration":"6h"},{"cron":"0 1 * * *","duration":"0s"}],
                           "blackouts":[{"start":"2026-11-30T00:00:00Z","end":"2026-11-27T00:00:00Z"},{"start":"Friday","end":"2026-11-27T00:00:00Z"}]})");
  std::string all;
  for (const auto& x : p) all += x + "\n";
  EXPECT_NE(all.find("spec.schedule.timeZone: "), std::string::npos) << all;
  EXPECT_NE(all.find("spec.schedule.allowed[0].cron: "), std::string::npos) << all;
  EXPECT_NE(all.find("spec.schedule.allowed[1].duration: \"0s\" must be a positive duration"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.schedule.blackouts[0].end: must be after start"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.schedule.blackouts[1].start: \"Friday\" is not an RFC 3339 time"), std::string::npos) << all;
  EXPECT_EQ(problems_of(R"({"allowed":[]})").front(),
            "spec.schedule.allowed: at least one slot (cron and duration), or leave allowed out to allow any time");
  EXPECT_NE(problems_of(R"({"allowed":[{"cron":"0 22 * * *","duration":"200h"}]})").front().find("at most 168h"), std::string::npos);
}

TEST(CampaignSchedule, ABlackoutClosesItAndSaysUntilWhen) {
  auto s = schedule(R"({"blackouts":[{"start":"2026-11-27T00:00:00Z","end":"2026-11-30T23:59:59Z","reason":"Black Friday"}]})");
  auto before = s.gate(at("2026-11-26T12:00:00Z"));
  EXPECT_TRUE(before.open);
  EXPECT_EQ(fmt(before.closes_at), "2026-11-27T00:00:00Z");
  auto inside = s.gate(at("2026-11-28T12:00:00Z"));
  EXPECT_FALSE(inside.open);
  EXPECT_EQ(inside.reason, "Blackout");
  EXPECT_EQ(fmt(inside.opens_at), "2026-11-30T23:59:59Z");
  EXPECT_EQ(inside.message,
            "blackout \"Black Friday\" from 2026-11-27T00:00:00Z to 2026-11-30T23:59:59Z: no new batch starts before 2026-11-30T23:59:59Z");
  auto after = s.gate(at("2026-12-01T00:00:00Z"));
  EXPECT_TRUE(after.open);
  EXPECT_FALSE(after.closes_at) << "open for good";
}

TEST(CampaignSchedule, WeeknightSlotsInBerlin) {
  // Monday 2026-12-07; Berlin is UTC+1 in December.
  auto s = schedule(R"({"timeZone":"Europe/Berlin","allowed":[{"cron":"0 22 * * 1-5","duration":"6h"}]})");
  auto monday_night = s.gate(at("2026-12-07T22:00:00Z"));
  EXPECT_TRUE(monday_night.open);
  EXPECT_EQ(fmt(monday_night.closes_at), "2026-12-08T03:00:00Z");  // 04:00 Berlin
  auto tuesday_noon = s.gate(at("2026-12-08T11:00:00Z"));
  EXPECT_FALSE(tuesday_noon.open);
  EXPECT_EQ(tuesday_noon.reason, "OutsideSchedule");
  EXPECT_EQ(fmt(tuesday_noon.opens_at), "2026-12-08T21:00:00Z");
  EXPECT_EQ(tuesday_noon.message,
            "outside the allowed slots (\"0 22 * * 1-5\" in Europe/Berlin): no new batch starts before 2026-12-08T21:00:00Z");
  // Friday's slot runs into Saturday morning; Saturday afternoon waits for Monday night.
  EXPECT_TRUE(s.gate(at("2026-12-12T02:59:00Z")).open);
  EXPECT_EQ(fmt(s.gate(at("2026-12-12T12:00:00Z")).opens_at), "2026-12-14T21:00:00Z");
  // The slot's first and last instants: [start, start + duration).
  EXPECT_TRUE(s.gate(at("2026-12-07T21:00:00Z")).open);
  EXPECT_FALSE(s.gate(at("2026-12-08T03:00:00Z")).open);
}

TEST(CampaignSchedule, SlotsAcrossDaylightSavingTime) {
  // Berlin springs forward on 2026-03-29 at 02:00: a 02:30 slot runs at 03:30 CEST that day.
  auto berlin = schedule(R"({"timeZone":"Europe/Berlin","allowed":[{"cron":"30 2 * * *","duration":"1h"}]})");
  auto days = berlin.open_intervals(at("2026-03-28T00:00:00Z"), at("2026-03-31T00:00:00Z"));
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(fmt(days[0].start), "2026-03-28T01:30:00Z");  // 02:30 CET
  EXPECT_EQ(fmt(days[1].start), "2026-03-29T01:30:00Z");  // 03:30 CEST (02:30 does not exist)
  EXPECT_EQ(fmt(days[2].start), "2026-03-30T00:30:00Z");  // 02:30 CEST
  for (const auto& d : days) EXPECT_EQ(d.end - d.start, 1h) << "a slot's duration is real time";
  // ... and falls back on 2026-10-25 at 03:00: 02:30 happens twice, the slot runs once, at the first.
  auto fall = berlin.open_intervals(at("2026-10-25T00:00:00Z"), at("2026-10-26T00:00:00Z"));
  ASSERT_EQ(fall.size(), 1u);
  EXPECT_EQ(fmt(fall[0].start), "2026-10-25T00:30:00Z");  // 02:30 CEST
  // A 22:00 slot of 6h across the spring-forward night ends 6 real hours later (05:00 CEST).
  auto night = schedule(R"({"timeZone":"Europe/Berlin","allowed":[{"cron":"0 22 * * *","duration":"6h"}]})");
  EXPECT_EQ(fmt(night.gate(at("2026-03-28T21:00:00Z")).closes_at), "2026-03-29T03:00:00Z");

  // New York springs forward on 2026-03-08 and falls back on 2026-11-01.
  auto ny = schedule(R"({"timeZone":"America/New_York","allowed":[{"cron":"30 2 * * *","duration":"30m"}]})");
  auto spring = ny.open_intervals(at("2026-03-07T00:00:00Z"), at("2026-03-09T00:00:00Z"));
  ASSERT_EQ(spring.size(), 2u);
  EXPECT_EQ(fmt(spring[0].start), "2026-03-07T07:30:00Z");  // 02:30 EST
  EXPECT_EQ(fmt(spring[1].start), "2026-03-08T07:30:00Z");  // 03:30 EDT
  auto ny_fall = schedule(R"({"timeZone":"America/New_York","allowed":[{"cron":"30 1 * * *","duration":"1h"}]})");
  auto autumn = ny_fall.open_intervals(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z"));
  ASSERT_EQ(autumn.size(), 1u) << "01:30 happens twice; the slot runs once";
  EXPECT_EQ(fmt(autumn[0].start), "2026-11-01T05:30:00Z");  // 01:30 EDT, the first
}

TEST(CampaignSchedule, BlackoutsCutSlotsAndOverlappingSlotsJoin) {
  auto s = schedule(R"({"allowed":[{"cron":"0 0 * * *","duration":"4h"},{"cron":"0 3 * * *","duration":"3h"}],
                        "blackouts":[{"start":"2026-12-02T01:00:00Z","end":"2026-12-02T02:00:00Z"}]})");
  auto open = s.open_intervals(at("2026-12-01T00:00:00Z"), at("2026-12-03T00:00:00Z"));
  ASSERT_EQ(open.size(), 3u);
  EXPECT_EQ(fmt(open[0].start), "2026-12-01T00:00:00Z");
  EXPECT_EQ(fmt(open[0].end), "2026-12-01T06:00:00Z") << "00:00+4h and 03:00+3h are one stretch";
  EXPECT_EQ(fmt(open[1].end), "2026-12-02T01:00:00Z");
  EXPECT_EQ(fmt(open[2].start), "2026-12-02T02:00:00Z");
  EXPECT_EQ(s.open_time(at("2026-12-01T00:00:00Z"), at("2026-12-03T00:00:00Z")), 11h);
  auto g = s.gate(at("2026-12-02T01:30:00Z"));
  EXPECT_EQ(g.reason, "Blackout");
  EXPECT_EQ(g.message, "blackout from 2026-12-02T01:00:00Z to 2026-12-02T02:00:00Z: no new batch starts before 2026-12-02T02:00:00Z");
}

TEST(CampaignSchedule, WorkIsLaidIntoOpenTimeOnly) {
  // One hour a day from 02:00: 2.5 hours of work started just before Tuesday's slot ends in
  // Thursday's, half an hour in.
  auto s = schedule(R"({"allowed":[{"cron":"0 2 * * *","duration":"1h"}]})");
  EXPECT_EQ(fmt(s.finish_after(at("2026-12-08T01:00:00Z"), 150min)), "2026-12-10T02:30:00Z");
  // Started inside a slot, the slot's rest counts first.
  EXPECT_EQ(fmt(s.finish_after(at("2026-12-08T02:30:00Z"), 1h)), "2026-12-09T02:30:00Z");
  EXPECT_EQ(fmt(s.finish_after(at("2026-12-08T02:30:00Z"), 0s)), "2026-12-08T02:30:00Z");
  // Without slots or blackouts, work takes its own time.
  auto always = schedule(R"({})");
  EXPECT_EQ(fmt(always.finish_after(at("2026-12-08T02:30:00Z"), 5h)), "2026-12-08T07:30:00Z");
  // A schedule that never opens again gives no end.
  auto never = schedule(R"({"allowed":[{"cron":"0 0 30 2 *","duration":"1h"}]})");
  EXPECT_FALSE(never.finish_after(at("2026-12-08T00:00:00Z"), 1h));
  EXPECT_FALSE(never.gate(at("2026-12-08T00:00:00Z")).opens_at);
  EXPECT_NE(never.gate(at("2026-12-08T00:00:00Z")).message.find("does not open again within five years"), std::string::npos);
}

}  // namespace
}  // namespace nonevent::controllers
