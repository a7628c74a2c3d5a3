#pragma once
// The workload mix both cluster benchmarks boot: Deployments of 30 replicas in 20 team
// namespaces, every other one zone-spread (DoNotSchedule, nodeTaintsPolicy Honor), each with
// a PDB of maxUnavailable 1. Header-only: benchmarks are single-file programs.
#include <string>

#include "sim/api_server.h"
#include "sim/yaml_json.h"

namespace nonevent::bench {

inline constexpr long kReplicas = 30;

// Creates `deployments` Deployments ("svc-<n>", app label the same) and their PDBs.
inline void add_fleet_workloads(sim::ApiServer& api, long deployments) {
  for (long d = 0; d < deployments; ++d) {
    const std::string name = "svc-" + std::to_string(d), ns = "team-" + std::to_string(d % 20);
    std::string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns +
                       "}\nspec:\n  replicas: " + std::to_string(kReplicas) + "\n  selector: {matchLabels: {app: " + name +
                       "}}\n  template:\n    metadata: {labels: {app: " + name + "}}\n    spec:\n"
                       "      containers: [{name: c, image: app, resources: {requests: {cpu: 250m, memory: 512Mi}}}]\n";
    if (d % 2 == 0)
      yaml += "      topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, "
              "whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: " + name + "}}}]\n";
    yaml += "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: " + name + ", namespace: " + ns +
            "}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: " + name + "}}}\n";
    for (const auto& doc : sim::parse_yaml_documents(yaml)) api.create_object(doc);
  }
}

}  // namespace nonevent::bench
