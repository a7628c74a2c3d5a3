#pragma once
// The PatchCampaign reconciler (design 1.2, 2.2, 2.3): rolls a node image across the fleet
// zone by zone, a batch of at most maxUnavailable nodes at a time, each batch first accepted
// by the planner (its evicted pods must find a place again). A node goes claimed/draining →
// patching (InPlace: a Job pinned to it; External: an annotation for an outside agent;
// Replace: the node is deleted and a replacement awaited) → verifying (reports the target and
// is Ready) → released. Canary then soak, batch soak, pause, a failure budget that pauses (by
// setting spec.paused, so resuming is the same gesture as any resume) or aborts, ETA from
// observed durations against the deadline, and zones a MaintenanceWindow holds or is about
// to evacuate are left alone. Everything needed to continue is in the cluster: node
// annotations and the campaign's status.
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "controllers/drain.h"
#include "kube/clock.h"

namespace nonevent::controllers {

inline constexpr const char* kCampaignFinalizer = "nonevent.dev/restore-nodes";
inline constexpr const char* kTargetVersionAnnotation = "nonevent.dev/target-version";

struct CampaignOptions {
  std::string job_namespace = "default";  // where InPlace patch Jobs are created
};

class PatchCampaignController {
 public:
  PatchCampaignController(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, NodeInformer& nodes,
                          PodInformer& pods, PdbInformer* pdbs, GenericInformer& campaigns, GenericInformer* windows,
                          kube::EventRecorder& events, CampaignOptions opts = {}, DrainObserver observer = {});
  kube::Result<std::optional<kube::Duration>> reconcile(const std::string& name);

 private:
  // The newest resourceVersion of each campaign this controller read or wrote (worker
  // thread only): the cache may be used in place of a GET when it holds exactly that.
  std::map<std::string, std::string> newest_seen_;
  // Nodes each campaign claimed whose claim the node cache does not show yet (worker thread
  // only; controller-runtime's "expectations"). Until the cache catches up such a node counts
  // as in flight: read as unclaimed, a batch claimed a moment ago looked finished, and its
  // canary soak started before the canary had (CanaryIsFollowedBySoakBeforeTheNextBatch).
  // Memory only: after a restart the caches are listed afresh and show every claim.
  // Node name -> the MachineDeployment a surge claim scaled ("" for other claims): an unseen
  // surge claim still holds its surge slot and its deployment's extra replica (read as an
  // ordinary claim, a second surge node was claimed beside it and the deployment scaled down).
  std::map<std::string, std::map<std::string, std::string>> claims_unseen_;
  struct Pass;
  std::shared_ptr<kube::RestClient> client_;
  std::shared_ptr<kube::Clock> clock_;
  NodeInformer& nodes_;
  PodInformer& pods_;
  GenericInformer& campaigns_;
  GenericInformer* windows_;
  kube::EventRecorder& events_;
  CampaignOptions opts_;
  Drainer drainer_;
};

// The patch Job's name for a node: "patch-<campaign>-<node>", kept within 63 characters.
std::string patch_job_name(const std::string& campaign, const std::string& node);

}  // namespace nonevent::controllers
