#pragma once
// The MaintenanceWindow reconciler (design 1.1, 2.2): ahead of a one-off window it cordons
// the window's nodes with claim annotations and drains them through the eviction API (so
// every PodDisruptionBudget is respected by the API server itself), holds the zone empty
// for the window, then uncordons only what it cordoned. All progress lives in the cluster
// (node annotations, the window's status): a restarted operator continues where it was.
//
// Before touching anything it runs the planner's preflight (status.preflight); with
// safety.requireCapacity a preflight that finds pods with no place to go (capacity, the
// cordoned-zone spread trap) blocks the window instead.
//
// Recurring windows (cron in an IANA time zone) work occurrence by occurrence: the earliest
// one not yet over is the window; between occurrences its nodes are restored.
//
// After a one-off window, with rebalance, displaced replicas are moved back (rebalance.h);
// overlapping windows are held together to safety.minAvailableZones.
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "controllers/drain.h"
#include "controllers/health_checks.h"
#include "controllers/install_limits.h"
#include "controllers/other_disruptors.h"
#include "controllers/reconciler.h"
#include "kube/clock.h"

namespace nonevent::controllers {

using WindowInformer = GenericInformer;

struct WindowSpec;  // window_spec.h

inline constexpr const char* kWindowFinalizer = "nonevent.dev/restore-nodes";

class MaintenanceWindowController final : public Reconciler {
 public:
  MaintenanceWindowController(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock,
                              NodeInformer& nodes, PodInformer& pods, PdbInformer* pdbs, WindowInformer& windows,
                              kube::EventRecorder& events, DrainObserver observer = {}, OtherDisruptorSources others = {},
                              InstallLimits limits = {}, std::shared_ptr<MetricsSource> prometheus = nullptr);
  // Reconciles one window by name (the outcomes: reconciler.h).
  ReconcileResult reconcile(const std::string& name) override;

 private:
  struct Progress;  // a drain pass's counts and blockers
  struct Pass;      // what one reconcile read, shared by the steps below
  // One function per phase, after reconcile's guards (gone, deleting, invalid, no finalizer).
  ReconcileResult sync_scheduled(Pass& p);  // before evacuation, or suspended
  ReconcileResult sync_active(Pass& p);     // evacuating and holding
  ReconcileResult sync_ended(Pass& p);      // restore, rebalance
  // Why evacuating now would break safety.minAvailableZones ("" when it would not).
  std::string zone_floor_refusal(Pass& p);
  kube::Status drain_node(Pass& p, const model::Node& n, DrainBudget& budget, Progress& pr);
  ReconcileResult report_progress(Pass& p, const Progress& pr, int in_flight);
  kube::Status restore(Pass& p, bool keep_cordoned, const std::string& why = "");
  HealthGate rebalance_health(Pass& p, const WindowSpec& w, web::json::value& status);
  ReconcileResult finalize(Pass& p);  // deleted: restore, rebalance, let go
  // Writes `status` merged into the fresh one, only when it changed (volatile parts at most
  // every kVolatileStatusEvery).
  kube::Status write_status(Pass& p, web::json::value status);
  static std::string summary_of(const Pass& p, const web::json::value& status);
  kube::Status blocked_status(Pass& p, const std::string& reason, const std::string& message,
                              const web::json::value& preflight = web::json::value::null());
  planner::Preflight run_preflight(const Pass& p);
  web::json::value preflight_json(const Pass& p, const planner::Preflight& pf);
  std::shared_ptr<kube::RestClient> client_;
  std::shared_ptr<kube::Clock> clock_;
  NodeInformer& nodes_;
  PodInformer& pods_;
  WindowInformer& windows_;
  PdbInformer* pdbs_;
  kube::EventRecorder& events_;
  Drainer drainer_;
  OtherDisruptorSources others_;
  InstallLimits limits_;
  std::shared_ptr<MetricsSource> prometheus_;  // spec.healthChecks' prometheus checks (null: they fail)
  // Each window's status.health as last written (worker thread only): a pass soon after reads
  // a cached status that may not show it yet, and would evaluate again as if never checked.
  std::map<std::string, web::json::value> health_written_;
  // When each window's status was last written for a change only in its volatile parts (the
  // blocked-pod count, the blocker list, condition messages): such changes are written at
  // most every kVolatileStatusEvery, or a drain writes its status on every pod event.
  std::map<std::string, kube::TimePoint> volatile_written_;  // worker thread only
};

}  // namespace nonevent::controllers
