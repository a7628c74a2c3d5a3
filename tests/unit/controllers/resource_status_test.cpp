// The status writer's merge patch: fields the new status lacks are removed at every depth.
#include "controllers/resource_status.h"

#include <gtest/gtest.h>

namespace nonevent::controllers {
namespace {

using web::json::value;

TEST(MergePatchTo, NullsWhatTheTargetLacksAtEveryDepth) {
  const value current = value::parse(R"({"phase":"Progressing","failurePause":{"generation":2},
      "schedule":{"state":"Blackout","message":"blackout until 02:00","opensAt":"2026-12-01T02:00:00Z"},
      "zones":[{"zone":"a","heldBy":"x"}]})");
  const value target = value::parse(R"({"phase":"Progressing","schedule":{"state":"Open"},"zones":[{"zone":"a"}]})");
  const value patch = merge_patch_to(current, target);
  EXPECT_EQ(patch.serialize(),
            value::parse(R"({"phase":"Progressing","failurePause":null,"schedule":{"state":"Open","message":null,"opensAt":null},
                             "zones":[{"zone":"a"}]})").serialize());
  // Objects replacing scalars (and the reverse) are taken whole.
  EXPECT_EQ(merge_patch_to(value::parse(R"({"a":1})"), value::parse(R"({"a":{"b":1}})")).serialize(), R"({"a":{"b":1}})");
  EXPECT_EQ(merge_patch_to(value::parse(R"({"a":{"b":1}})"), value::parse(R"({"a":2})")).serialize(), R"({"a":2})");
}

}  // namespace
}  // namespace nonevent::controllers
