#pragma once
// controller-runtime's shape: shared informers feed a cache; event handlers only enqueue
// window names; one worker reconciles from the queue (a key never twice at once), retrying
// failures with backoff and honouring each result's requeue-after. With leader election only
// the Lease holder runs workers; losing the lease stops the manager.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "controllers/maintenance_window.h"
#include "kube/leader_election.h"
#include "kube/work_queue.h"

namespace nonevent::controllers {

struct ManagerOptions {
  bool leader_elect = false;
  std::string lease_namespace = "default";
  std::string lease_name = "nonevent-operator";
  std::string identity;  // default: hostname_random
};

class Manager {
 public:
  Manager(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, ManagerOptions opts);
  ~Manager();
  // Blocks until stop() or until leadership is lost. Returns false if it stopped for the latter.
  bool run();
  void stop();
  bool leading() const { return leading_.load(); }

 private:
  void work();

  std::shared_ptr<kube::RestClient> client_;
  std::shared_ptr<kube::Clock> clock_;
  ManagerOptions opts_;
  NodeInformer nodes_;
  PodInformer pods_;
  WindowInformer windows_;
  kube::WorkQueue queue_;
  kube::EventRecorder events_;
  MaintenanceWindowController windows_controller_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> leading_{false};
  std::atomic<bool> lost_{false};
};

}  // namespace nonevent::controllers
