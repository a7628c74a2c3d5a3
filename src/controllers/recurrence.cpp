#include "controllers/recurrence.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nonevent::controllers {

namespace {

long long be(const unsigned char* p, int n) {
  long long v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) v = static_cast<int32_t>(static_cast<uint32_t>(v));  // sign-extend
  return v;
}

// Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
void civil_from_days(long long z, int& y, int& m, int& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long yy = static_cast<long long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

long long floor_div(long long a, long long b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<TimeZone> TimeZone::load(const std::string& name, std::string& error, const std::string& zoneinfo_dir) {
  TimeZone tz;
  tz.name_ = name;
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return tz;
  if (name.find("..") != std::string::npos || name.front() == '/') {
    error = "\"" + name + "\" is not an IANA time zone name";
    return std::nullopt;
  }
  // A directory ("Europe") is no zone: reading one throws from the stream (tests/fuzz).
  std::error_code fs_error;
  if (!std::filesystem::is_regular_file(zoneinfo_dir + "/" + name, fs_error)) {
    error = "unknown time zone \"" + name + "\" (not in " + zoneinfo_dir + "; is the tzdata package installed?)";
    return std::nullopt;
  }
  std::ifstream in(zoneinfo_dir + "/" + name, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && data.empty()) {
    error = "unknown time zone \"" + name + "\" (not in " + zoneinfo_dir + "; is the tzdata package installed?)";
    return std::nullopt;
  }
  auto bad = [&] {
    error = "cannot read time zone \"" + name + "\": not a TZif file";
    return std::nullopt;
  };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return bad();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  auto counts = [&](size_t at, long long c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = be(p + at + 20 + 4 * i, 4);
  };
  long long c[6];  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  counts(0, c);
  size_t at = 44;
  int time_size = 4;
  if (data[4] >= '2') {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    at += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (data.size() < at + 44 || data.compare(at, 4, "TZif") != 0) return bad();
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  const long long timecnt = c[3], typecnt = c[4];
  if (typecnt < 1 || data.size() < at + timecnt * (time_size + 1) + typecnt * 6) return bad();
  std::vector<long> type_offsets(static_cast<size_t>(typecnt));
  const size_t types_at = at + timecnt * (time_size + 1);
  for (long long i = 0; i < typecnt; ++i) type_offsets[i] = static_cast<long>(be(p + types_at + 6 * i, 4));
  tz.initial_offset_ = type_offsets[0];
  for (long long i = 0; i < timecnt; ++i) {
    tz.transitions_.push_back(be(p + at + i * time_size, time_size));
    const unsigned idx = p[at + timecnt * time_size + i];
    if (idx >= type_offsets.size()) return bad();
    tz.offsets_.push_back(type_offsets[idx]);
  }
  return tz;
}

long TimeZone::offset_at(kube::TimePoint t) const {
  const long long s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

kube::TimePoint TimeZone::to_utc(long long local) const {
  auto at = [](long long s) { return kube::TimePoint(std::chrono::seconds(s)); };
  // Candidates: the offsets in effect a day either side.
  const long before = offset_at(at(local - 86400)), after = offset_at(at(local + 86400));
  std::vector<long long> valid;
  for (long o : {before, after})
    if (offset_at(at(local - o)) == o) valid.push_back(local - o);
  if (!valid.empty()) return at(*std::min_element(valid.begin(), valid.end()));  // ambiguous: the first
  // In the gap: as far past it as the time was into it (02:30 → 03:30 when clocks jump an hour).
  return at(local - before);
}

namespace {

bool parse_field(std::string field, int lo, int hi, const std::vector<std::string>& names, std::vector<bool>& out,
                 bool& star) {
  for (auto& ch : field) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  star = field == "*" || field == "?";
  out.assign(static_cast<size_t>(hi + 1), false);
  auto number = [&](const std::string& s, int& v) {
    for (size_t i = 0; i < names.size(); ++i)
      if (!names[i].empty() && s == names[i]) {
        v = static_cast<int>(i);
        return true;
      }
    // (At most 4 digits: no field goes past 59, and stoi threw on 11 digits; tests/fuzz.)
    if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
    v = std::stoi(s);
    return true;
  };
  std::stringstream ss(field);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      if (!number(part.substr(slash + 1), step) || step < 1) return false;
      part = part.substr(0, slash);
    }
    int a = lo, b = hi;
    if (part != "*" && part != "?") {
      auto dash = part.find('-');
      if (!number(part.substr(0, dash), a)) return false;
      b = a;
      if (dash != std::string::npos && !number(part.substr(dash + 1), b)) return false;
      if (dash == std::string::npos && step > 1) b = hi;  // "5/15" means 5-max/15
    }
    if (a < lo || b > hi || a > b) return false;
    for (int v = a; v <= b; v += step) out[static_cast<size_t>(v)] = true;
  }
  return true;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(const std::string& expr, std::string& error) {
  std::stringstream ss(expr);
  std::vector<std::string> f;
  for (std::string x; ss >> x;) f.push_back(x);
  if (f.size() != 5) {
    error = "\"" + expr + "\" has " + std::to_string(f.size()) + " fields; want 5 (minute hour day-of-month month day-of-week)";
    return std::nullopt;
  }
  CronSchedule c;
  std::vector<bool> v;
  bool star = false;
  static const std::vector<std::string> months{"", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const std::vector<std::string> days{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};
  const char* names[] = {"minute", "hour", "day-of-month", "month", "day-of-week"};
  const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
  for (int i = 0; i < 5; ++i) {
    if (!parse_field(f[i], lo[i], hi[i], i == 3 ? months : i == 4 ? days : std::vector<std::string>{}, v, star)) {
      error = "\"" + f[i] + "\" is not a valid " + names[i] + " field (" + std::to_string(lo[i]) + "-" + std::to_string(hi[i]) + ")";
      return std::nullopt;
    }
    for (int k = lo[i]; k <= hi[i]; ++k)
      if (v[static_cast<size_t>(k)]) {
        if (i == 0) c.minutes_.set(k);
        else if (i == 1) c.hours_.set(k);
        else if (i == 2) c.days_.set(k);
        else if (i == 3) c.months_.set(k);
        else c.weekdays_.set(k % 7);
      }
    if (i == 2) c.days_star_ = star;
    if (i == 4) c.weekdays_star_ = star;
  }
  return c;
}

bool CronSchedule::day_matches(int dom, int month, int weekday) const {
  if (!months_.test(month)) return false;
  // Cron's rule: when both day fields are restricted, either may match.
  if (!days_star_ && !weekdays_star_) return days_.test(dom) || weekdays_.test(weekday);
  return days_.test(dom) && weekdays_.test(weekday);
}

std::optional<kube::TimePoint> CronSchedule::next(kube::TimePoint after, const TimeZone& tz) const {
  const long long after_s = std::chrono::duration_cast<std::chrono::seconds>(after.time_since_epoch()).count();
  const long long first_day = floor_div(after_s + tz.offset_at(after), 86400) - 1;  // a day early: offsets
  for (long long day = first_day; day < first_day + 5 * 366 + 2; ++day) {
    int y, m, d;
    civil_from_days(day, y, m, d);
    const int weekday = static_cast<int>(((day % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    if (!day_matches(d, m, weekday)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(h)) continue;
      for (int mi = 0; mi < 60; ++mi) {
        if (!minutes_.test(mi)) continue;
        const auto t = tz.to_utc(day * 86400 + h * 3600 + mi * 60);
        if (t >= after) return t;
      }
    }
  }
  return std::nullopt;
}

}  // namespace nonevent::controllers
