// Any bytes as "<time zone>\n<cron expression>": parsed or refused with an error, and a
// parsed pair gives its next occurrence without a crash or an endless search.
#include <cstdint>
#include <string>

#include "controllers/recurrence.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string zone = nl == std::string::npos ? "UTC" : in.substr(0, nl);
  const std::string expr = nl == std::string::npos ? in : in.substr(nl + 1);
  std::string error;
  auto tz = nonevent::controllers::TimeZone::load(zone, error);
  auto cron = nonevent::controllers::CronSchedule::parse(expr, error);
  if (tz && cron) (void)cron->next(*nonevent::kube::parse_rfc3339("2026-03-29T00:30:00Z"), *tz);
  return 0;
}
