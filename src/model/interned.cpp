#include "model/interned.h"

#include <algorithm>
#include <array>

namespace nonevent::model {

namespace {
// Sharded so decoding threads rarely contend.
struct Shard {
  std::mutex mu;
  std::unordered_set<std::string> strings;
};
std::array<Shard, 16>& shards() {
  static std::array<Shard, 16> s;
  return s;
}
const std::string* intern(std::string_view s) {
  auto& shard = shards()[std::hash<std::string_view>{}(s) & 15];
  std::lock_guard g(shard.mu);
  return &*shard.strings.emplace(s).first;
}
const std::string* empty_string() {
  static const std::string* e = intern("");
  return e;
}
}  // namespace

IStr::IStr() : p_(empty_string()) {}
IStr::IStr(std::string_view s) : p_(s.empty() ? empty_string() : intern(s)) {}

const IStr* find_label(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first.view() < k; });
  if (it == labels.end() || it->first.view() != key) return nullptr;
  return &it->second;
}

}  // namespace nonevent::model
