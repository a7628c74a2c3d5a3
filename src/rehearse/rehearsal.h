#pragma once
// A rehearsal (issue 30): the snapshot booted into the embedded cluster, the nonevent.dev
// CRDs installed, the MaintenanceWindow or PatchCampaign applied, and the real manager run
// against it over HTTP, as in production, while virtual time moves in lock step: the clock
// advances only when the operator's queues and the simulated components are idle, then jumps
// to the next instant anything waits for (a kubelet's timer, a requeue-after). What happens
// therefore does not depend on how busy the machine is, and the same input and seed give the
// same timeline.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "rehearse/snapshot_import.h"
#include "sim/cluster_spec.h"

namespace nonevent::rehearse {

struct RehearsalOptions {
  uint64_t seed = 1;
  sim::Timings timings;  // what the snapshot does not show
  kube::Duration tick = std::chrono::seconds(1);  // the smallest step of virtual time
  // How far the rehearsal may run (default: a window's end plus its rebalancing; a campaign's
  // deadline twice over).
  std::optional<kube::Duration> max_duration;
  // A pod Pending this long is a problem (the spread trap's replacement is, a pod scheduled a
  // few seconds after its creation is not).
  kube::Duration pending_limit = std::chrono::minutes(2);
  bool quiet = true;  // operator logs at warn (its info lines would be the rehearsal's output)
};

struct RehearsalResult {
  ImportedCluster imported;
  web::json::value timeline;          // Recorder::to_json, with the snapshot's warnings and timings
  std::vector<std::string> problems;  // empty: every workload back at full Ready, nothing blocked
  double wall_seconds = 0;
  long settles = 0;  // lock-step rounds
};

// Throws std::runtime_error for input that cannot be rehearsed (no node, a resource of another
// kind), naming what is wrong.
RehearsalResult rehearse(const std::vector<web::json::value>& snapshot, const web::json::value& resource, const RehearsalOptions& opts);

}  // namespace nonevent::rehearse
