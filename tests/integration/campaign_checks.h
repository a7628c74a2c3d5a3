#pragma once
// What every PatchCampaign integration test checks as time moves: no zone has more than
// maxUnavailable nodes out (cordoned or not Ready) and no PDB is below budget; and how many
// nodes ended patched, Ready and schedulable.
#include "integration/rig.h"

namespace nonevent::testing {

struct Invariants {
  Rig& rig;
  int max_unavailable = 1;
  int zone_violations = 0;
  std::string first_violation;
  void operator()() {
    rig.check_pdbs();
    std::map<std::string, int> out;
    for (auto& n : rig.list("/nodes")) {
      const auto zone = str(n, {"metadata", "labels", "topology.kubernetes.io/zone"});
      out[zone] += 0;
      if (flag(n, {"spec", "unschedulable"}) || !condition_true(n, "Ready")) ++out[zone];
    }
    for (const auto& [zone, k] : out)
      if (k > max_unavailable) {
        ++zone_violations;
        if (first_violation.empty()) first_violation = zone + " has " + std::to_string(k) + " nodes out";
      }
  }
};

inline int patched_ready(Rig& rig) {
  int k = 0;
  for (auto& n : rig.list("/nodes"))
    if (str(n, {"metadata", "labels", "nonevent.dev/image-version"}) == "v2" && condition_true(n, "Ready") &&
        !flag(n, {"spec", "unschedulable"}))
      ++k;
  return k;
}

}  // namespace nonevent::testing
