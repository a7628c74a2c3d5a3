#pragma once
// The context one PatchCampaign reconcile pass shares between its steps (patch_campaign.cpp
// runs them; campaign_nodes.cpp, campaign_strategy.cpp, campaign_batches.cpp and
// campaign_progress.cpp hold them). Private to those files. Worker thread only.
//
// What the pass read is set once at its start; what it learned and changed (finished nodes
// and batches, failures, blockers, the zones' new status) is folded into the status write at
// its end.
#include <cpprest/json.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controllers/campaign_schedule.h"
#include "controllers/campaign_spec.h"
#include "controllers/health_checks.h"
#include "controllers/other_disruptors.h"
#include "controllers/patch_campaign.h"
#include "planner/campaign_projection.h"

namespace nonevent::controllers {

using NodePtr = std::shared_ptr<const model::Node>;

// A zone a MaintenanceWindow holds: which one (its claim value) and until when.
struct Hold {
  std::string by;  // "MaintenanceWindow/<name>"
  kube::TimePoint until;
};

struct PatchCampaignController::Pass {
  // --- the campaign as read at the start
  std::string name;
  std::string claim;  // "PatchCampaign/<name>", the nodes' claimed-by value
  web::json::value obj;  // the newest version (the status write starts from it)
  int64_t generation = 0;
  web::json::value old_status;
  kube::ObjectReference ref;
  kube::TimePoint now;
  const CampaignSpec* spec = nullptr;  // set once the spec is valid

  // --- the cluster as the caches show it
  std::vector<NodePtr> all_nodes;
  std::vector<NodePtr> claimed;  // ours, as the node cache shows them
  // Our claims the cache does not show yet: node → MachineDeployment a surge claim scaled
  // ("" for others). The controller's own map (claims_unseen_), kept across passes.
  std::map<std::string, std::string>* unseen = nullptr;
  std::map<std::string, std::vector<NodePtr>> by_zone;  // selected nodes by zoneLabel value
  std::vector<std::string> zones;                       // in the order to roll them

  // --- failures (remembered in status: a failed node is released and says nothing itself)
  std::set<std::string> failed;
  web::json::value failed_list = web::json::value::array();
  web::json::value failure_pause;  // status.failurePause as read
  bool resumed_after_failures = false;

  // --- quarantine (failurePolicy.undrainable: Quarantine): the nodes this campaign left
  // cordoned and marked, as the cache shows them (the mark is the record), and whether this
  // pass paused the campaign because one more would exceed maxQuarantinedNodes.
  std::set<std::string> quarantined;
  std::vector<std::string> newly_quarantined;  // this pass (released: the cache still shows them ours)
  bool quarantine_budget_hit = false;
  web::json::value quarantine_pause_out;  // status.quarantinePause as written

  // --- the gates (campaign_gates.cpp): whether new work may start now. The schedule
  // (spec.schedule) and the health checks (spec.healthChecks), and the pause the latter made.
  ScheduleGate gate;
  HealthGate health;
  web::json::value health_pause_out;  // status.healthPause as written
  std::string abort_why;              // the campaign was aborted by something other than its failures
  bool may_start() const { return gate.open && health.passing; }
  // Why no new batch starts ("" when one may): the schedule's reason first, then the checks'.
  const std::string& wait_reason() const { return !gate.open ? gate.reason : health.reason; }
  const std::string& wait_message() const { return !gate.open ? gate.message : health.message; }

  // --- what step 1 (the nodes) leaves for step 2 (the zones)
  // Replace with maxSurge: per MachineDeployment, our surge nodes still holding its extra
  // capacity (from their claim until they are handed back to Cluster API).
  std::map<std::string, int> surge_extra;
  // Cordoned nodes of ours (they will be drained): the planner's trial set.
  std::set<std::string> cordoned_ours;
  // Replace with maxSurge: the new nodes already standing in for an old one.
  std::set<std::string> paired;
  DrainBudget budget;
  // Zones windows hold or are about to evacuate, and the schedulable-zone floor (design 7.2).
  std::set<std::string> zones_held;
  int zone_floor = 2;
  // The zones this campaign steps aside from (respectWindows), and who holds them.
  std::map<std::string, Hold> holds;
  // Nodes other disruptors hold (kured, NMO, Karpenter, the autoscaler, a hand cordon): out of
  // service, counted against the budget and the zone floor, never claimed.
  OtherHolds others;
  OtherHolds others_in_zones;  // of those, the campaign's own nodes (for its condition)
  // --coordinate-kured: kured's DaemonSet (null: kured is not installed) and its lock.
  std::shared_ptr<const model::GenericObject> kured_ds;
  KuredLock kured_lock;
  bool kured_ours = false;

  // --- what the pass learned and changed
  int completed_nodes = 0;
  double completed_node_seconds = 0;
  int completed_batches = 0;
  double completed_batch_seconds = 0;
  web::json::value new_failures = web::json::value::array();
  std::vector<Blocker> blockers;

  // --- the failure budget's verdict (campaign_progress.cpp)
  bool over_budget = false;
  bool aborted = false;
  bool paused = false;
  web::json::value failure_pause_out;

  // --- the zones' new status (campaign_batches.cpp)
  bool canary_completed = false;
  int total = 0, updated = 0, in_progress = 0, active_zones = 0, quarantined_in_zones = 0;
  web::json::value zones_out = web::json::value::array();
  web::json::value current_batch = web::json::value::array();
  std::string current_zone;
  std::vector<planner::ZoneWork> work_left;  // for the ETA
  std::optional<kube::TimePoint> wake;

  // The planner's view of the cluster, built once a pass and only when a step needs it
  // (150,000 pods at the largest scale).
  std::vector<const model::Node*> view_nodes;
  std::vector<const model::Pod*> view_pods;
  std::vector<std::shared_ptr<const model::Pod>> view_pods_pin;

  const CampaignSpec& c() const { return *spec; }
  void fail(const std::string& node, const std::string& reason, const std::string& message);
  void wake_at(kube::TimePoint t) { wake = wake ? std::min(*wake, t) : t; }
  void planner_view(PodInformer& pods);
  // Ours: claimed by this campaign, or claimed a moment ago and not yet in the cache.
  bool ours(const model::Node& n) const;
  bool patched(const model::Node& n) const { return spec->reported_version(n) == spec->version; }
};

// Replace with maxSurge: the MachineDeployment a node of ours still holds extra capacity of
// (surging, or draining once its new node came), or null.
const std::string* holds_surge(const model::Node& n);

// JSON helpers for the status (absent or mistyped fields read as empty).
const web::json::value& field(const web::json::value& v, const char* k);
int64_t integer(const web::json::value& v, const char* k);
double number(const web::json::value& v, const char* k);
std::string text(const web::json::value& v, const char* k);

double seconds(kube::Duration d);
std::optional<kube::TimePoint> annotation_time(const model::Node& n, const char* key);

}  // namespace nonevent::controllers
