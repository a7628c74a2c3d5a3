#include "kube/work_queue.h"

#include <algorithm>
#include <cmath>

namespace nonevent::kube {

WorkQueue::WorkQueue(std::shared_ptr<Clock> clock, WorkQueueOptions opts, WorkQueueHooks hooks)
    : clock_(std::move(clock)), opts_(std::move(opts)), hooks_(std::move(hooks)),
      overall_(opts_.overall_qps, opts_.overall_burst, clock_) {}

void WorkQueue::report(size_t depth, bool added, bool retried) {
  if (added && hooks_.on_add) hooks_.on_add();
  if (retried && hooks_.on_retry) hooks_.on_retry();
  if (hooks_.on_depth) hooks_.on_depth(depth);
}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // re-queued by done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  size_t depth;
  {
    std::lock_guard g(mu_);
    add_locked(key);
    depth = queue_.size();
  }
  report(depth, true, false);
}

void WorkQueue::add_after(const std::string& key, Duration delay) {
  if (delay <= Duration::zero()) return add(key);
  {
    std::lock_guard g(mu_);
    if (shutting_down_) return;
    const auto at = clock_->now() + std::chrono::duration_cast<TimePoint::duration>(delay);
    // Keep only the earliest time per key (client-go's waitingForQueue semantics).
    auto it = delayed_at_.find(key);
    if (it != delayed_at_.end()) {
      if (it->second <= at) return;
      auto range = delayed_.equal_range(it->second);
      for (auto d = range.first; d != range.second; ++d)
        if (d->second == key) {
          delayed_.erase(d);
          break;
        }
    }
    delayed_.emplace(at, key);
    delayed_at_[key] = at;
    cv_.notify_all();  // a waiting get() may need an earlier wake-up
  }
}

Duration WorkQueue::next_backoff(const std::string& key) const {
  std::lock_guard g(mu_);
  auto it = failures_.find(key);
  const int n = it == failures_.end() ? 0 : it->second;
  const double d = static_cast<double>(opts_.base_delay.count()) * std::pow(2.0, std::min(n, 40));
  return std::chrono::milliseconds(
      static_cast<long>(std::min(d, static_cast<double>(opts_.max_delay.count()))));
}

void WorkQueue::add_rate_limited(const std::string& key) {
  const Duration item = next_backoff(key);
  {
    std::lock_guard g(mu_);
    ++failures_[key];
  }
  const Duration bucket = overall_.reserve();
  report(len(), false, true);
  add_after(key, std::max(item, bucket));
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard g(mu_);
  failures_.erase(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  std::lock_guard g(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due_locked() {
  const auto now = clock_->now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayed_at_.erase(key);
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::get() { return get_until(TimePoint::max()); }

std::optional<std::string> WorkQueue::get_until(TimePoint deadline) {
  std::unique_lock lock(mu_);
  for (;;) {
    promote_due_locked();
    if (!queue_.empty()) break;
    if (shutting_down_) return std::nullopt;
    TimePoint wake = deadline;
    if (!delayed_.empty()) wake = std::min(wake, delayed_.begin()->first);
    if (clock_->now() >= deadline) return std::nullopt;
    clock_->wait_until(lock, cv_, wake, [this] { return !queue_.empty() || shutting_down_; });
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  const size_t depth = queue_.size();
  lock.unlock();
  report(depth, false, false);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard g(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard g(mu_);
  shutting_down_ = true;
  delayed_.clear();
  delayed_at_.clear();
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard g(mu_);
  return shutting_down_;
}

size_t WorkQueue::len() const {
  std::lock_guard g(mu_);
  return queue_.size();
}

bool WorkQueue::idle() const {
  std::lock_guard g(mu_);
  return queue_.empty() && processing_.empty() && (delayed_.empty() || delayed_.begin()->first > clock_->now());
}

size_t WorkQueue::waiting() const {
  std::lock_guard g(mu_);
  return delayed_.size();
}

std::optional<TimePoint> WorkQueue::next_ready() const {
  std::lock_guard g(mu_);
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

}  // namespace nonevent::kube
