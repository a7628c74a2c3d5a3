#pragma once
// DrainPolicy (design 1.3), shared by MaintenanceWindow and PatchCampaign, and the Go-style
// durations their specs use.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "model/objects.h"

namespace nonevent::controllers {

// drain.rollout (rollout_move.h): whether a pod its budget holds is moved by its Deployment.
struct RolloutPolicy {
  std::string when = "Never";  // Never | WhenBlocked
  std::optional<model::LabelSelector> namespace_selector;  // unset or empty: every namespace
};

struct DrainPolicy {
  int max_concurrent_evictions = 50;
  kube::Duration pod_eviction_timeout = std::chrono::minutes(10);
  long grace_period_seconds = -1;
  bool delete_empty_dir_data = false;
  bool evict_unmanaged_pods = false;
  std::string on_blocked = "Wait";  // Wait | SkipNode | Force
  std::optional<kube::Duration> force_after;
  RolloutPolicy rollout;
};

using kube::parse_duration;  // Go durations ("90s", "1h30m"), kube/clock.h

// A metav1.LabelSelector as the API writes it ({matchLabels, matchExpressions}).
model::LabelSelector selector_from(const web::json::value& v);

// Reads a DrainPolicy at `path` (e.g. "spec.drain"), adding "field: message" problems.
DrainPolicy parse_drain_policy(const web::json::value& d, const std::string& path, std::vector<std::string>& problems);

}  // namespace nonevent::controllers
