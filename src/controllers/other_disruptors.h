#pragma once
// Who else is working on a node (design 2.2a). Real clusters run other node movers beside
// nonevent; a node one of them holds is out of service whatever nonevent decides, so it counts
// against a campaign's maxUnavailable and a window's zone floor, is never claimed, and is
// never uncordoned by nonevent's restore. Each is recognised by the marks it leaves:
//  - kured: the node named in the lock annotation weave.works/kured-node-lock on its DaemonSet;
//  - medik8s node-maintenance-operator: a NodeMaintenance CR naming the node, its taint
//    medik8s.io/drain, or the label remediation.medik8s.io/exclude-from-remediation=true;
//  - Karpenter: the taint karpenter.sh/disrupted (it is removing the node);
//  - cluster-autoscaler: the taint ToBeDeletedByClusterAutoscaler (it is removing the node);
//  - anyone else: a node cordoned that no nonevent claim explains (kubectl cordon, a script).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controllers/drain.h"
#include "controllers/kured_lock.h"

namespace nonevent::controllers {

inline constexpr const char* kNodeMaintenanceDrainTaint = "medik8s.io/drain";
inline constexpr const char* kExcludeFromRemediation = "remediation.medik8s.io/exclude-from-remediation";
inline constexpr const char* kKarpenterDisruptedTaint = "karpenter.sh/disrupted";
inline constexpr const char* kToBeDeletedByAutoscaler = "ToBeDeletedByClusterAutoscaler";

inline constexpr const char* kUnknownHolder = "unknown";  // a bare cordon: nobody drains the node

struct OtherHold {
  std::string holder;  // kured | node-maintenance-operator | karpenter | cluster-autoscaler | unknown
  std::string reason;  // what says so, for status, Events and the log
  // A tool that drains the node itself and owns its cordon (everything but a bare cordon).
  bool by_tool() const { return holder != kUnknownHolder; }
  // "someone" for a bare cordon, else the tool.
  std::string who() const { return by_tool() ? holder : "someone"; }
};
// By node name.
using OtherHolds = std::map<std::string, OtherHold>;

// The caches the view reads (either may be null: that source is then not looked at).
struct OtherDisruptorSources {
  GenericInformer* node_maintenances = nullptr;  // nodemaintenance.medik8s.io/v1beta1
  GenericInformer* kured = nullptr;              // kured's DaemonSet (one object)
};

// The nodes others hold now. A node nonevent has claimed is listed only for a mark another
// tool put there (a cordon under our own claim is ours).
OtherHolds other_holds(const std::vector<std::shared_ptr<const model::Node>>& nodes, const OtherDisruptorSources& sources);
// The same from plain lists (`nonevent plan` reads a snapshot or lists the cluster once).
OtherHolds other_holds(const std::vector<std::shared_ptr<const model::Node>>& nodes,
                       const std::vector<std::shared_ptr<const model::GenericObject>>& node_maintenances,
                       const std::vector<KuredLock>& kured_locks);

// The hold on `node` of a tool that drains it itself, or null (none, or a bare cordon).
const OtherHold* held_by_tool(const OtherHolds& holds, const std::string& node);

// Drops our claim on `node`, as Drainer::release does, but leaves the node cordoned when a tool
// has taken it meanwhile (that tool owns the cordon now and ends it itself), saying so in `why`.
kube::Status release_unless_taken(Drainer& drainer, const model::Node& node, const OtherHolds& holds, bool keep_cordoned,
                                  const std::string& why);

// "kured holds n-a-1 (...); node-maintenance-operator holds n-b-0 (...)" for conditions.
std::string describe(const OtherHolds& holds, size_t max_listed = 5);

}  // namespace nonevent::controllers
