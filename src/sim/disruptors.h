#pragma once
// The cluster's other node movers, so that nonevent's coexistence with them is tested rather
// than assumed (design 2.2a). Each is off unless the cluster file's `disruptors:` turns it on,
// and each follows the real component's rules as far as nonevent meets them:
//  - cluster-autoscaler (cluster_autoscaler.cpp): deletes a node unneeded (empty, or under the
//    utilisation threshold with every pod placeable elsewhere) for scaleDownUnneededTime,
//    whatever its cordon; only the node annotation scale-down-disabled stops it; never below a
//    group's minimum; adds a node to a group when pods stay Pending for lack of room.
//  - Karpenter (karpenter.cpp): consolidates empty nodes unless the node or one of its pods
//    says do-not-disrupt; the node it disrupts is tainted karpenter.sh/disrupted first.
//  - kured (kured.cpp): one node at a time under the lock annotation on its DaemonSet, cordon,
//    drain through evictions, reboot, uncordon (unless it was cordoned before), release.
//  - medik8s node-maintenance-operator (node_maintenance.cpp): a NodeMaintenance CR cordons,
//    taints, labels and drains its node and holds a Lease for it; deleting the CR undoes all.
// Nodes the autoscaler or Karpenter delete are not replaced by the sim's provisioner: their
// group shrank (the provisioner stands for a group keeping its size after a node failure).
#include <memory>
#include <string>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"

namespace nonevent::sim {

inline constexpr const char* kScaleDownDisabled = "cluster-autoscaler.kubernetes.io/scale-down-disabled";
inline constexpr const char* kToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";
inline constexpr const char* kDoNotDisrupt = "karpenter.sh/do-not-disrupt";
inline constexpr const char* kKarpenterDisruptedTaint = "karpenter.sh/disrupted";
inline constexpr const char* kKuredLockAnnotation = "weave.works/kured-node-lock";
inline constexpr const char* kKuredNamespace = "kube-system";
inline constexpr const char* kKuredDaemonSet = "kured";
// The sentinel kured looks for (/var/run/reboot-required on a real node).
inline constexpr const char* kRebootRequired = "sim.nonevent.dev/reboot-required";
// Asks the node agent to reboot the node (any new value), keeping its image.
inline constexpr const char* kRebootRequest = "sim.nonevent.dev/reboot-request";
inline constexpr const char* kExcludeFromRemediation = "remediation.medik8s.io/exclude-from-remediation";
inline constexpr const char* kNodeMaintenances = "nodemaintenance.medik8s.io/nodemaintenances";

std::unique_ptr<SimController> make_cluster_autoscaler(const ClusterAutoscalerSpec& spec);
std::unique_ptr<SimController> make_karpenter(const KarpenterSpec& spec);
std::unique_ptr<SimController> make_kured(const KuredSpec& spec);
std::unique_ptr<SimController> make_node_maintenance_operator();

// What the disruptors install when the simulation starts (kured's DaemonSet, the
// NodeMaintenance CRD): objects to create through the API server.
void install_disruptors(ApiServer& api, const ClusterSpec& spec, kube::TimePoint now);

// One pass of `kubectl drain`'s evictions over the node's pods (DaemonSet and mirror pods
// stay, finished pods are ignored): an eviction a PDB refuses is tried again on a later pass.
// Returns how many pods still have to leave the node (terminating ones included).
int evict_node_pods(Simulation& sim, const Snapshot& snap, const std::string& node);

// Whether the node (its DOM) carries the taint `key`.
bool has_taint(const web::json::value& node, const std::string& key);
// A merge patch body setting the node's taints to its current ones plus (or minus) `key`.
web::json::value taints_with(const web::json::value& node, const std::string& key, const std::string& effect, bool present,
                             kube::TimePoint now);

}  // namespace nonevent::sim
