#include "model/quantity.h"

#include <cmath>
#include <string>

namespace nonevent::model {

std::optional<int64_t> parse_quantity_milli(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[i] == '+' || s[i] == '-') neg = s[i++] == '-';
  // Number part: digits with at most one '.'.
  long double num = 0;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') num = num * 10 + (s[i++] - '0'), ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    long double scale = 0.1L;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      num += (s[i++] - '0') * scale;
      scale /= 10;
      ++digits;
    }
  }
  if (digits == 0) return std::nullopt;
  const std::string_view suffix = s.substr(i);
  long double mult = 1;
  if (suffix.empty()) mult = 1;
  else if (suffix == "m") mult = 1e-3L;
  else if (suffix == "u") mult = 1e-6L;
  else if (suffix == "n") mult = 1e-9L;
  else if (suffix == "k") mult = 1e3L;
  else if (suffix == "M") mult = 1e6L;
  else if (suffix == "G") mult = 1e9L;
  else if (suffix == "T") mult = 1e12L;
  else if (suffix == "P") mult = 1e15L;
  else if (suffix == "E") mult = 1e18L;
  else if (suffix == "Ki") mult = 1024.0L;
  else if (suffix == "Mi") mult = 1024.0L * 1024;
  else if (suffix == "Gi") mult = 1024.0L * 1024 * 1024;
  else if (suffix == "Ti") mult = 1024.0L * 1024 * 1024 * 1024;
  else if (suffix == "Pi") mult = 1024.0L * 1024 * 1024 * 1024 * 1024;
  else if (suffix == "Ei") mult = 1024.0L * 1024 * 1024 * 1024 * 1024 * 1024;
  else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string exp(suffix.substr(1));
    if (exp.empty() || exp.find_first_not_of("+-0123456789") != std::string::npos) return std::nullopt;
    mult = std::pow(10.0L, std::stol(exp));
  } else {
    return std::nullopt;
  }
  const long double milli = std::ceil(num * mult * 1000 - 1e-9L);
  if (milli > 9.2e18L) return std::nullopt;
  const auto v = static_cast<int64_t>(milli);
  return neg ? -v : v;
}

std::optional<int64_t> parse_quantity(std::string_view s) {
  auto m = parse_quantity_milli(s);
  if (!m) return std::nullopt;
  return *m >= 0 ? (*m + 999) / 1000 : -((-*m) / 1000);
}

}  // namespace nonevent::model
