#pragma once
// A rate-limited work queue of string keys with client-go semantics:
//  - a key is never handed to two workers at once (processing set);
//  - a key added while it is being processed is processed once more after done() (dirty set);
//  - a key added many times before it is picked up is processed once (deduplication);
//  - add_rate_limited() delays by max(per-item exponential backoff 5 ms → 1000 s, an overall
//    token bucket of 10 qps / burst 100), forget() resets the item's backoff;
//  - add_after() adds later, on the injectable clock;
//  - shutdown() stops accepting keys; get() drains what is queued, then returns nullopt.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <deque>

#include "kube/clock.h"
#include "kube/rate_limiter.h"

namespace nonevent::kube {

struct WorkQueueOptions {
  std::string name = "queue";
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  double overall_qps = 10;
  int overall_burst = 100;
};

// Hooks for metrics (called with the queue's lock released).
struct WorkQueueHooks {
  std::function<void(size_t depth)> on_depth;
  std::function<void()> on_add;
  std::function<void()> on_retry;
};

// Thread-safe.
class WorkQueue {
 public:
  explicit WorkQueue(std::shared_ptr<Clock> clock, WorkQueueOptions opts = {}, WorkQueueHooks hooks = {});

  void add(const std::string& key);
  void add_after(const std::string& key, Duration delay);
  void add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;
  Duration next_backoff(const std::string& key) const;  // what add_rate_limited would wait now

  // Blocks until a key is ready or the queue is shut down and drained.
  std::optional<std::string> get();
  // Like get() but gives up at `deadline` (this queue's clock).
  std::optional<std::string> get_until(TimePoint deadline);
  void done(const std::string& key);

  void shutdown();
  bool shutting_down() const;
  size_t len() const;           // keys ready to be handed out
  size_t waiting() const;       // keys scheduled for later
  // Nothing ready, nothing being processed and nothing due now: what a harness that drives
  // virtual time waits for before moving the clock on.
  bool idle() const;
  std::optional<TimePoint> next_ready() const;
  const std::string& name() const { return opts_.name; }

 private:
  void add_locked(const std::string& key);
  void promote_due_locked();
  void report(size_t depth, bool added, bool retried);

  const std::shared_ptr<Clock> clock_;
  const WorkQueueOptions opts_;
  const WorkQueueHooks hooks_;
  TokenBucket overall_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                          // guarded by mu_
  std::unordered_set<std::string> dirty_;                  // guarded by mu_
  std::unordered_set<std::string> processing_;             // guarded by mu_
  std::multimap<TimePoint, std::string> delayed_;          // guarded by mu_
  std::unordered_map<std::string, TimePoint> delayed_at_;  // guarded by mu_: earliest per key
  std::unordered_map<std::string, int> failures_;          // guarded by mu_
  bool shutting_down_ = false;                             // guarded by mu_
};

}  // namespace nonevent::kube
