#pragma once
// A cluster as `kubectl get nodes,pods,pdb,deployments,replicasets,statefulsets,daemonsets -A
// -o yaml` shows it, loaded into the embedded cluster's storage for a rehearsal (issue 30):
// objects kept as they are (uids, owners, creation times, status), so the simulated
// controllers adopt the pods they own and the kubelets find them running.
//
// What the snapshot lacks is said, with what the rehearsal assumes instead: a pod whose owner
// is not in it is not replaced once evicted; without PodDisruptionBudgets nothing limits the
// drain. Timings come from the snapshot where it has them (per workload, a pod's time from
// PodScheduled to Ready) and are defaulted otherwise; the report says which is which.
#include <cpprest/json.h>

#include <map>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "sim/cluster_spec.h"
#include "sim/object_store.h"

namespace nonevent::rehearse {

struct WorkloadTiming {
  std::string workload;  // "namespace/Kind/name"
  double ready_s = 0;    // from scheduled to Ready
  int samples = 0;       // pods it was inferred from; 0: defaulted
};

struct ImportedCluster {
  sim::ClusterSpec spec;             // zones (from the nodes' zone labels) and timings
  kube::TimePoint taken_at{};        // the newest time the snapshot shows: when it was taken
  std::vector<std::string> warnings;  // what is missing, and what is assumed
  std::vector<WorkloadTiming> timings;
  std::vector<std::string> defaulted;  // timings no snapshot shows (termination, node reboot)
  std::map<std::string, int> kinds;    // objects loaded, by kind
};

// The documents of a snapshot (a List, or objects one per document), parsed. Throws
// std::runtime_error naming what is unusable (no Node at all).
ImportedCluster import_snapshot(const std::vector<web::json::value>& documents, sim::ObjectStore& store,
                                const sim::Timings& defaults);

// The workload a pod belongs to ("namespace/Deployment/web"): its controller, a ReplicaSet
// mapped to the Deployment that owns it when `replica_set_owner` knows it.
std::string workload_of(const web::json::value& pod, const std::map<std::string, std::string>& replica_set_owner);

}  // namespace nonevent::rehearse
