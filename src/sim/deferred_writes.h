#pragma once
// Writes a controller hands off without waiting for their answers, as kube-scheduler binds a
// pod asynchronously once it has assumed it on a node: whichever of a pass's threads is free
// runs them, and all have run before the pass ends. At boot the scheduler's pass places
// 150,000 pods while the stepping thread has nothing else to do; it now makes the bindings.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "sim/spin_wait.h"

namespace nonevent::sim {

class DeferredWrites {
 public:
  // A pass begins: `producers` threads may add until each calls finish_and_drain().
  void start(int producers) {
    std::lock_guard g(mu_);
    producers_ = producers;
  }
  void add(std::function<void()> job) {
    {
      std::lock_guard g(mu_);
      jobs_.push_back(std::move(job));
      events_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_one();
  }
  // The calling thread adds no more; it runs jobs until none are queued and no thread can
  // add another. While it waits for another thread to finish, it does `idle_work` (work
  // that needs no one to wake it: it returns false when it found nothing to do, and is
  // asked again after a short wait).
  void finish_and_drain(const std::function<bool()>& idle_work = {}) {
    std::unique_lock l(mu_);
    events_.fetch_add(1, std::memory_order_release);
    if (--producers_ == 0) cv_.notify_all();
    for (;;) {
      if (!jobs_.empty()) {
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        l.unlock();
        job();
        l.lock();
        continue;
      }
      if (producers_ <= 0) return;
      if (!idle_work) {
        cv_.wait(l);
        continue;
      }
      const uint64_t seen = events_.load(std::memory_order_relaxed);
      l.unlock();
      if (!idle_work()) {
        // Nothing to do: look again when a job is added or a thread finishes, or in 50 us.
        // Spinning, not a timed wait on cv_: the wait is short, this thread has nothing
        // else to do, and a futex sleep and wake-up for each look cost more than the look.
        spin_until([&] { return events_.load(std::memory_order_acquire) != seen; }, std::chrono::microseconds(50));
      }
      l.lock();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  int producers_ = 0;                       // guarded by mu_
  std::atomic<uint64_t> events_{0};         // bumped (under mu_) by add() and each finish: spun on
};

}  // namespace nonevent::sim
