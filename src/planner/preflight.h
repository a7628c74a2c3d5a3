#pragma once
// The preflight of design section 4: before anything moves, what draining a set of nodes
// would do. Which pods must move and which cannot (PDB already at zero, bare pod, emptyDir,
// do-not-evict, a volume that may pin the pod to its zone, no room, the cordoned-zone spread
// trap with the workload named and the fix), each workload's replicas per zone before and
// after with its skew over the zones that stay schedulable, which PDBs bind, and a lower
// bound on how long the evacuation takes. Pure: the same computation feeds `nonevent plan`
// and the controllers' status.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/objects.h"

namespace nonevent::planner {

struct PreflightPolicy {
  bool evict_unmanaged_pods = false;
  bool delete_empty_dir_data = false;
  double pod_start_seconds = 5;  // scheduling to Running
  double pod_ready_seconds = 5;  // Running to Ready
  // drain.rollout WhenBlocked: pods a budget at zero holds are moved by their Deployment
  // (ReplicaSet-owned ones), not waited for.
  bool rollout_when_blocked = false;
};

struct PreflightBlocker {
  std::string kind, ns, name, reason, message;
};

struct WorkloadSpread {
  std::string ns, workload;             // "Deployment/web"
  std::map<std::string, int> before;    // replicas per zone now
  std::map<std::string, int> after;     // after the drain (pending ones not counted)
  int max_skew = -1;                    // the zone spread constraint's maxSkew; -1: none
  int skew_after = 0;                   // over the zones that stay schedulable
  int pending_after = 0;                // replacements that would find no node
};

struct Preflight {
  int nodes = 0;
  int pods_to_evict = 0;
  std::vector<PreflightBlocker> blockers;
  std::vector<WorkloadSpread> workloads;
  std::vector<std::string> binding_pdbs;  // "ns/name: n pods to evict, k at a time"
  std::vector<std::string> moved_by_deployment;  // "ns/pdb: n pod(s) moved by their Deployment (drain.rollout)"
  double lower_bound_seconds = 0;
  bool ok() const { return blockers.empty(); }
};

Preflight preflight(const std::vector<const model::Node*>& nodes, const std::vector<const model::Pod*>& pods,
                    const std::vector<const model::PodDisruptionBudget*>& pdbs, const std::set<std::string>& drained,
                    const std::string& zone_label, const PreflightPolicy& policy);

// Why the drain policy forbids evicting `pod` ("DoNotEvict", "UnmanagedPod", "EmptyDir"),
// or "" when it may go; `message` says it for people. Shared by the preflight, the drain
// engine and `nonevent plan`, so all three agree on what blocks.
std::string policy_blocker(const model::Pod& pod, const PreflightPolicy& policy, std::string* message = nullptr);

// "Deployment/web" for a ReplicaSet's pod (its pod-template-hash stripped), "StatefulSet/pg",
// or "Pod/<name>" for a bare pod.
std::string workload_of(const model::Pod& pod);

}  // namespace nonevent::planner
