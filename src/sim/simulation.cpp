#include "sim/simulation.h"

#include "model/json_write.h"
#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;

std::string object_path(const std::string& api_version, const std::string& resource, const std::string& ns,
                        const std::string& name) {
  std::string p = api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
  if (!ns.empty()) p += "/namespaces/" + ns;
  p += "/" + resource;
  if (!name.empty()) p += "/" + name;
  return p;
}

Simulation::Simulation(std::shared_ptr<ApiServer> api, std::shared_ptr<kube::Clock> clock, ClusterSpec spec, uint64_t seed)
    : api_(std::move(api)), clock_(std::move(clock)), spec_(std::move(spec)), rng_(seed) {
  api_->set_graceful_pod_deletion(true);  // kubelets finish what a delete starts
  // Every controller of a pass reads the same snapshot (taken before the pass), so within a
  // pass their order does not matter, and the pass runs them on two threads, as
  // kube-scheduler, kube-controller-manager's controllers and the kubelets run beside each
  // other. What makes that safe and keeps a pass's outcome independent of how the two
  // threads' writes interleave: two controllers that may run at the same time never write the
  // same object in ways whose order matters, none that may run beside another draws from
  // the shared random source (pod names), and all only read the snapshot.
  //  - The workload controllers create and delete pods with generated names: they stay on
  //    the stepping thread, in this order.
  //  - The scheduler writes only pods that are not bound (bindings, PodScheduled): it runs on
  //    the second thread.
  //  - Each kubelet shard writes only the status of pods bound to its nodes, and deletes
  //    them at the end of their grace (a workload controller's delete or label patch
  //    commutes with that). The Deployment controller writes Deployments and its
  //    ReplicaSets' spec; the ReplicaSet controller writes its status only if nobody wrote
  //    the ReplicaSet since the snapshot (and otherwise again in the next pass); the
  //    disruption controller writes only PDB status. These run on whichever thread is free
  //    first, the disruption controller (an evacuation's costliest) first, so a pass whose
  //    work is all one kind (the boot's passes that start 150,000 pods) still uses both
  //    cores, and an evacuation's passes (the disruption controller was a third of the
  //    second thread's time there, beside the scheduler) leave neither thread waiting long
  //    for the other.
  controllers_.push_back(make_node_lifecycle_controller());
  controllers_.push_back(make_provisioner());
  controllers_.push_back(make_replica_set_controller());
  controllers_.push_back(make_stateful_set_controller());
  controllers_.push_back(make_daemon_set_controller());
  controllers_.push_back(make_job_controller());
  controllers_.push_back(make_node_agent());
  controllers_.push_back(make_machine_controller());
  // The cluster's other disruptors, when the cluster file turns them on (disruptors.h). They
  // write nodes, evictions and their own objects, and keep their timers themselves: on the
  // stepping thread, after the controllers whose pods they move.
  const auto& d = spec_.disruptors;
  if (d.cluster_autoscaler) controllers_.push_back(make_cluster_autoscaler(*d.cluster_autoscaler));
  if (d.karpenter) controllers_.push_back(make_karpenter(*d.karpenter));
  if (d.kured) controllers_.push_back(make_kured(*d.kured));
  if (d.node_maintenance) controllers_.push_back(make_node_maintenance_operator());
  install_disruptors(*api_, spec_, clock_->now());
  beside_.push_back(make_scheduler());
  either_.push_back(make_pdb_controller());
  either_.push_back(make_deployment_controller());
  either_.push_back(make_kubelets(0, 2));
  either_.push_back(make_kubelets(1, 2));
  api_->store().add_observer([this](const Change& c) {
    dirty_ = true;
    cache_.on_change(c);
  });
  cache_.load(api_->store());
}

Simulation::~Simulation() { stop(); }

SimulationStats Simulation::stats() const {
  std::lock_guard g(stats_mu_);
  return stats_;
}

