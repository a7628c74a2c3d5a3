#pragma once
// The one notion of time for the whole product. Real code asks a Clock; tests and the
// embedded cluster hand in a VirtualClock so that hours of cluster behaviour run in
// milliseconds and nothing in a test ever sleeps.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace nonevent::kube {

using Duration = std::chrono::nanoseconds;
// Wall-clock time (what goes into API objects: lease renewTime, event timestamps).
using TimePoint = std::chrono::system_clock::time_point;

// Thread-safe. now() is wall time; sleep_for/wait_until block the caller in this clock's time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Blocks until `deadline` (in this clock's time) or until `wake` returns true when
  // notify_all() is called. Returns true if woken by the predicate, false on deadline.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline, const std::function<bool()>& wake) = 0;
  void sleep_for(Duration d);
};

class RealClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline, const std::function<bool()>& wake) override;
};

// Real time sped up (or slowed) by a factor from the moment of construction: the embedded
// cluster's `--time-scale` (a 2-minute node reboot takes 12 s at scale 10).
// Processes that must agree on the time (the embedded cluster and an operator rehearsing
// against it) pass the same epoch: now = epoch + (real now - epoch) * scale.
class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(double scale, std::optional<TimePoint> epoch = std::nullopt);
  TimePoint now() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline, const std::function<bool()>& wake) override;

 private:
  const double scale_;
  const TimePoint start_;
};

// Shared real clock for production wiring.
std::shared_ptr<Clock> real_clock();

// Time moves only when advance()/set() is called. Waiters whose deadline has passed are woken.
// wait_until registers the waiting condition variable so advance() can notify it; waiters are
// also woken by their own cv as usual.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(TimePoint start = TimePoint{} + std::chrono::hours(24 * 365 * 56));
  TimePoint now() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline, const std::function<bool()>& wake) override;
  void advance(Duration d);
  void set(TimePoint t);
  // Number of threads currently blocked in wait_until (lets tests step time deterministically).
  int waiters() const;
  // Earliest deadline among current waiters, if any.
  std::optional<TimePoint> next_deadline() const;

 private:
  void wake_all();
  mutable std::mutex mu_;
  TimePoint now_;                                           // guarded by mu_
  std::multimap<TimePoint, std::condition_variable*> waiting_;  // guarded by mu_
};

// Formats as RFC 3339 with second precision (metav1.Time) or microseconds (metav1.MicroTime).
std::string format_rfc3339(TimePoint t);
std::string format_rfc3339_micro(TimePoint t);
// Parses RFC 3339 ("2026-12-01T02:00:00Z", fractional seconds and offsets accepted).
std::optional<TimePoint> parse_rfc3339(std::string_view s);
// A Go duration as Kubernetes writes them ("90s", "1h30m", "250ms", "-5m", "0"): Go's
// time.ParseDuration units h, m, s, ms, us (µs), ns, with fractions.
std::optional<Duration> parse_duration(std::string_view s);

}  // namespace nonevent::kube
