// The CEL subset the embedded API server evaluates for CRD x-kubernetes-validations: every
// rule our own CRDs carry, CEL's error absorption in && and ||, and the API's 422 for a
// MaintenanceWindow that breaks one.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim/api_server.h"
#include "sim/cel.h"
#include "sim/yaml_json.h"

namespace nonevent::sim {
namespace {

using web::json::value;

// Evaluates `rule` against the JSON `self`: "true", "false" or "error: <message>".
std::string judge(const std::string& rule, const std::string& self) {
  std::string err;
  auto p = cel::Program::compile(rule, err);
  if (!p) return "compile: " + err;
  auto r = p->evaluate(value::parse(self), err);
  return r ? (*r ? "true" : "false") : "error: " + err;
}

TEST(Cel, OurWindowRules) {
  const std::string one_off = R"({"start":"2026-12-01T02:00:00Z","end":"2026-12-01T06:00:00Z"})";
  const std::string backwards = R"({"start":"2026-12-01T06:00:00Z","end":"2026-12-01T02:00:00Z"})";
  const std::string recurring = R"({"schedule":"0 2 * * 6","duration":"4h"})";
  const std::string rule = "!has(self.start) || !has(self.end) || timestamp(self.start) < timestamp(self.end)";
  EXPECT_EQ(judge(rule, one_off), "true");
  EXPECT_EQ(judge(rule, backwards), "false");
  EXPECT_EQ(judge(rule, recurring), "true");
  EXPECT_EQ(judge("has(self.start) || has(self.schedule)", "{}"), "false");
  EXPECT_EQ(judge("!(has(self.start) && has(self.schedule))", R"({"start":"x","schedule":"y"})"), "false");
  EXPECT_EQ(judge("has(self.start) == has(self.end)", R"({"start":"x"})"), "false");
  EXPECT_EQ(judge("self.onBlocked != 'Force' || has(self.forceAfter)", R"({"onBlocked":"Force"})"), "false");
  EXPECT_EQ(judge("self.onBlocked != 'Force' || has(self.forceAfter)", R"({"onBlocked":"Force","forceAfter":"1h"})"), "true");
}

TEST(Cel, OurCampaignRules) {
  const std::string int_or_percent = "type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')";
  EXPECT_EQ(judge(int_or_percent, "3"), "true");
  EXPECT_EQ(judge(int_or_percent, "-1"), "false");
  EXPECT_EQ(judge(int_or_percent, R"("10%")"), "true");
  EXPECT_EQ(judge(int_or_percent, R"("ten")"), "false");
  EXPECT_EQ(judge("self.type == 'Replace' || self.maxSurge == 0", R"({"type":"InPlace","maxSurge":1})"), "false");
  EXPECT_EQ(judge("self.strategy.type != 'InPlace' || has(self.inPlace) && has(self.inPlace.jobTemplate)",
                  R"({"strategy":{"type":"InPlace"},"inPlace":{"timeout":"30m"}})"),
            "false");
  EXPECT_EQ(judge("!(self.target.source in ['Label', 'Annotation']) || size(self.target.key) > 0",
                  R"({"target":{"source":"Label","key":""}})"),
            "false");
  EXPECT_EQ(judge("!(self.target.source in ['Label', 'Annotation']) || size(self.target.key) > 0",
                  R"({"target":{"source":"OSImage"}})"),
            "true");
}

TEST(Cel, ErrorsAreAbsorbedOnlyWhereCelAbsorbsThem) {
  EXPECT_EQ(judge("self.missing == 1 || true", "{}"), "true");
  EXPECT_EQ(judge("false && self.missing == 1", "{}"), "false");
  EXPECT_EQ(judge("self.missing == 1 || false", "{}"), "error: no such key: missing");
  EXPECT_EQ(judge("self.a < 'x'", R"({"a":1})").rfind("error: no such overload", 0), 0u);
  EXPECT_EQ(judge("duration(self.d) < duration('1h')", R"({"d":"30m"})"), "true");
  EXPECT_EQ(judge("self.name.startsWith('pre') && self.name.size() == 6 && self.items[1] == 2", R"({"name":"prefix","items":[1,2]})"),
            "true");
  // Macros are outside the subset: all() parses as a method call and fails when evaluated.
  EXPECT_EQ(judge("self.items.all(x, x > 0)", R"({"items":[1]})").rfind("error", 0), 0u);
  EXPECT_EQ(judge("self.a +", "{}").rfind("compile", 0), 0u);
}

TEST(Cel, TheApiServerRefusesAWindowThatEndsBeforeItStarts) {
  auto store = std::make_shared<ObjectStore>();
  ApiServer api(store, kube::real_clock());
  std::ifstream crd(std::string(NONEVENT_SOURCE_DIR) + "/crds/maintenancewindows.nonevent.dev.yaml");
  std::stringstream text;
  text << crd.rdbuf();
  for (const auto& d : parse_yaml_documents(text.str())) ASSERT_LT(api.create_object(d).status, 300);
  auto window = [&](const std::string& name, const std::string& start, const std::string& end) {
    return parse_yaml_documents("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: " + name +
                                "}\nspec: {zones: [a], start: '" + start + "', end: '" + end + "'}\n")[0];
  };
  auto bad = api.create_object(window("backwards", "2026-12-01T06:00:00Z", "2026-12-01T02:00:00Z"));
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find(R"(spec.end: Invalid value: \"object\": end must be after start)"), std::string::npos) << bad.body;
  EXPECT_LT(api.create_object(window("forwards", "2026-12-01T02:00:00Z", "2026-12-01T06:00:00Z")).status, 300);
}

}  // namespace
}  // namespace nonevent::sim