void Simulation::wake_at(kube::TimePoint t) {
  std::lock_guard g(wake_mu_);
  if (!next_wake_ || t < *next_wake_) next_wake_ = t;
}

ApiRequest Simulation::make_request(const std::string& method, const std::string& path, const std::string& content_type) const {
  ApiRequest r;
  r.method = method;
  r.path = path;
  r.headers["content-type"] = content_type;
  r.headers["user-agent"] = "nonevent-sim";
  // With `sim serve --tls` the server requires its token of everyone, its own components too
  // (without it they were refused with 401 and did nothing: no ReplicaSets, pods Pending).
  if (!api_->bearer_token().empty()) r.headers["authorization"] = "Bearer " + api_->bearer_token();
  r.object_unread = true;  // the components read only the code
  return r;
}

int Simulation::request(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type) {
  ApiRequest r = make_request(method, path, content_type);
  r.body = body;
  return send(r);
}

int Simulation::request_dom(const std::string& method, const std::string& path, value body,
                            const std::string& content_type) {
  ApiRequest r = make_request(method, path, content_type);
  r.body_value = std::move(body);
  return send(r);
}

int Simulation::send(const ApiRequest& r) {
  auto resp = api_->handle(r);
  std::lock_guard g(stats_mu_);
  ++stats_.writes;
  if (resp.status >= 300) ++stats_.write_errors;
  return resp.status;
}

void Simulation::defer(std::function<void()> write) { deferred_.add(std::move(write)); }

bool Simulation::patch(const std::string& path, value merge_patch) {
  return request_dom("PATCH", path, std::move(merge_patch), "application/merge-patch+json") < 300;
}

bool Simulation::set_status(const std::string& object_path, const value& current, value status) {
  // Compared as DOMs (members are kept sorted; cpprest types every non-negative integer
  // alike): serializing both was a cost of its own for every PDB, ReplicaSet and Deployment
  // a pod event touched.
  if (current.has_field("status") && current.at("status") == status) return true;
  // Conditional on the version the controller read, as the real controllers' updates are:
  // a concurrent write (an eviction recording disruptedPods) is never overwritten.
  return write_status(object_path, std::move(status), current.at("metadata").at("resourceVersion"));
}

bool Simulation::replace_status(const std::string& object_path, std::string status_json) {
  ApiRequest r = make_request("PATCH", object_path + "/status", "application/json-patch+json");
  r.status_json = std::move(status_json);
  return send(r) < 300;
}

bool Simulation::write_status(const std::string& object_path, value status, const value& expected_rv) {
  value ops = value::array(2);
  ops[0]["op"] = value::string("test");
  ops[0]["path"] = value::string("/metadata/resourceVersion");
  ops[0]["value"] = expected_rv;
  ops[1]["op"] = value::string("add");  // add replaces an existing member as a whole
  ops[1]["path"] = value::string("/status");
  ops[1]["value"] = std::move(status);
  return request_dom("PATCH", object_path + "/status", std::move(ops), "application/json-patch+json") < 300;
}

bool Simulation::create(const std::string& collection_path, value obj) {
  return request_dom("POST", collection_path, std::move(obj)) < 300;
}

bool Simulation::remove(const std::string& path, long grace_seconds) {
  std::string body;
  if (grace_seconds >= 0) body = R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":)" + std::to_string(grace_seconds) + "}";
  const int code = request("DELETE", path, body);
  return code < 300 || code == 404;
}

