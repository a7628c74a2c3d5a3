#pragma once
// JSON for objects shaped like a production cluster's (labels, annotations, managedFields,
// owner references, two containers with probes and resources, tolerations, spread
// constraints, conditions, container statuses): about 5 KB per pod, as the decode
// benchmark's brief asks. Shared by tests and benchmarks.
#include <string>

namespace nonevent::testing {

struct PodShape {
  std::string ns = "default";
  std::string workload = "web";  // the ReplicaSet is "<workload>-<hash>"
  int index = 0;                 // makes the name and uid unique
  std::string node;              // empty: pending
  long resource_version = 1;
  std::string zone_key = "topology.kubernetes.io/zone";
  bool spread_constraint = true;
};

std::string realistic_pod_json(const PodShape& s);
std::string realistic_node_json(const std::string& name, const std::string& zone, long rv);
// {"kind":"PodList",...,"items":[...]} of the given items (already JSON).
std::string list_json(const std::string& kind, const std::string& rv, const std::string& continue_token,
                      const std::string& items_joined);
std::string watch_event_json(const std::string& type, const std::string& object_json);
std::string bookmark_json(const std::string& kind, long rv);

}  // namespace nonevent::testing
