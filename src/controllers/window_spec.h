#pragma once
// A MaintenanceWindow's spec as the controller uses it, parsed and checked. Problems come
// back as a list of "field: message" strings for the Blocked condition and Event.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "controllers/drain_policy.h"
#include "controllers/health_checks.h"
#include "controllers/recurrence.h"
#include "kube/clock.h"

namespace nonevent::controllers {

struct WindowSpec {
  std::vector<std::string> zones;
  std::string zone_label = "topology.kubernetes.io/zone";
  kube::TimePoint start{}, end{};
  kube::Duration evacuate_before = std::chrono::hours(2);
  std::string restore = "Uncordon";
  bool rebalance = true;
  // spec.healthChecks: rebalancing after the window evicts only while they pass (the
  // provider's times are not ours to move, so they never hold the window itself).
  std::optional<HealthChecks> health;
  bool suspend = false;
  int min_available_zones = 2;
  bool require_capacity = true;  // refuse to start when displaced pods would find no place
  DrainPolicy drain;
  // Recurring windows: a cron schedule in a time zone, each occurrence `duration` long.
  std::optional<CronSchedule> schedule;
  std::optional<TimeZone> time_zone;
  kube::Duration duration{};
  kube::TimePoint evacuation_start() const { return start - evacuate_before; }
  // For a recurring window, sets start/end to the occurrence that matters at `now`: the
  // earliest one not yet over. False when the schedule has no occurrence in five years.
  bool resolve(kube::TimePoint now);
};

struct ParsedWindow {
  std::optional<WindowSpec> spec;
  std::vector<std::string> problems;
};
// spec.zones as a set: duplicates are problems naming their index (shared with PatchCampaign).
std::vector<std::string> zone_set(const web::json::value& spec, std::vector<std::string>& problems);
ParsedWindow parse_window_spec(const web::json::value& spec);

}  // namespace nonevent::controllers
