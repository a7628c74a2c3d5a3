#pragma once
// controller-runtime's shape: shared informers feed a cache; event handlers only enqueue
// object names; one worker per controller reconciles from its queue (a key never twice at
// once), retrying failures with backoff and honouring each result's requeue-after
// (reconciler.h). Controllers are a list: adding one is one entry in the constructor. No
// worker starts before every cache has synced (a reconcile on a cold cache sees nodes without
// their claims and nodes without pods: exactly the state in which a batch looks safe). With
// leader election only the Lease holder runs workers; losing the lease stops the manager.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "controllers/install_limits.h"
#include "controllers/claim_sweeper.h"
#include "controllers/maintenance_window.h"
#include "controllers/patch_campaign.h"
#include "kube/leader_election.h"
#include "kube/work_queue.h"
#include "controllers/reconciler.h"

namespace nonevent::controllers {

struct ManagerOptions {
  bool leader_elect = false;
  std::string lease_namespace = "default";
  std::string lease_name = "nonevent-operator";
  std::string identity;  // default: hostname_random
  // The Lease's timings (client-go's defaults; on the operator's clock, so a rehearsal at
  // --time-scale 60 gives a leader a quarter of a real second to renew unless lengthened).
  std::chrono::milliseconds lease_duration{15'000}, renew_deadline{10'000}, retry_period{2'000};
  std::string namespace_ = "default";  // the operator's own namespace (patch Jobs run there)
  // kured's DaemonSet ("<namespace>/<name>"), whose lock annotation says which node kured is
  // rebooting (other_disruptors.h); and whether campaigns take that lock themselves while they
  // patch, so kured waits (--coordinate-kured).
  std::string kured_daemonset = "kube-system/kured";
  bool coordinate_kured = false;
  InstallLimits limits;  // what a CR may ask for (install_limits.h)
  // Where InPlace patch Jobs run ("": namespace_).
  std::string patch_job_namespace;
  // Read pods as protobuf (--kube-api-content-type): about three times less decoding per
  // event than JSON (bench/informer_decode), the biggest cache's watch in a large cluster.
  bool pods_as_protobuf = false;
  // Where health checks' Prometheus queries go (--prometheus-url); null: they fail closed.
  std::shared_ptr<MetricsSource> prometheus;
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
  // Every cache has listed once and the workers run (readiness waits for this).
  bool synced() const { return synced_.load(); }
  // Every controller's work queue idle (see WorkQueue::idle).
  bool idle() const;
  // The earliest time a controller asked to look again (a requeue-after), if any: a caller
  // driving virtual time (`nonevent rehearse`) may jump the clock to it when all is idle.
  std::optional<kube::TimePoint> next_wake() const;
  // The newest resourceVersion each main cache has taken in and told its controllers of, by the storage key of what it
  // watches ("/nodes", "/pods", "policy/poddisruptionbudgets", "nonevent.dev/maintenancewindows",
  // "nonevent.dev/patchcampaigns"): with the embedded cluster's newest change of each, a
  // rehearsal knows the operator has seen everything before it lets time move.
  std::vector<std::pair<std::string, std::string>> cache_versions() const;
  // The caches whose list/watch has failed, with no success since, for longer than `grace`
  // ("" when none): a cache that stopped following the cluster makes the operator not ready.
  std::string caches_failing(std::chrono::milliseconds grace) const;

  // The caches, for status metrics (read-only use).
  const GenericInformer& windows() const { return windows_; }
  const GenericInformer& campaigns() const { return campaigns_; }

 private:
  // One controller: its queue, the reconciler the queue feeds, and its worker thread.
  struct Controller {
    std::string name;
    std::unique_ptr<kube::WorkQueue> queue;
    Reconciler* reconciler;
    std::function<std::vector<std::string>()> keys;  // every key it could reconcile now
    std::thread worker;
  };
  Controller& add_controller(const std::string& name, Reconciler& reconciler, std::function<std::vector<std::string>()> keys);
  // A controller whose keys are the objects of `primary`: each change of one enqueues it.
  Controller& add_controller(const std::string& name, Reconciler& reconciler, GenericInformer& primary);
  // Enqueues every object of the controller's kind.
  static void enqueue_every(Controller& c);
  void work(Controller& c);
  // Waits until every cache has synced, or stop(); says in the log which one it waits for.
  // Returns false when stopped first.
  bool wait_for_caches();
  // Calls f(name, informer) for each cache; `self` is *this, const or not.
  template <class Self, class F>
  static void for_each_informer(Self& self, F f);

  std::shared_ptr<kube::RestClient> client_;
  std::shared_ptr<kube::Clock> clock_;
  ManagerOptions opts_;
  ManagerHooks hooks_;
  NodeInformer nodes_;
  PodInformer pods_;
  PdbInformer pdbs_;
  GenericInformer windows_;
  GenericInformer campaigns_;
  // What other disruptors hold (other_disruptors.h): medik8s NodeMaintenance CRs (a type most
  // clusters do not have) and kured's DaemonSet.
  GenericInformer node_maintenances_;
  GenericInformer kured_;
  kube::EventRecorder events_;
  MaintenanceWindowController windows_controller_;
  PatchCampaignController campaigns_controller_;
  ClaimSweeper claim_sweeper_;
  std::vector<std::unique_ptr<Controller>> controllers_;  // fixed after the constructor
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> leading_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> lost_{false};
};

}  // namespace nonevent::controllers
