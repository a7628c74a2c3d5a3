#include "planner/campaign_projection.h"

#include <algorithm>
#include <cmath>

namespace nonevent::planner {

double campaign_seconds_left(const std::vector<ZoneWork>& zones, const CampaignPace& pace) {
  std::vector<double> lanes(std::max(1, pace.zones_in_parallel), 0.0);
  for (const auto& z : zones) {
    if (z.nodes <= 0) continue;
    const int budget = std::max(1, z.budget);
    auto lane = std::min_element(lanes.begin(), lanes.end());
    *lane = std::max(*lane, z.not_before_s);
    if (pace.batch_soak_s <= 0) {
      *lane += std::max(0.0, z.nodes * pace.node_s - z.in_flight_s) / std::min(budget, z.nodes);
    } else {
      const double batches = std::ceil(static_cast<double>(z.nodes) / budget);
      *lane += batches * pace.batch_s + std::max(0.0, batches - 1) * pace.batch_soak_s - std::min(z.running_s, pace.batch_s);
    }
  }
  double left = *std::max_element(lanes.begin(), lanes.end());
  if (pace.canary_pending) left += pace.canary_soak_s;
  return left;
}

}  // namespace nonevent::planner
