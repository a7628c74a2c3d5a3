#pragma once
// A MaintenanceWindow's spec as the controller uses it, parsed and checked. Problems come
// back as a list of "field: message" strings for the Blocked condition and Event.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "kube/clock.h"

namespace nonevent::controllers {

struct DrainPolicy {
  int max_concurrent_evictions = 50;
  kube::Duration pod_eviction_timeout = std::chrono::minutes(10);
  long grace_period_seconds = -1;
  bool delete_empty_dir_data = false;
  bool evict_unmanaged_pods = false;
  std::string on_blocked = "Wait";  // Wait | SkipNode | Force
  std::optional<kube::Duration> force_after;
};

struct WindowSpec {
  std::vector<std::string> zones;
  std::string zone_label = "topology.kubernetes.io/zone";
  kube::TimePoint start{}, end{};
  kube::Duration evacuate_before = std::chrono::hours(2);
  std::string restore = "Uncordon";
  bool rebalance = true;
  bool suspend = false;
  int min_available_zones = 2;
  DrainPolicy drain;
  kube::TimePoint evacuation_start() const { return start - evacuate_before; }
};

// Parses a Go-style duration ("90s", "1h30m", "250ms").
std::optional<kube::Duration> parse_duration(const std::string& s);

struct ParsedWindow {
  std::optional<WindowSpec> spec;
  std::vector<std::string> problems;
};
ParsedWindow parse_window_spec(const web::json::value& spec);

}  // namespace nonevent::controllers
