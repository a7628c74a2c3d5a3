#include "model/interned.h"

#include <algorithm>
#include <array>
#include <cstring>

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
const std::string* intern_slow(std::string_view s, size_t h) {
  auto& shard = shards()[h & 15];
  std::lock_guard g(shard.mu);
  return &*shard.strings.emplace(s).first;
}
// Decoding interns several strings per object; a small per-thread direct-mapped cache in
// front of the shared set avoids its lock for the values seen over and over.
const std::string* intern(std::string_view s) {
  constexpr size_t kSlots = 1 << 16;  // 512 KB a thread: node and owner names of a big cluster fit
  thread_local std::array<const std::string*, kSlots> cache{};
  const size_t h = std::hash<std::string_view>{}(s);
  const std::string*& slot = cache[(h >> 4) & (kSlots - 1)];
  if (slot && *slot == s) return slot;
  slot = intern_slow(s, h);
  return slot;
}
const std::string* empty_string() {
  static const std::string* e = intern("");
  return e;
}
}  // namespace

IStr::IStr() : p_(empty_string()) {}
IStr::IStr(std::string_view s) : p_(s.empty() ? empty_string() : intern(s)) {}

void PieceHasher::add(std::string_view piece) {
  // Four independent lanes so the multiplies overlap (about 4x a single chain).
  constexpr uint64_t kMul = 0xff51afd7ed558ccdULL;
  const char* p = piece.data();
  size_t n = piece.size();
  uint64_t a = h_, b = h_ ^ 0x632be59bd9b4e019ULL, c = h_ + kMul, d = ~h_;
  while (n >= 32) {
    uint64_t w[4];
    std::memcpy(w, p, 32);
    a = (a ^ w[0]) * kMul;
    b = (b ^ w[1]) * kMul;
    c = (c ^ w[2]) * kMul;
    d = (d ^ w[3]) * kMul;
    a ^= a >> 29;
    b ^= b >> 29;
    c ^= c >> 29;
    d ^= d >> 29;
    p += 32;
    n -= 32;
  }
  uint64_t h = a ^ (b * 31) ^ (c * 131) ^ (d * 1031);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail ^ (static_cast<uint64_t>(piece.size()) << 48)) * kMul;  // length marks boundaries
  h_ = h ^ (h >> 32);
}

const IStr* find_label(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first.view() < k; });
  if (it == labels.end() || it->first.view() != key) return nullptr;
  return &it->second;
}

const IStr* find_label(const Labels& labels, const IStr& key) {
  for (const auto& kv : labels)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

}  // namespace nonevent::model
