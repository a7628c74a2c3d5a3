#include "sim/pdb_selector_index.h"

#include "model/json_parse.h"
#include "sim/json_util.h"

namespace nonevent::sim {

namespace {
constexpr const char* kPdbs = "policy/poddisruptionbudgets";
}  // namespace

std::shared_ptr<PdbSelectorIndex> PdbSelectorIndex::attach(ObjectStore& store) {
  auto index = std::make_shared<PdbSelectorIndex>();
  std::weak_ptr<PdbSelectorIndex> weak = index;
  store.add_observer([weak](const Change& c) {
    if (c.resource != kPdbs) return;
    if (auto i = weak.lock()) i->changed(c);
  });
  // After registering: a PDB written in between is noted twice, harmlessly.
  if (auto listed = store.list({.resource = kPdbs}, 0, ""); listed.ok())
    for (const auto& o : listed.value().items) index->changed({ChangeType::kAdded, kPdbs, o, nullptr});
  return index;
}

void PdbSelectorIndex::changed(const Change& c) {
  std::lock_guard g(mu_);
  stale_[store_key(c.object->ns, c.object->name)] = c.type == ChangeType::kDeleted ? nullptr : c.object;
}

void PdbSelectorIndex::refresh() {
  for (auto& [key, latest] : stale_) {
    if (auto old = by_key_.find(key); old != by_key_.end()) {
      auto b = keys_by_bucket_.find(old->second.bucket);
      if (b != keys_by_bucket_.end() && b->second.erase(key) && b->second.empty()) keys_by_bucket_.erase(b);
      by_key_.erase(old);
    }
    if (!latest) continue;
    // Only the selector is decoded: most changes are the PDB's status, and building the whole
    // object for each was most of an eviction's lookup.
    std::error_code ec;
    const auto sel = model::parse_json_member(latest->json, {"spec", "selector"}, ec);
    Filed f;
    // A nil selector selects nothing; an empty one every pod of the namespace.
    if (!sel.is_null()) f.selector = json::selector_of(sel);
    f.bucket = f.selector ? label_index_key(latest->ns, *f.selector) : "";
    if (f.bucket.empty()) f.bucket = latest->ns;  // no label index key equals a bare namespace
    keys_by_bucket_[f.bucket].insert(key);
    by_key_.emplace(key, std::move(f));
  }
  stale_.clear();
}

std::vector<std::string> PdbSelectorIndex::matching(const std::string& ns, const StringMap& labels) {
  std::lock_guard g(mu_);
  refresh();
  std::vector<std::string> out;
  auto consider = [&](const std::string& bucket) {
    auto b = keys_by_bucket_.find(bucket);
    if (b == keys_by_bucket_.end()) return;
    for (const auto& key : b->second) {
      const auto& f = by_key_.at(key);
      if (f.selector && f.selector->matches(labels)) out.push_back(key.substr(key.find('/') + 1));
    }
  };
  consider(ns);
  for (const auto& [k, v] : labels) consider(label_index_key(ns, k, v));
  return out;
}

}  // namespace nonevent::sim
