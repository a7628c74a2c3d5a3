#pragma once
// Per-object wake-ups for a simulated controller that reconciles only what changed or what
// came due: each key has at most one pending time (the latest request replaces it).
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kube/clock.h"

namespace nonevent::sim {

class KeyTimers {
 public:
  void at(const std::string& key, kube::TimePoint t) {
    cancel(key);
    by_key_[key] = by_time_.emplace(t, key);
  }
  void cancel(const std::string& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    by_time_.erase(it->second);
    by_key_.erase(it);
  }
  // The keys whose time has come (and forgets them).
  std::vector<std::string> take_due(kube::TimePoint now) {
    std::vector<std::string> out;
    while (!by_time_.empty() && by_time_.begin()->first <= now) {
      out.push_back(by_time_.begin()->second);
      by_key_.erase(by_time_.begin()->second);
      by_time_.erase(by_time_.begin());
    }
    return out;
  }
  // The time `key` is due, if it has one.
  std::optional<kube::TimePoint> earliest_for(const std::string& key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    return it->second->first;
  }
  std::optional<kube::TimePoint> earliest() const {
    if (by_time_.empty()) return std::nullopt;
    return by_time_.begin()->first;
  }

 private:
  std::multimap<kube::TimePoint, std::string> by_time_;
  std::unordered_map<std::string, std::multimap<kube::TimePoint, std::string>::iterator> by_key_;
};

}  // namespace nonevent::sim
