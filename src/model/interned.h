#pragma once
// Compactness for caches of 150,000 pods: strings that repeat across objects (namespaces,
// label keys and values, node names, owner names) are stored once and referred to by an
// 8-byte handle; identical label sets and pod templates are shared between pods.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nonevent::model {

// A handle to an interned string. Interned strings live for the process (their number is
// bounded by the distinct values in the cluster). Equality is pointer equality.
class IStr {
 public:
  IStr();
  explicit IStr(std::string_view s);
  std::string_view view() const { return *p_; }
  const std::string& str() const { return *p_; }
  bool empty() const { return p_->empty(); }
  bool operator==(const IStr& o) const { return p_ == o.p_; }
  bool operator==(std::string_view s) const { return *p_ == s; }
  bool operator<(const IStr& o) const { return *p_ < *o.p_; }

 private:
  const std::string* p_;
};

using Labels = std::vector<std::pair<IStr, IStr>>;  // sorted by key
const IStr* find_label(const Labels& labels, std::string_view key);
// The same by an interned key: compares addresses, not bytes (the scheduler's hot lookups of
// the topology key on every node it filters).
const IStr* find_label(const Labels& labels, const IStr& key);

// Deduplicates immutable values by a byte key (e.g. their raw JSON). Entries die with the
// last object that uses them. Thread-safe.
template <class V>
class SharedPool {
 public:
  std::shared_ptr<const V> get(std::string_view key, const std::function<V()>& make) {
    std::lock_guard g(mu_);
    auto it = pool_.find(key);
    if (it != pool_.end()) {
      if (auto sp = it->second.lock()) return sp;
      pool_.erase(it);
    }
    auto sp = std::make_shared<const V>(make());
    pool_.emplace(std::string(key), sp);
    if (pool_.size() > 2 * live_check_) prune();
    return sp;
  }
  size_t size() const {
    std::lock_guard g(mu_);
    return pool_.size();
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void prune() {
    for (auto it = pool_.begin(); it != pool_.end();)
      it = it->second.expired() ? pool_.erase(it) : std::next(it);
    live_check_ = std::max<size_t>(1024, pool_.size());
  }
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const V>, Hash, std::equal_to<>> pool_;
  size_t live_check_ = 1024;
};

// A fast 64-bit hash of a sequence of byte pieces (word at a time; not cryptographic):
// dedup keys are hashed where they lie instead of being copied into one string first.
class PieceHasher {
 public:
  void add(std::string_view piece);
  uint64_t value() const { return h_ ^ (h_ >> 29); }

 private:
  uint64_t h_ = 0x9E3779B97F4A7C15ULL;
};

}  // namespace nonevent::model
