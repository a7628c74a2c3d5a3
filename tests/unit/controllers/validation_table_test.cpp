// The operator's own check of every invalid spec in tests/fixtures/invalid-specs.yaml: each is
// refused (nothing would be touched) with a problem naming the table's field. Those problems
// are the InvalidSpec condition and Event (patch_campaign.cpp, maintenance_window.cpp), and
// `nonevent plan` prints the same; tests/e2e/crds_test.sh feeds the same table to kubectl and plan.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "controllers/campaign_spec.h"
#include "controllers/window_spec.h"
#include "sim/yaml_json.h"

namespace nonevent::controllers {
namespace {

TEST(ValidationTable, TheOperatorRefusesEveryInvalidSpecNamingItsField) {
  std::ifstream in(std::string(NONEVENT_SOURCE_DIR) + "/tests/fixtures/invalid-specs.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const auto docs = sim::parse_yaml_documents(text.str());
  ASSERT_EQ(docs.size(), 1u);
  ASSERT_GE(docs[0].size(), 10u);
  for (const auto& c : docs[0].as_array()) {
    const auto field = c.at("field").as_string();
    const auto& obj = c.at("object");
    const auto name = obj.at("metadata").at("name").as_string();
    std::vector<std::string> problems;
    bool refused = false;
    if (obj.at("kind").as_string() == "PatchCampaign") {
      auto p = parse_campaign_spec(obj.at("spec"));
      refused = !p.spec;
      problems = p.problems;
    } else {
      auto p = parse_window_spec(obj.at("spec"));
      refused = !p.spec;
      problems = p.problems;
    }
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    EXPECT_TRUE(refused) << name << " (" << c.at("why").as_string() << ") was accepted";
    EXPECT_NE(all.find(field), std::string::npos) << name << ": no problem names " << field << ":\n" << all;
  }
}

}  // namespace
}  // namespace nonevent::controllers
