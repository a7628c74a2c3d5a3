#pragma once
// A token bucket (client-go flowcontrol's qps/burst limiter) on an injectable clock.
#include <memory>
#include <mutex>

#include "kube/clock.h"

namespace nonevent::kube {

// Thread-safe. qps <= 0 means unlimited.
class TokenBucket {
 public:
  TokenBucket(double qps, int burst, std::shared_ptr<Clock> clock);
  // Takes a token, blocking until one is available.
  void acquire();
  // Reserves a token and returns how long the caller must wait before using it (no blocking);
  // used by the work queue's overall bucket, where the wait becomes a delayed add.
  Duration reserve();

 private:
  const double qps_;
  const double burst_;
  const std::shared_ptr<Clock> clock_;
  std::mutex mu_;
  double tokens_;     // guarded by mu_; may go negative (reservations ahead of time)
  TimePoint last_;    // guarded by mu_
};

}  // namespace nonevent::kube
