// model::to_json must write exactly what cpprest's value::serialize() writes (it replaced it
// where the embedded cluster stores objects), for every kind of value and every character.
#include <gtest/gtest.h>  // before cpprest, whose U() macro breaks gtest's headers

#include <cstdint>
#include <limits>
#include <string>

#include "model/json_write.h"

namespace nonevent::model {
namespace {

using web::json::value;

void expect_as_cpprest(const value& v) { EXPECT_EQ(to_json(v), v.serialize()); }

TEST(ToJson, WritesKubernetesObjectsAsCpprestDoes) {
  const auto pod = value::parse(
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"team-a","labels":{"app":"web"},)"
      R"("ownerReferences":[{"uid":"u-1","controller":true,"blockOwnerDeletion":false}],"generation":3},)"
      R"("spec":{"nodeName":"","containers":[{"name":"c","resources":{"requests":{"cpu":"100m"}}}],"tolerations":[],)"
      R"("terminationGracePeriodSeconds":30,"priority":null},"status":{"phase":"Pending","conditions":[{}]}})");
  expect_as_cpprest(pod);
  EXPECT_EQ(to_json(value::parse(R"({"b":[1,{"c":null}],"a":{}})")), R"({"a":{},"b":[1,{"c":null}]})");
}

TEST(ToJson, EscapesEveryCharacterAsCpprestDoes) {
  std::string all;
  for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "caf\xc3\xa9 \xe2\x9c\x93";  // UTF-8 goes through as it is
  expect_as_cpprest(value::string(all));
  value keyed = value::object();
  keyed[all] = value::string("\"quoted\" \\ \n");  // keys are escaped too
  expect_as_cpprest(keyed);
  EXPECT_EQ(to_json(value::string("a\"b\\c\n\x01")), R"("a\"b\\c\n\u0001")");
}

TEST(ToJson, FindsACharacterToEscapeAnywhereInALongString) {
  // Strings are looked at eight bytes at a time: every such character at every offset of
  // the first words, among plain ASCII and among UTF-8 bytes (which need no escape).
  for (const std::string& filler : {std::string(24, 'a'), std::string(12, '\xc3') + std::string(12, '\xa9')})
    for (int c = 0; c < 256; ++c)
      for (size_t at = 0; at < filler.size(); ++at) {
        std::string s = filler;
        s[at] = static_cast<char>(c);
        if (c == 0) s.erase(at, 1);  // cpprest stops at a NUL; no object has one
        const value v = value::string(s);
        ASSERT_EQ(to_json(v), v.serialize()) << "character " << c << " at " << at;
      }
}

TEST(ToJson, WritesNumbersAsCpprestDoes) {
  for (const value& n : {value::number(0), value::number(-1), value::number(int64_t{42}),
                         value::number(std::numeric_limits<int64_t>::min()), value::number(std::numeric_limits<int64_t>::max()),
                         value::number(std::numeric_limits<uint64_t>::max()), value::number(0.1), value::number(3.0),
                         value::number(-2.5e-10), value::number(1e300), value::number(123456789.125)})
    expect_as_cpprest(n);
  expect_as_cpprest(value::parse(R"([1,-2,3.5,1e5,18446744073709551615,true,false,null])"));
}

}  // namespace
}  // namespace nonevent::model
