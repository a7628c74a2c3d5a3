#pragma once
// A second thread for the simulation's passes: one job at a time, handed over and waited
// for. Kept alive across passes (there are tens of thousands of them in a big run, and a
// thread started for each would also start its allocator and interning caches from cold).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "sim/spin_wait.h"

namespace nonevent::sim {

class PassWorker {
 public:
  PassWorker() : thread_([this] { loop(); }) {}
  ~PassWorker() {
    {
      std::lock_guard g(mu_);
      stopping_ = true;
      stopping_flag_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
    thread_.join();
  }
  PassWorker(const PassWorker&) = delete;
  PassWorker& operator=(const PassWorker&) = delete;

  // Starts `job` on the worker; the previous job must have been waited for.
  void post(std::function<void()> job) {
    {
      std::lock_guard g(mu_);
      job_ = std::move(job);
      busy_ = true;
      posted_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }
  // Until the posted job has finished; rethrows what it threw.
  void wait() {
    spin_until([&] { return !posted_.load(std::memory_order_acquire); }, kSpin);
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !busy_; });
    if (auto e = std::exchange(error_, nullptr)) std::rethrow_exception(e);
  }

 private:
  // Handing a job over and back is a few microseconds apart most of the time (tens of
  // thousands of passes, two hand-overs each); sleeping for each was 4% of the simulation's
  // CPU. So each side looks this long before it sleeps.
  static constexpr std::chrono::microseconds kSpin{200};

  void loop() {
    std::unique_lock l(mu_);
    for (;;) {
      if (!stopping_ && !job_) {
        l.unlock();
        spin_until([&] { return posted_.load(std::memory_order_acquire) || stopping_flag_.load(std::memory_order_acquire); }, kSpin);
        l.lock();
      }
      cv_.wait(l, [&] { return stopping_ || job_; });
      if (stopping_) return;
      auto job = std::exchange(job_, nullptr);
      l.unlock();
      std::exception_ptr error;
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      l.lock();
      error_ = error;
      busy_ = false;
      posted_.store(false, std::memory_order_release);
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;  // guarded by mu_
  bool busy_ = false;          // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::exception_ptr error_;   // guarded by mu_
  // Mirrors of busy_ and stopping_ to spin on without the lock.
  std::atomic<bool> posted_{false}, stopping_flag_{false};
  std::thread thread_;         // last: started once the members above exist
};

}  // namespace nonevent::sim
