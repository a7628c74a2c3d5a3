// The operator's log lines (kube/log.h): levels filter, text quotes what needs quoting, JSON
// escapes, one line each.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "kube/log.h"

namespace nonevent::logging {
namespace {

std::string capture(const std::function<void()>& f) {
  ::testing::internal::CaptureStderr();
  f();
  return ::testing::internal::GetCapturedStderr();
}

TEST(Log, TextLinesCarryLevelLoggerMessageAndQuotedFields) {
  configure(Level::kInfo, Format::kText);
  const auto out = capture([] { info("drain", "evicted", {{"pod", "shop/web-1"}, {"why", R"(a "quoted" word)"}}); });
  EXPECT_NE(out.find(R"( level=info logger=drain msg=evicted pod=shop/web-1 why="a \"quoted\" word")"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(Log, LevelsFilter) {
  configure(Level::kWarn, Format::kText);
  EXPECT_EQ(capture([] { info("x", "hidden"); }), "");
  EXPECT_NE(capture([] { warn("x", "shown"); }).find("level=warn"), std::string::npos);
  configure(Level::kDebug, Format::kText);
  EXPECT_NE(capture([] { debug("x", "shown"); }).find("level=debug"), std::string::npos);
  Level l;
  EXPECT_TRUE(parse_level("warning", l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(parse_level("loud", l));
  configure(Level::kInfo, Format::kText);
}

TEST(Log, JsonLinesAreOneObjectWithEscapedStrings) {
  configure(Level::kInfo, Format::kJson);
  const auto out = capture([] { error("operator", "exiting 1: \"lost\"\nleadership", {{"lease", "ns/l"}}); });
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), '{');
  EXPECT_NE(out.find(R"("level":"error","logger":"operator","msg":"exiting 1: \"lost\"\nleadership","lease":"ns/l"})"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  configure(Level::kInfo, Format::kText);
}

}  // namespace
}  // namespace nonevent::logging
