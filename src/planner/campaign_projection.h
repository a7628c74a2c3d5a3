#pragma once
// How long what is left of a PatchCampaign takes (design 1.2's ETA): pure and clock-free, like
// kube-controller-manager's deploymentutil math, so `nonevent plan` (before anything moves)
// and the controller's status.estimatedCompletion (from observed durations) are one formula.
//
// Zones roll `zonesInParallel` at a time, in order: each lane takes the next zone when free.
// With a batchSoak, a zone is ceil(nodes / budget) batches of `batch_s` each with a soak
// between them; the running batch counts less the time it has already run. Without one, a
// zone is rolled as nodes finish (a Deployment's rolling update under maxUnavailable): its
// node-seconds left, less those its nodes in flight have already run, over the slots it runs
// at. Worked example: 10 nodes, budget 3, 60 s a node, none running: with batchSoak 30 s,
// 4 batches → 4 × 60 + 3 × 30 = 330 s; rolling, 10 × 60 / 3 = 200 s. While the canary is
// not yet done its soak comes on top. A zone held by a window starts no earlier than the
// window lets it go: the time a campaign spends held counts (issue 23.10).
#include <vector>

namespace nonevent::planner {

// What is left of one zone.
struct ZoneWork {
  int nodes = 0;            // left to patch, including those in flight
  int budget = 1;           // nodes the zone has out at once (at least 1)
  double running_s = 0;     // batchSoak: how long the running batch has run (0: none)
  double in_flight_s = 0;   // rolling: the time its nodes in flight have run, summed
  double not_before_s = 0;  // held (a MaintenanceWindow has it): no work before this many seconds
};

// How fast the campaign goes.
struct CampaignPace {
  double batch_s = 0;        // one batch, claim to the last node released
  double node_s = 0;         // one node, claim to release
  double batch_soak_s = 0;   // spec.strategy.batchSoak (0: rolling)
  double canary_soak_s = 0;  // spec.strategy.canary.soak
  bool canary_pending = false;
  int zones_in_parallel = 1;
};

// Seconds until the last zone is done (0 when nothing is left).
double campaign_seconds_left(const std::vector<ZoneWork>& zones, const CampaignPace& pace);

}  // namespace nonevent::planner
