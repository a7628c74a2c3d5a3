#include "kube/rate_limiter.h"

#include <algorithm>

namespace nonevent::kube {

TokenBucket::TokenBucket(double qps, int burst, std::shared_ptr<Clock> clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(std::move(clock)), tokens_(burst_),
      last_(clock_->now()) {}

Duration TokenBucket::reserve() {
  if (qps_ <= 0) return Duration::zero();
  std::lock_guard g(mu_);
  const auto now = clock_->now();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

void TokenBucket::acquire() {
  const auto wait = reserve();
  if (wait > Duration::zero()) clock_->sleep_for(wait);
}

}  // namespace nonevent::kube
