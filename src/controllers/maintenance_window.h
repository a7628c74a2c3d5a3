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
// Not yet here (see issue 4): rebalancing, and overlapping windows against minAvailableZones
// across windows.
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "controllers/drain.h"
#include "kube/clock.h"

namespace nonevent::controllers {

using WindowInformer = GenericInformer;

inline constexpr const char* kWindowFinalizer = "nonevent.dev/restore-nodes";

class MaintenanceWindowController {
 public:
  MaintenanceWindowController(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock,
                              NodeInformer& nodes, PodInformer& pods, PdbInformer* pdbs, WindowInformer& windows,
                              kube::EventRecorder& events, DrainObserver observer = {});
  // Reconciles one window by name. Returns when to look again without a change to wait for;
  // an error value asks for a rate-limited retry.
  kube::Result<std::optional<kube::Duration>> reconcile(const std::string& name);

 private:
  struct Progress;
  std::shared_ptr<kube::RestClient> client_;
  std::shared_ptr<kube::Clock> clock_;
  NodeInformer& nodes_;
  PodInformer& pods_;
  WindowInformer& windows_;
  PdbInformer* pdbs_;
  kube::EventRecorder& events_;
  Drainer drainer_;
  // When each window's status was last written for a change only in its volatile parts (the
  // blocked-pod count, the blocker list, condition messages): such changes are written at
  // most every kVolatileStatusEvery, or a drain writes its status on every pod event.
  std::map<std::string, kube::TimePoint> volatile_written_;  // worker thread only
};

}  // namespace nonevent::controllers
