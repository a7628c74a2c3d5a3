#pragma once
// DrainPolicy (design 1.3), shared by MaintenanceWindow and PatchCampaign, and the Go-style
// durations their specs use.
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

using kube::parse_duration;  // Go durations ("90s", "1h30m"), kube/clock.h

// Reads a DrainPolicy at `path` (e.g. "spec.drain"), adding "field: message" problems.
DrainPolicy parse_drain_policy(const web::json::value& d, const std::string& path, std::vector<std::string>& problems);

}  // namespace nonevent::controllers
