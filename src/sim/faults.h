#pragma once
// Fault injection for the embedded API server: answer a fraction of requests (by verb and
// resource) with 5xx, 429 or 409, add latency. Dropped watches and forced compaction are
// actions on the store and the HTTP server (see ApiServer::drop_watches / ObjectStore::compact).
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace nonevent::sim {

struct FaultRule {
  std::string verb = "*";      // get, list, watch, create, update, patch, delete, or *
  std::string resource = "*";  // pods, pods/eviction, nodes/status, ... or *
  int code = 500;              // 500, 503, 429 (with Retry-After: 1) or 409
  double rate = 0;             // fraction of matching requests, 0..1
  std::chrono::milliseconds latency{0};  // added to matching requests
};

// Parses "verb=patch,resource=pods,code=500,rate=0.1,latency=20ms"; errors name the field.
std::optional<FaultRule> parse_fault_rule(const std::string& text, std::string& error);

// Thread-safe.
class FaultInjector {
 public:
  explicit FaultInjector(uint64_t seed = 1) : rng_(seed) {}
  void set_rules(std::vector<FaultRule> rules);
  std::vector<FaultRule> rules() const;
  struct Decision {
    std::chrono::milliseconds latency{0};
    int code = 0;  // 0: no injected error
  };
  Decision decide(const std::string& verb, const std::string& resource);
  long injected() const;

 private:
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;  // guarded by mu_
  std::mt19937_64 rng_;           // guarded by mu_
  long injected_ = 0;             // guarded by mu_
};

}  // namespace nonevent::sim
