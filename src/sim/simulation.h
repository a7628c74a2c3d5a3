#pragma once
// The simulated cluster behaviour behind the embedded API server: workload controllers
// (Deployment → ReplicaSet → Pod, StatefulSet, DaemonSet, Job), the PDB status controller,
// a scheduler (planner/scheduling), kubelets (start, readiness, graceful termination),
// the node-lifecycle taints, and a provisioner that replaces deleted nodes.
//
// Every controller reads a snapshot of the store and writes through the ApiServer, so the
// sim obeys the same rules (resourceVersions, validation, watch events) as any client.
// Time comes from the clock: step() does what is due now; run_until() drives a
// VirtualClock through every timer, as fast as the CPU allows.
#include <atomic>
#include <cpprest/json.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kube/clock.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/deferred_writes.h"
#include "sim/pass_worker.h"
#include "sim/sim_cache.h"

namespace nonevent::sim {

// What controllers see in one pass: the cache (every object of interest, decoded once per
// change, with what changed since the last pass and lookups by owner, node, namespace and
// label). Whole lists are made on demand: listing 5,000 nodes for every pass was a cost
// that grew with the cluster times the number of passes.
struct Snapshot {
  const SimCache* cache = nullptr;
  Objects nodes() const { return cache->list("/nodes"); }
  Objects daemon_sets() const { return cache->list("apps/daemonsets"); }
  Objects pods_owned_by(const std::string& owner_uid) const { return cache->owned_by("/pods", owner_uid); }
  // What controllers ask of every pod on every pass, from the cache's decoded model (walking
  // the JSON for it was a third of the simulation's time); the JSON for a pod not cached.
  bool pod_active(const web::json::value& pod) const;      // not terminating, not finished
  bool pod_ready(const web::json::value& pod) const;       // Ready=True
  bool pod_terminating(const web::json::value& pod) const;  // deletionTimestamp set
  bool pod_ready_and_staying(const web::json::value& pod) const;  // Ready, not terminating: one lookup
  // A view valid for the pass (into the decoded pod, or into `pod`).
  std::string_view pod_controller_uid(const web::json::value& pod) const;
};

class Simulation;

// One control loop. reconcile() may write; it reports the next time it wants to run.
class SimController {
 public:
  virtual ~SimController() = default;
  virtual const char* name() const = 0;
  virtual void reconcile(Simulation& sim, const Snapshot& snap) = 0;
};

struct SimulationStats {
  long steps = 0, passes = 0, writes = 0, write_errors = 0;
  std::map<std::string, double> controller_seconds;  // wall time spent in each controller
};

class Simulation {
 public:
  Simulation(std::shared_ptr<ApiServer> api, std::shared_ptr<kube::Clock> clock, ClusterSpec spec, uint64_t seed = 1);
  ~Simulation();

  // Runs every controller until nothing changes (bounded), then returns the earliest time a
  // timer wants the simulation to run again.
  std::optional<kube::TimePoint> step();
  // Drives `clock` (which must be the simulation's clock) from timer to timer up to `until`.
  void run_until(kube::TimePoint until, kube::VirtualClock& clock);
  // Steps on a background thread in real time (nonevent sim serve).
  void start(std::chrono::milliseconds period = std::chrono::milliseconds(100));
  void stop();

  // For controllers.
  kube::TimePoint now() const { return clock_->now(); }
  const ClusterSpec& spec() const { return spec_; }
  std::mt19937_64& rng() { return rng_; }
  void wake_at(kube::TimePoint t);
  // A request as the simulated components make it; its answer's HTTP code (the server does
  // not copy the object into the answer for them: ApiRequest::object_unread).
  int request(const std::string& method, const std::string& path, const std::string& body = "",
              const std::string& content_type = "application/json");
  // The same with the body as a DOM, handed to the server as it is (ApiRequest::body_value).
  int request_dom(const std::string& method, const std::string& path, web::json::value body,
                  const std::string& content_type = "application/json");
  // Runs `write` before this pass ends, on whichever of its threads is free (see
  // deferred_writes.h); for writes whose answer the controller does not wait for.
  void defer(std::function<void()> write);
  bool patch(const std::string& path, web::json::value merge_patch);  // merge patch
  // Sets an object's whole status when it differs from `current` (a merge patch would keep
  // fields the new status no longer has, and the controller would rewrite it forever).
  bool set_status(const std::string& object_path, const web::json::value& current, web::json::value status);
  // Sets an object's whole status whatever it was (a JSON patch adding /status), for the
  // status's one writer: a kubelet and its pods. The status as the store writes JSON
  // (ApiRequest::status_json).
  bool replace_status(const std::string& object_path, std::string status_json);
  bool create(const std::string& collection_path, web::json::value obj);
  bool remove(const std::string& path, long grace_seconds = -1);
  ApiServer& api() { return *api_; }
  SimulationStats stats() const;

 private:
  Snapshot snapshot();
  // A request as the simulated components send it (their user agent), without a body yet.
  ApiRequest make_request(const std::string& method, const std::string& path, const std::string& content_type) const;
  int send(const ApiRequest& r);  // counted in the stats; the answer's code
  // A JSON patch of the status subresource testing the object's resourceVersion and then
  // setting the whole status (set_status).
  bool write_status(const std::string& object_path, web::json::value status, const web::json::value& expected_rv);

  std::shared_ptr<ApiServer> api_;
  std::shared_ptr<kube::Clock> clock_;
  ClusterSpec spec_;
  std::mt19937_64 rng_;
  // Each pass runs `controllers_` on the stepping thread and `beside_` on `worker_` at the
  // same time, and then each thread takes the next of `either_` not yet taken (see the
  // constructor for why these may).
  std::vector<std::unique_ptr<SimController>> controllers_, beside_, either_;
  PassWorker worker_;
  DeferredWrites deferred_;
  SimCache cache_;  // step thread only (its change queue is thread-safe)
  std::atomic<bool> dirty_{true};
  std::mutex wake_mu_;  // wake_at() is called from both of a pass's threads
  std::optional<kube::TimePoint> next_wake_;  // guarded by wake_mu_
  mutable std::mutex stats_mu_;
  SimulationStats stats_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex step_mu_;  // one step at a time
};

// Paths of objects for the sim's writes.
std::string object_path(const std::string& api_version, const std::string& resource, const std::string& ns,
                        const std::string& name = "");

}  // namespace nonevent::sim
