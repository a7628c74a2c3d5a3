// The simulated controllers' readers over web::json values (json_util.h).
#include <gtest/gtest.h>

#include "sim/json_util.h"

namespace nonevent::sim {
namespace {

using web::json::value;

TEST(JsonUtil, FindsMembersByKeyWhateverTheirLengthOrOrder) {
  value o = value::parse(R"({"b":1,"a":{"lastTransitionTime":"t","x":[1]},"deletionGracePeriodSeconds":30,"z":null})");
  ASSERT_NE(json::at(o, {"b"}), nullptr);
  EXPECT_EQ(json::num(o, {"b"}), 1);
  EXPECT_EQ(json::str(o, {"a", "lastTransitionTime"}), "t") << "a key longer than a short string";
  EXPECT_EQ(json::num(o, {"deletionGracePeriodSeconds"}), 30);
  ASSERT_NE(json::at(o, {"z"}), nullptr);
  EXPECT_TRUE(json::at(o, {"z"})->is_null());
  EXPECT_EQ(json::at(o, {"c"}), nullptr);
  EXPECT_EQ(json::at(o, {"a", "x", "y"}), nullptr) << "not an object on the way";
  EXPECT_EQ(json::at(o, {"a", "lastTransition"}), nullptr) << "a prefix is not the key";
  // An object that keeps its members' order (cpprest sorts them otherwise) is searched too.
  value kept = value::object(true);
  kept["zeta"] = value::number(1);
  kept["alpha"] = value::number(2);
  kept["mid"] = value::number(3);
  EXPECT_EQ(json::num(kept, {"alpha"}, -1), 2);
  EXPECT_EQ(json::num(kept, {"zeta"}, -1), 1);
  EXPECT_EQ(json::num(kept, {"mid"}, -1), 3);
  EXPECT_EQ(json::at(kept, {"beta"}), nullptr);
}

}  // namespace
}  // namespace nonevent::sim
