// model::parse_json must give the same DOM as cpprest's parser for every valid document the
// embedded cluster stores (it replaced that parser on the hot path), and refuse what is not JSON.
#include <gtest/gtest.h>  // before cpprest, whose U() macro breaks gtest's headers

#include <string>

#include "model/json_parse.h"

namespace nonevent::model {
namespace {

using web::json::value;

void expect_same_as_cpprest(const std::string& text) {
  std::error_code ours_ec, theirs_ec;
  const value ours = parse_json(text, ours_ec);
  const value theirs = value::parse(text, theirs_ec);
  ASSERT_FALSE(theirs_ec) << text;
  ASSERT_FALSE(ours_ec) << text;
  EXPECT_EQ(ours.serialize(), theirs.serialize()) << text;
  EXPECT_EQ(ours.type(), theirs.type()) << text;
}

TEST(ParseJson, GivesCpprestsDomForKubernetesObjects) {
  expect_same_as_cpprest(R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"team-a",)"
                         R"("labels":{"app":"web","z":"1"},"ownerReferences":[{"uid":"u-1","controller":true}]},)"
                         R"("spec":{"nodeName":"","containers":[{"name":"c","resources":{"requests":{"cpu":"100m"}}}],)"
                         R"("terminationGracePeriodSeconds":30},"status":{"phase":"Pending","conditions":[]}})");
  // Members come out sorted by key, as cpprest's parser sorts them.
  std::error_code ec;
  EXPECT_EQ(parse_json(R"({"b":1,"a":2,"c":{"y":true,"x":null}})", ec).serialize(), R"({"a":2,"b":1,"c":{"x":null,"y":true}})");
}

TEST(ParseJson, KeepsNumbersStringsAndEscapes) {
  expect_same_as_cpprest(R"({"i":-42,"u":18446744073709551615,"d":0.25,"e":1e3,"big":9007199254740993,"zero":0})");
  expect_same_as_cpprest(R"({"s":"quote \" backslash \\ tab \t newline \n unicode \u00e9 \ud83d\ude00 slash \/"})");
  expect_same_as_cpprest(R"(["a",1,true,false,null,[],{},[[{"k":"v"}]]])");
  // cpprest is told whether a string needs escaping (its serialize() relies on that).
  expect_same_as_cpprest(R"({"late":"a plain run of words, then a \" quote","tail":"0123456789abcdef\n","clean":"0123456789abcdefgh"})");
  expect_same_as_cpprest(R"("just a string")");
  expect_same_as_cpprest("  {\n  \"spaced\" : [ 1 , 2 ]\n}\n");
  std::error_code ec;
  const auto v = parse_json(R"({"n":5,"neg":-5,"f":1.5})", ec);
  EXPECT_TRUE(v.at("n").is_integer());
  EXPECT_EQ(v.at("n").as_number().to_int64(), 5);
  EXPECT_EQ(v.at("neg").as_number().to_int64(), -5);
  EXPECT_FALSE(v.at("f").is_integer());
  EXPECT_DOUBLE_EQ(v.at("f").as_double(), 1.5);
}

TEST(ParseJson, RefusesWhatIsNotJson) {
  for (const char* bad : {"", "{", R"({"a":})", R"({"a":1,})", "[1,2", "nul", R"({"a":1} trailing)", "{'a':1}", "\"\xff\""}) {
    std::error_code ec;
    parse_json(bad, ec);
    EXPECT_TRUE(ec) << bad;
  }
}

TEST(ParseJson, ReadsOneMemberAsTheWholeParseWouldHaveIt) {
  const std::string pdb = R"({"metadata":{"name":"web"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"b":"2","a":"1"}}}})";
  std::error_code ec;
  const value whole = parse_json(pdb, ec);
  EXPECT_EQ(parse_json_member(pdb, {"spec", "selector"}, ec), whole.at("spec").at("selector"));
  EXPECT_FALSE(ec);
  EXPECT_EQ(parse_json_member(pdb, {}, ec), whole);
  // Absent, or under something that is not an object: null, and not an error.
  EXPECT_TRUE(parse_json_member(pdb, {"spec", "minAvailable"}, ec).is_null());
  EXPECT_TRUE(parse_json_member(pdb, {"spec", "maxUnavailable", "x"}, ec).is_null());
  EXPECT_FALSE(ec);
  parse_json_member("{", {"spec"}, ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace nonevent::model
