#include "kube/clock.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

namespace nonevent::kube {

void Clock::sleep_for(Duration d) {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  const auto deadline = now() + std::chrono::duration_cast<TimePoint::duration>(d);
  wait_until(lock, cv, deadline, [] { return false; });
}

bool RealClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                           TimePoint deadline, const std::function<bool()>& wake) {
  return cv.wait_until(lock, deadline, wake);
}

ScaledClock::ScaledClock(double scale, std::optional<TimePoint> epoch)
    : scale_(scale > 0 ? scale : 1), start_(epoch.value_or(std::chrono::system_clock::now())) {}

TimePoint ScaledClock::now() const {
  const auto real = std::chrono::system_clock::now() - start_;
  return start_ + std::chrono::duration_cast<TimePoint::duration>(real * scale_);
}

bool ScaledClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             TimePoint deadline, const std::function<bool()>& wake) {
  const auto virtual_left = deadline - now();
  const auto real_deadline = std::chrono::system_clock::now() +
                             std::chrono::duration_cast<TimePoint::duration>(virtual_left / scale_);
  return cv.wait_until(lock, real_deadline, wake);
}

std::shared_ptr<Clock> real_clock() {
  static const auto clock = std::make_shared<RealClock>();
  return clock;
}

VirtualClock::VirtualClock(TimePoint start) : now_(start) {}

TimePoint VirtualClock::now() const {
  std::lock_guard g(mu_);
  return now_;
}

bool VirtualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                              TimePoint deadline, const std::function<bool()>& wake) {
  std::multimap<TimePoint, std::condition_variable*>::iterator it;
  {
    std::lock_guard g(mu_);
    it = waiting_.emplace(deadline, &cv);
  }
  bool woken = false;
  for (;;) {
    if (wake()) {
      woken = true;
      break;
    }
    {
      std::lock_guard g(mu_);
      if (now_ >= deadline) break;
    }
    // A short real-time cap guards against a notify racing the registration above.
    cv.wait_for(lock, std::chrono::milliseconds(5));
  }
  std::lock_guard g(mu_);
  waiting_.erase(it);
  return woken;
}

void VirtualClock::advance(Duration d) {
  {
    std::lock_guard g(mu_);
    now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  }
  wake_all();
}

void VirtualClock::set(TimePoint t) {
  {
    std::lock_guard g(mu_);
    if (t > now_) now_ = t;
  }
  wake_all();
}

int VirtualClock::waiters() const {
  std::lock_guard g(mu_);
  return static_cast<int>(waiting_.size());
}

std::optional<TimePoint> VirtualClock::next_deadline() const {
  std::lock_guard g(mu_);
  if (waiting_.empty()) return std::nullopt;
  return waiting_.begin()->first;
}

void VirtualClock::wake_all() {
  std::lock_guard g(mu_);
  for (auto& [deadline, cv] : waiting_) {
    if (deadline <= now_) cv->notify_all();
  }
}

namespace {
std::string format(TimePoint t, bool micro) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto days = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{secs - days};
  std::string out;
  const int year = static_cast<int>(ymd.year());
  if (year >= 0 && year <= 9999) {
    // Digits written directly: strftime (with its locale) was a percent of a big simulation,
    // which stamps every condition and status it writes.
    char buf[20] = "0000-00-00T00:00:00";
    auto put = [&](int at, long v, int width) {
      for (int i = width - 1; i >= 0; --i, v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
    };
    put(0, year, 4);
    put(5, static_cast<unsigned>(ymd.month()), 2);
    put(8, static_cast<unsigned>(ymd.day()), 2);
    put(11, hms.hours().count(), 2);
    put(14, hms.minutes().count(), 2);
    put(17, hms.seconds().count(), 2);
    out.assign(buf, 19);
  } else {
    const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    out = buf;
  }
  if (micro) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
    char frac[24];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us));
    out += frac;
  }
  out += 'Z';
  return out;
}
}  // namespace

std::string format_rfc3339(TimePoint t) { return format(t, false); }
std::string format_rfc3339_micro(TimePoint t) { return format(t, true); }

std::optional<Duration> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') negative = s[i++] == '-';
  if (s.substr(i) == "0") return Duration::zero();
  if (i == s.size()) return std::nullopt;
  double total_ns = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return std::nullopt;
    double n = 0;
    try {
      n = std::stod(std::string(s.substr(i, j - i)));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    size_t k = j;
    while (k < s.size() && !std::isdigit(static_cast<unsigned char>(s[k])) && s[k] != '.') ++k;
    const std::string_view unit = s.substr(j, k - j);
    double scale = 0;
    if (unit == "h") scale = 3600e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "s") scale = 1e9;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "us" || unit == "\u00b5s") scale = 1e3;
    else if (unit == "ns") scale = 1;
    else return std::nullopt;
    total_ns += n * scale;
    // Go's time.ParseDuration refuses what an int64 of nanoseconds cannot hold (~2562047h);
    // taken as it came, 99999999h wrapped round to a time in 1734.
    if (total_ns > 9.2e18) return std::nullopt;
    i = k;
  }
  return Duration(static_cast<Duration::rep>(negative ? -total_ns : total_ns));
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':' || tm.tm_year < -1900 + 1 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
      tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
      tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
    return std::nullopt;
  // A TimePoint counts nanoseconds in 64 bits: 1677-09-21 to 2262-04-11. Years outside
  // 1678..2261 are refused rather than overflowed (found by tests/fuzz watch_event).
  if (tm.tm_year + 1900 < 1678 || tm.tm_year + 1900 > 2261) return std::nullopt;
  size_t pos = 19;
  long long frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    long long scale = 100000000;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  long offset_s = 0;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    if (pos + 6 != s.size() || s[pos + 3] != ':') return std::nullopt;
    const int hh = num(pos + 1, 2), mm = num(pos + 4, 2);
    if (hh < 0 || mm < 0) return std::nullopt;
    offset_s = (hh * 3600L + mm * 60L) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  // days_from_civil (H. Hinnant): timegm() is slow and this runs for every decoded timestamp.
  const int y = tm.tm_year + 1900 - (tm.tm_mon < 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = static_cast<unsigned>((tm.tm_mon + 10) % 12);
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(tm.tm_mday) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = static_cast<long>(era) * 146097 + static_cast<long>(doe) - 719468;
  const std::time_t tt = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return std::chrono::system_clock::from_time_t(tt - offset_s) +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(frac_ns));
}

}  // namespace nonevent::kube
