#pragma once
// Replace with maxSurge (design 1.2): capacity is added before a node goes, by scaling up the
// Cluster API MachineDeployment that owns the node, and given back by annotating the old
// node's Machine cluster.x-k8s.io/delete-machine and scaling down again (the MachineSet then
// deletes that Machine first). The MachineDeployment itself remembers what it was:
// label nonevent.dev/surged-by=<campaign> and annotation nonevent.dev/surge-base-replicas, set
// in the same conditional patch as spec.replicas, so a restarted operator finds every
// deployment it scaled and scales it back exactly once.
#include <map>
#include <optional>
#include <string>

#include "kube/rest_client.h"
#include "model/objects.h"

namespace nonevent::controllers {

// The annotations Cluster API puts on the Nodes it manages.
inline constexpr const char* kCapiMachine = "cluster.x-k8s.io/machine";
inline constexpr const char* kCapiClusterNamespace = "cluster.x-k8s.io/cluster-namespace";

inline constexpr const char* kSurgedByLabel = "nonevent.dev/surged-by";
inline constexpr const char* kSurgeBaseReplicas = "nonevent.dev/surge-base-replicas";

// The MachineDeployment ("<ns>/<name>") whose Machine runs `node`, from the node's Cluster
// API annotations and the Machine's cluster.x-k8s.io/deployment-name label; nullopt when the
// node is not Cluster API's or its Machine belongs to no MachineDeployment.
kube::Result<std::optional<std::string>> machine_deployment_of(kube::RestClient& client, const model::Node& node);

// Marks the node's Machine for deletion first when its MachineDeployment scales down.
// NotFound when the node has no Machine (any more).
kube::Status mark_machine_for_deletion(kube::RestClient& client, const model::Node& node);

// Sets each MachineDeployment the campaign scaled, or is to scale, to its base replicas plus
// `extra` ("<ns>/<name>" -> surge nodes still waiting for or using their new node); one with
// no extra left goes back to its base and forgets it. A deployment another campaign surges is
// left alone and reported in `conflicts`.
kube::Status reconcile_surge_capacity(kube::RestClient& client, const std::string& campaign,
                                      const std::map<std::string, int>& extra, std::vector<std::string>* conflicts = nullptr);

}  // namespace nonevent::controllers
