#pragma once
// After a window (design 2.3): move displaced replicas back so each workload's zone spread is
// what it was, evicting one surplus pod per workload at a time through the eviction API (the
// API server enforces every PDB; the scheduler's spreading sends the replacement to the
// emptier zone). Only the workloads the window displaced, as its preflight recorded them;
// never while another window or campaign holds a node.
#include <cpprest/json.h>

#include <map>
#include <string>
#include <vector>

#include "controllers/drain.h"

namespace nonevent::controllers {

// One displaced workload, as recorded in status.preflight.displaced before evacuation.
struct DisplacedWorkload {
  std::string ns, workload;          // "Deployment/web"
  std::map<std::string, int> before; // Ready replicas per zone before the window
  int max_skew = -1;                 // its zone spread constraint's maxSkew; -1: none
};

web::json::value displaced_json(const std::vector<DisplacedWorkload>& w);
std::vector<DisplacedWorkload> parse_displaced(const web::json::value& list);

struct RebalanceStep {
  bool done = false;
  int evicted = 0;                   // evictions accepted in this step
  std::vector<std::string> waiting;  // "ns/Deployment/web: why", for status and Events
};

// One pass: for each displaced workload whose pods are all Ready, when its skew over the
// schedulable zones exceeds max(its maxSkew or 1, its skew before the window), evict one pod
// from its fullest zone. Done when every workload is within bounds.
RebalanceStep rebalance_step(kube::RestClient& client, const std::vector<std::shared_ptr<const model::Node>>& nodes,
                             const std::vector<std::shared_ptr<const model::Pod>>& pods,
                             const std::vector<DisplacedWorkload>& displaced, const std::string& zone_label,
                             const std::vector<std::string>& restored_zones, const std::string& own_claim);

}  // namespace nonevent::controllers
