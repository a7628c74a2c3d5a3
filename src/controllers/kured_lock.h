#pragma once
// kured's reboot lock (kubereboot/kured pkg/daemonsetlock): the annotation
// weave.works/kured-node-lock on kured's DaemonSet, {"nodeID": ..., "metadata": ...,
// "created": ..., "TTL": ...}, or with --concurrency > 1 {"maxOwners": n, "locks": [...]}.
// kured reboots only the node named there. nonevent reads it to count kured's node out of
// service, and with --coordinate-kured takes it while a campaign patches, so kured waits.
//
// nonevent names itself, not the node it patches, in nodeID ("nonevent:PatchCampaign/<name>"):
// a kured pod whose node is named there believes it holds the lock, and at its start releases
// it, or reboots its node if a reboot is pending.
#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/rest_client.h"
#include "model/objects.h"

namespace nonevent::controllers {

inline constexpr const char* kKuredLockAnnotation = "weave.works/kured-node-lock";

struct KuredLock {
  std::vector<std::string> holders;  // nodeIDs
  std::string text;                  // the annotation as read ("" when free)
  std::string resource_version;      // of the DaemonSet, for a conditional write
  bool unreadable = false;           // present but not JSON kured writes: treated as held
  bool held() const { return !holders.empty() || unreadable; }
  bool held_by(const std::string& holder) const;
};
KuredLock read_kured_lock(const model::GenericObject& daemon_set);

// The nodeID nonevent writes for `claim` ("PatchCampaign/<name>").
std::string kured_holder(const std::string& claim);
// Takes the free lock for `claim`, conditional on the DaemonSet's resourceVersion (a conflict:
// someone else wrote first; try again on a later pass).
kube::Status take_kured_lock(kube::RestClient& client, const model::GenericObject& daemon_set, const std::string& claim,
                             kube::TimePoint now);
// Releases the lock if `claim` holds it (conditional as above).
kube::Status release_kured_lock(kube::RestClient& client, const model::GenericObject& daemon_set, const std::string& claim);

}  // namespace nonevent::controllers
