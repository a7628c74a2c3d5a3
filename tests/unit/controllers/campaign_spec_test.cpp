// The operator's own check of a PatchCampaign spec: the same rules the CRD's schema and CEL
// enforce at admission (a CRD can be installed without them; bad input must never half-run),
// each problem naming its field.
#include <gtest/gtest.h>

#include "controllers/campaign_spec.h"

namespace nonevent::controllers {
namespace {

ParsedCampaign parse(const std::string& strategy) {
  std::error_code ec;
  auto spec = web::json::value::parse(R"({"target":{"version":"v2"},"strategy":)" + strategy + "}", ec);
  return parse_campaign_spec(spec);
}

std::string problems(const ParsedCampaign& p) {
  std::string out;
  for (const auto& s : p.problems) out += s + "\n";
  return out;
}

TEST(CampaignSpec, MaxUnavailableIsBoundedAsTheCrdBoundsIt) {
  for (const char* bad : {R"("150%")", R"("101%")", "100000", "-1", R"("ten")"}) {
    auto p = parse(std::string(R"({"type":"External","maxUnavailable":)") + bad + "}");
    EXPECT_FALSE(p.spec) << bad;
    EXPECT_NE(problems(p).find("spec.strategy.maxUnavailable: must be an integer from 0 to 10000 or a percentage"), std::string::npos)
        << bad << ": " << problems(p);
  }
  for (const char* good : {R"("100%")", "10000", R"("0%")", "1"}) {
    auto p = parse(std::string(R"({"type":"Replace","maxSurge":1,"maxUnavailable":)") + good + "}");
    EXPECT_TRUE(p.spec) << good << ": " << problems(p);
  }
}

TEST(CampaignSpec, NoBudgetAtAllIsRefused) {
  auto p = parse(R"({"type":"Replace","maxUnavailable":0,"maxSurge":"0%"})");
  EXPECT_FALSE(p.spec);
  EXPECT_NE(problems(p).find("spec.strategy.maxUnavailable: must be more than 0"), std::string::npos) << problems(p);
}

TEST(CampaignSpec, AnUnknownStrategyIsTheOnlyProblemNamed) {
  auto p = parse(R"({"type":"Yolo"})");
  EXPECT_FALSE(p.spec);
  EXPECT_EQ(problems(p), "spec.strategy.type: must be InPlace, Replace or External\n");
}

TEST(CampaignSpec, StrategiesAndNodeStatesRoundTrip) {
  for (auto s : {Strategy::kInPlace, Strategy::kReplace, Strategy::kExternal}) EXPECT_EQ(parse_strategy(to_string(s)), s);
  EXPECT_EQ(parse_strategy("inplace"), std::nullopt);
}

}  // namespace
}  // namespace nonevent::controllers
