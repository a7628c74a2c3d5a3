// The eviction subresource's PDB lookup: it must find exactly the PDBs a full scan of the
// namespace would, through creates, selector changes, deletions and a restarted server.
#include <gtest/gtest.h>

#include "sim/json_util.h"
#include "sim/object_store.h"
#include "sim/pdb_selector_index.h"

namespace nonevent::sim {
namespace {

using web::json::value;

value pdb(const std::string& ns, const std::string& name, const std::string& selector_json) {
  return value::parse(R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":")" + name +
                      R"(","namespace":")" + ns + R"("},"spec":{"maxUnavailable":1)" +
                      (selector_json.empty() ? "" : R"(,"selector":)" + selector_json) + "}}");
}

constexpr const char* kPdbs = "policy/poddisruptionbudgets";

TEST(PdbSelectorIndex, FindsWhatAScanWouldThroughChanges) {
  ObjectStore store;
  ASSERT_TRUE(store.create(kPdbs, pdb("shop", "web", R"({"matchLabels":{"app":"web"}})")).ok());
  auto index = PdbSelectorIndex::attach(store);  // a PDB that was there before
  ASSERT_TRUE(store.create(kPdbs, pdb("shop", "tier", R"({"matchExpressions":[{"key":"tier","operator":"Exists"}]})")).ok());
  ASSERT_TRUE(store.create(kPdbs, pdb("shop", "none", "")).ok());  // nil selector: selects nothing
  ASSERT_TRUE(store.create(kPdbs, pdb("other", "web", R"({"matchLabels":{"app":"web"}})")).ok());

  const StringMap web{{"app", "web"}, {"tier", "front"}};
  EXPECT_EQ(index->matching("shop", web), (std::vector<std::string>{"tier", "web"}));
  EXPECT_EQ(index->matching("shop", {{"app", "db"}}), std::vector<std::string>{});
  EXPECT_EQ(index->matching("other", web), std::vector<std::string>{"web"});

  // The selector changes: the PDB is found under its new label only.
  auto changed = json::get_object(store, kPdbs, "shop", "web");
  changed["spec"]["selector"] = value::parse(R"({"matchLabels":{"app":"db"}})");
  ASSERT_TRUE(store.update(kPdbs, changed).ok());
  EXPECT_EQ(index->matching("shop", {{"app", "db"}}), std::vector<std::string>{"web"});
  EXPECT_EQ(index->matching("shop", web), std::vector<std::string>{"tier"});

  ASSERT_TRUE(store.remove(kPdbs, "shop", "tier").ok());
  EXPECT_EQ(index->matching("shop", web), std::vector<std::string>{});
}

TEST(PdbSelectorIndex, ADestroyedIndexStopsListening) {
  ObjectStore store;
  auto index = PdbSelectorIndex::attach(store);
  index.reset();  // the API server restarted; the store lives on
  EXPECT_TRUE(store.create(kPdbs, pdb("shop", "web", R"({"matchLabels":{"app":"web"}})")).ok());
  auto again = PdbSelectorIndex::attach(store);
  EXPECT_EQ(again->matching("shop", {{"app", "web"}}), std::vector<std::string>{"web"});
}

}  // namespace
}  // namespace nonevent::sim