bool Snapshot::pod_active(const value& pod) const {
  if (const auto* m = cache->pod_of(pod))
    return !m->meta.deleted && !m->finished();
  return json::pod_active(pod);
}
bool Snapshot::pod_ready(const value& pod) const {
  if (const auto* m = cache->pod_of(pod)) return m->ready;
  return json::pod_ready(pod);
}
bool Snapshot::pod_terminating(const value& pod) const {
  if (const auto* m = cache->pod_of(pod)) return m->meta.deleted.has_value();
  return json::terminating(pod);
}
bool Snapshot::pod_ready_and_staying(const value& pod) const {
  if (const auto* m = cache->pod_of(pod)) return m->ready && !m->meta.deleted;
  return json::pod_ready(pod) && !json::terminating(pod);
}
std::string_view Snapshot::pod_controller_uid(const value& pod) const {
  if (const auto* m = cache->pod_of(pod)) {
    const auto* c = m->meta.controller();
    return c ? c->uid.view() : std::string_view();
  }
  return json::controller_uid_view(pod);
}

Snapshot Simulation::snapshot() {
  cache_.apply_pending(&worker_);  // idle between passes
  Snapshot s;
  s.cache = &cache_;
  return s;
}

std::optional<kube::TimePoint> Simulation::step() {
  std::lock_guard g(step_mu_);
  {
    std::lock_guard sg(stats_mu_);
    ++stats_.steps;
  }
  auto next_wake = [&] {
    std::lock_guard wg(wake_mu_);
    return next_wake_;
  };
  const auto now = clock_->now();
  if (const auto wake = next_wake(); !dirty_ && !(wake && *wake <= now)) return wake;
  // Run passes until a pass writes nothing (bounded: a controller that keeps writing is a bug
  // to see in the stats, not a hang).
  for (int pass = 0; pass < 50; ++pass) {
    dirty_ = false;
    {
      std::lock_guard wg(wake_mu_);
      next_wake_.reset();
    }
    const auto snap = snapshot();
    std::vector<double> spent(controllers_.size()), spent_beside(beside_.size()), spent_either(either_.size());
    auto timed = [&](SimController& c, double& spent_in) {
      const auto t0 = std::chrono::steady_clock::now();
      c.reconcile(*this, snap);
      spent_in = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::atomic<size_t> next_either{0};
    deferred_.start(2);
    auto run = [&](std::vector<std::unique_ptr<SimController>>& group, std::vector<double>& spent_in) {
      try {
        for (size_t i = 0; i < group.size(); ++i) timed(*group[i], spent_in[i]);
        for (size_t i; (i = next_either.fetch_add(1)) < either_.size();) timed(*either_[i], spent_either[i]);
      } catch (...) {
        deferred_.finish_and_drain();  // the other thread waits for this one to stop adding
        throw;
      }
      // Waiting for the other thread, this one frees and decodes for the next pass's cache
      // update, which both threads would otherwise wait for.
      deferred_.finish_and_drain([this] { return cache_.work_ahead(); });
    };
    worker_.post([&] { run(beside_, spent_beside); });
    try {
      run(controllers_, spent);
    } catch (...) {
      next_either = either_.size();  // the worker starts nothing more
      worker_.wait();  // the snapshot must outlive the other thread's use of it
      throw;
    }
    worker_.wait();
    cache_.clear_changes();  // every controller has seen them
    {
      std::lock_guard sg(stats_mu_);
      ++stats_.passes;
      for (size_t i = 0; i < controllers_.size(); ++i) stats_.controller_seconds[controllers_[i]->name()] += spent[i];
      for (size_t i = 0; i < beside_.size(); ++i) stats_.controller_seconds[beside_[i]->name()] += spent_beside[i];
      for (size_t i = 0; i < either_.size(); ++i) stats_.controller_seconds[either_[i]->name()] += spent_either[i];
    }
    if (!dirty_) break;
  }
  return next_wake();
}

void Simulation::run_until(kube::TimePoint until, kube::VirtualClock& clock) {
  for (;;) {
    auto next = step();
    if (!next || *next > until) {
      if (clock.now() < until) clock.set(until);
      step();
      return;
    }
    if (*next > clock.now()) clock.set(*next);
  }
}

void Simulation::start(std::chrono::milliseconds period) {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, period] {
    while (!stopping_) {
      step();
      std::this_thread::sleep_for(period);
    }
  });
}

void Simulation::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace nonevent::sim
