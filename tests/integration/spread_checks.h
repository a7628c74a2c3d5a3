#pragma once
// Where the shop namespace's replicas are: what a window's rebalance must bring back.
#include <climits>

#include "integration/rig.h"

namespace nonevent::testing {

// Ready, non-terminating replicas of each app of the shop namespace, per zone.
inline std::map<std::string, std::map<std::string, int>> spread_by_app(Rig& rig) {
  std::map<std::string, std::string> zone_of;
  for (const char* z : {"a", "b", "c"})
    for (auto& n : rig.zone_nodes(z)) zone_of[name(n)] = z;
  std::map<std::string, std::map<std::string, int>> out;
  for (auto& p : rig.list("/pods", "shop"))
    if (pod_ready(p) && !at(p, {"metadata", "deletionTimestamp"}))
      ++out[str(p, {"metadata", "labels", "app"})][zone_of[str(p, {"spec", "nodeName"})]];
  return out;
}

inline int skew(const std::map<std::string, int>& per_zone) {
  int lo = INT_MAX, hi = 0;
  for (const char* z : {"a", "b", "c"}) {
    const int n = per_zone.count(z) ? per_zone.at(z) : 0;
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return hi - lo;
}

}  // namespace nonevent::testing
