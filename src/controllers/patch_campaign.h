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

#include "controllers/install_limits.h"
#include "controllers/drain.h"
#include "controllers/other_disruptors.h"
#include "controllers/campaign_spec.h"
#include "controllers/health_checks.h"
#include "controllers/reconciler.h"
#include "controllers/resource_status.h"
#include "kube/clock.h"

namespace nonevent::controllers {

inline constexpr const char* kCampaignFinalizer = "nonevent.dev/restore-nodes";
inline constexpr const char* kTargetVersionAnnotation = "nonevent.dev/target-version";
// On a PatchCampaign: stop it for good (`kubectl nonevent abort`, or kubectl annotate). Its
// nodes are released as when the failure budget aborts it; the phase is Failed, reason Aborted.
// An annotation rather than a spec field: it is a request to the operator, not a desired state
// a later `kubectl apply` of the file should undo.
inline constexpr const char* kAbortAnnotation = "nonevent.dev/abort";

struct CampaignOptions {
  std::string job_namespace = "default";  // where InPlace patch Jobs are created
  OtherDisruptorSources others;            // what other disruptors hold (other_disruptors.h)
  // Take kured's lock while any node of the campaign is in flight, so kured waits (and do
  // not start a batch while kured holds it).
  bool coordinate_kured = false;
  InstallLimits limits;  // what a campaign may ask for (install_limits.h)
  // Where spec.healthChecks' prometheus checks are answered (--prometheus-url); null: such
  // checks fail, saying the operator has no Prometheus.
  std::shared_ptr<MetricsSource> prometheus;
};

class PatchCampaignController final : public Reconciler {
 public:
  PatchCampaignController(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, NodeInformer& nodes,
                          PodInformer& pods, PdbInformer* pdbs, GenericInformer& campaigns, GenericInformer* windows,
                          kube::EventRecorder& events, CampaignOptions opts = {}, DrainObserver observer = {});
  ReconcileResult reconcile(const std::string& name) override;

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
  struct Pass;      // campaign_pass.h
  struct ZoneRoll;  // campaign_batches.cpp
  struct BatchPicks {
    std::vector<std::pair<std::shared_ptr<const model::Node>, std::string>> surge;  // node, its MachineDeployment
    std::vector<std::shared_ptr<const model::Node>> out;                            // taken out under maxUnavailable
  };

  // The frame (patch_campaign.cpp): guards before any step.
  kube::Result<web::json::value> read_newest(const std::string& name, const ResourceWriter& writer);
  Pass start_pass(const std::string& name, web::json::value obj);
  ReconcileResult finalize(Pass& p, const ResourceWriter& writer);
  void group_by_zone(Pass& p, const CampaignSpec& c, std::vector<std::string>& problems);
  // Bad input (reason InvalidSpec) or a power this installation does not grant (NotAllowed):
  // a condition and an Event, nothing touched.
  ReconcileResult report_invalid(Pass& p, const ResourceWriter& writer, const std::vector<std::string>& problems,
                                 const std::string& reason = "InvalidSpec");
  void read_failures(Pass& p);
  // 1. The nodes we hold, one state on each (campaign_nodes.cpp).
  kube::Status advance_nodes(Pass& p);
  kube::Status advance_node(Pass& p, const model::Node& n);
  kube::Status advance_surging(Pass& p, const model::Node& n);
  kube::Status advance_replacing(Pass& p, const model::Node& n);
  kube::Status advance_failed(Pass& p, const model::Node& n);
  kube::Status advance_draining(Pass& p, const model::Node& n);
  // `held_by`: the first pod (or PDB) the drain still waits on, named in the mark (it points into
  // p.blockers: read before the pass adds to them).
  kube::Status quarantine_node(Pass& p, const model::Node& n, int pods_left, const Blocker* held_by);
  kube::Status advance_patching(Pass& p, const model::Node& n);
  kube::Status advance_verifying(Pass& p, const model::Node& n);
  kube::Status fail_node(Pass& p, const model::Node& n, const std::string& reason, const std::string& message);
  static kube::TimePoint state_since(const Pass& p, const model::Node& n);
  // A drained node's patch, per strategy (campaign_strategy.cpp).
  kube::Status start_patch(Pass& p, const model::Node& n);
  kube::Result<bool> start_in_place(Pass& p, const model::Node& n);  // false: come back next pass
  kube::Status start_external(Pass& p, const model::Node& n);
  kube::Status start_replace(Pass& p, const model::Node& n);
  kube::Status hand_back_surged(Pass& p, const model::Node& n);
  // 2. The failure budget (campaign_progress.cpp).
  kube::Status apply_failure_budget(Pass& p);
  kube::Result<web::json::value> pause_by_spec(Pass& p);
  kube::Status abort_campaign(Pass& p, bool requested);  // requested: by kAbortAnnotation, not the failure budget
  // What the campaign holds beyond its claims, let go when it ends: kured's lock
  // (--coordinate-kured) and the patched nodes' scale-down protection (their prior values back).
  kube::Status end_holds(Pass& p);
  // --coordinate-kured: take kured's lock before a batch goes out (a blocker when kured holds
  // it), and give it back once nothing of ours is in flight (or at the end: `force`).
  kube::Status take_kured_lock_for_batch(Pass& p, ZoneRoll& z);
  kube::Status release_kured_lock_when_idle(Pass& p, bool force = false);
  // The gates (campaign_gates.cpp): the schedule, and the health checks, which may pause or
  // abort the campaign.
  kube::Status open_gates(Pass& p);
  void report_health_change(const Pass& p, const web::json::value& old_health);
  // 3. Zone by zone (campaign_batches.cpp).
  kube::Status roll_zones(Pass& p);
  void count_zone(Pass& p, ZoneRoll& z, const std::set<std::string>& released_now);
  void close_finished_batch(Pass& p, ZoneRoll& z);
  kube::Status roll_zone(Pass& p, ZoneRoll& z, const std::set<std::string>& released_now, bool held);
  kube::Status start_batch(Pass& p, ZoneRoll& z, int zone_size, bool topping_up);
  kube::Result<BatchPicks> select_batch(Pass& p, ZoneRoll& z, int size, int surge_free, int out_free);
  kube::Status claim_batch(Pass& p, ZoneRoll& z, const BatchPicks& picks);
  void record_zone(Pass& p, ZoneRoll& z, const std::set<std::string>& released_now);
  // 4. Surge capacity, ETA, Events, the status write and the next look (campaign_progress.cpp).
  kube::Status keep_surge_capacity(Pass& p);
  std::optional<kube::TimePoint> estimate_completion(const Pass& p, bool complete);
  static bool held_only(const Pass& p);
  static std::string held_zones(const Pass& p);
  static web::json::value quarantined_nodes(const Pass& p);
  static web::json::value schedule_status(const Pass& p);
  void report_schedule_change(const Pass& p, const std::string& phase);
  static std::string summary_of(const Pass& p, const std::string& phase, const std::string& held);
  ReconcileResult write_progress(Pass& p, const ResourceWriter& writer);

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
