#pragma once
// controller-runtime's shape: shared informers feed a cache; event handlers only enqueue
// object names; one worker per controller reconciles from its queue (a key never twice at
// once), retrying failures with backoff and honouring each result's requeue-after. With
// leader election only the Lease holder runs workers; losing the lease stops the manager.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "controllers/maintenance_window.h"
#include "controllers/patch_campaign.h"
#include "kube/leader_election.h"
#include "kube/work_queue.h"

namespace nonevent::controllers {

struct ManagerOptions {
  bool leader_elect = false;
  std::string lease_namespace = "default";
  std::string lease_name = "nonevent-operator";
  std::string identity;  // default: hostname_random
  std::string namespace_ = "default";  // the operator's own namespace (patch Jobs run there)
};

// What the manager reports as it runs (metrics hang off these; all optional).
struct ManagerHooks {
  std::function<void(const std::string& controller, double seconds, bool ok)> on_reconcile;
  std::function<kube::WorkQueueHooks(const std::string& queue)> queue_hooks;
  std::function<void(bool leading)> on_leading;
  std::function<DrainObserver(const std::string& controller)> drain_observer;
};

class Manager {
 public:
  Manager(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, ManagerOptions opts,
          ManagerHooks hooks = {});
  ~Manager();
  // Blocks until stop() or until leadership is lost. Returns false if it stopped for the latter.
  bool run();
  void stop();
  bool leading() const { return leading_.load(); }
  bool synced() const { return synced_.load(); }
  // Both work queues idle (see WorkQueue::idle).
  bool idle() const { return window_queue_.idle() && campaign_queue_.idle(); }

  // The caches, for status metrics (read-only use).
  const GenericInformer& windows() const { return windows_; }
  const GenericInformer& campaigns() const { return campaigns_; }

 private:
  using Reconcile = std::function<kube::Result<std::optional<kube::Duration>>(const std::string&)>;
  void work(kube::WorkQueue& queue, const Reconcile& reconcile);
  template <class F>
  void for_each_informer(F f);

  std::shared_ptr<kube::RestClient> client_;
  std::shared_ptr<kube::Clock> clock_;
  ManagerOptions opts_;
  ManagerHooks hooks_;
  NodeInformer nodes_;
  PodInformer pods_;
  PdbInformer pdbs_;
  GenericInformer windows_;
  GenericInformer campaigns_;
  kube::WorkQueue window_queue_;
  kube::WorkQueue campaign_queue_;
  kube::EventRecorder events_;
  MaintenanceWindowController windows_controller_;
  PatchCampaignController campaigns_controller_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> leading_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> lost_{false};
};

}  // namespace nonevent::controllers
