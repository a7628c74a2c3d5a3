#include "controllers/manager.h"

#include <cstdio>

#include "kube/log.h"

#include "kube/rest_list_watch.h"
#include "model/indexers.h"

namespace nonevent::controllers {

namespace {
template <class T>
kube::EventHandler<T> enqueue_all(const std::function<void()>& f, bool on_add = true) {
  return {on_add ? std::function<void(const T&)>([f](const T&) { f(); }) : nullptr,
          [f](const T&, const T&) { f(); }, [f](const T&) { f(); }};
}
// Our own kinds: with their CRD absent or deleted, their caches sync empty (so the claims of
// objects that went with it are swept) rather than never.
std::shared_ptr<kube::RestListWatch> custom_resources(std::shared_ptr<kube::RestClient> client, kube::GroupVersionResource gvr) {
  auto source = std::make_shared<kube::RestListWatch>(std::move(client), std::move(gvr));
  source->absent_type_lists_empty();
  return source;
}
// Another tool's kind, which the cluster may never have.
std::shared_ptr<kube::RestListWatch> optional_resources(std::shared_ptr<kube::RestClient> client, kube::GroupVersionResource gvr) {
  auto source = std::make_shared<kube::RestListWatch>(std::move(client), std::move(gvr));
  source->optional_type();
  return source;
}
// One named object: "<namespace>/<name>".
std::shared_ptr<kube::RestListWatch> one_object(std::shared_ptr<kube::RestClient> client, kube::GroupVersionResource gvr,
                                                const std::string& ns_name) {
  const auto slash = ns_name.find('/');
  const std::string ns = slash == std::string::npos ? "kube-system" : ns_name.substr(0, slash);
  const std::string name = slash == std::string::npos ? ns_name : ns_name.substr(slash + 1);
  return std::make_shared<kube::RestListWatch>(std::move(client), std::move(gvr), ns, "", "metadata.name=" + name);
}
std::shared_ptr<kube::ListWatchSource> pod_source(std::shared_ptr<kube::RestClient> client, bool protobuf) {
  auto source = std::make_shared<kube::RestListWatch>(std::move(client), kube::resources::pods());
  if (protobuf) source->prefer_protobuf();
  return source;
}
}  // namespace

Manager::Manager(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, ManagerOptions opts,
                 ManagerHooks hooks)
    : client_(client), clock_(clock), opts_(std::move(opts)), hooks_(std::move(hooks)),
      nodes_(std::make_shared<kube::RestListWatch>(client, kube::resources::nodes()), clock),
      pods_(pod_source(client, opts_.pods_as_protobuf), clock),
      pdbs_(std::make_shared<kube::RestListWatch>(client, kube::resources::pod_disruption_budgets()), clock),
      windows_(custom_resources(client, kube::resources::maintenance_windows()), clock),
      campaigns_(custom_resources(client, kube::resources::patch_campaigns()), clock),
      node_maintenances_(optional_resources(client, kube::resources::node_maintenances()), clock),
      kured_(one_object(client, kube::resources::daemon_sets(), opts_.kured_daemonset), clock),
      events_(client, clock),
      windows_controller_(client, clock, nodes_, pods_, &pdbs_, windows_, events_,
                          hooks_.drain_observer ? hooks_.drain_observer("maintenancewindow") : DrainObserver{},
                          OtherDisruptorSources{&node_maintenances_, &kured_}, opts_.limits, opts_.prometheus),
      campaigns_controller_(client, clock, nodes_, pods_, &pdbs_, campaigns_, &windows_, events_,
                            CampaignOptions{.job_namespace = opts_.patch_job_namespace.empty() ? opts_.namespace_ : opts_.patch_job_namespace,
                                            .others = OtherDisruptorSources{&node_maintenances_, &kured_},
                                            .coordinate_kured = opts_.coordinate_kured,
                                            .limits = opts_.limits,
                                            .prometheus = opts_.prometheus},
                            hooks_.drain_observer ? hooks_.drain_observer("patchcampaign") : DrainObserver{}),
      claim_sweeper_(client, nodes_, pods_, &pdbs_, windows_, campaigns_, events_, OtherDisruptorSources{&node_maintenances_, &kured_}) {
  auto& windows = add_controller("maintenancewindow", windows_controller_, windows_);
  auto& campaigns = add_controller("patchcampaign", campaigns_controller_, campaigns_);
  // Claims whose owner is gone: every claimed node when it is seen, and every node an owner
  // held when the owner disappears (deleted, or its CRD gone).
  // The nodes claimed or protected by `claim` ("" for any).
  auto claimed_nodes = [this](const std::string& claim) {
    std::vector<std::string> out;
    for (const auto& n : nodes_.list()) {
      const auto* c = claim_of(*n);
      const auto* protector = n->annotation(kProtectedBy);
      if ((c && (claim.empty() || *c == claim)) || (protector && (claim.empty() || *protector == claim))) out.push_back(n->meta.name);
    }
    return out;
  };
  auto& sweeper = add_controller("claimsweeper", claim_sweeper_, [claimed_nodes] { return claimed_nodes(""); });
  auto sweep_node = [&sweeper](const model::Node& n) {
    if (claim_of(n) || n.annotation(kProtectedBy)) sweeper.queue->add(n.meta.name);
  };
  nodes_.add_handler({sweep_node, [sweep_node](const model::Node&, const model::Node& n) { sweep_node(n); }, nullptr});
  auto sweep_owner = [&sweeper, claimed_nodes](const char* kind) {
    return [&sweeper, claimed_nodes, kind](const model::GenericObject& o) {
      for (const auto& n : claimed_nodes(claim_for(kind, o.meta.name))) sweeper.queue->add(n);
    };
  };
  windows_.add_handler({nullptr, nullptr, sweep_owner("MaintenanceWindow")});
  campaigns_.add_handler({nullptr, nullptr, sweep_owner("PatchCampaign")});
  pods_.add_index(model::kPodsByNode, model::pod_node_index);
  nodes_.add_index(model::kNodesByZone, model::node_zone_index);
  pdbs_.add_index(model::kByNamespace, model::namespace_index<model::PodDisruptionBudget>);
  // Handlers only map an object to the keys to reconcile. Nodes and pods moving wake every
  // window and campaign (there are few of those); a window changing wakes the campaigns,
  // which step aside for it.
  auto all_windows = [&windows] { enqueue_every(windows); };
  auto all_campaigns = [&campaigns] { enqueue_every(campaigns); };
  auto all = [=] {
    all_windows();
    all_campaigns();
  };
  nodes_.add_handler(enqueue_all<model::Node>(all));
  // A window's pass looks at every pod of its zone, so it wakes only for pods that can change
  // its course: on a node a window has claimed (a pod leaving, or landing back while the zone
  // is held). A replacement starting elsewhere matters to it only through its PDB, below.
  // At 150,000 pods the other events woke the window ten times a second for nothing.
  auto on_window_node = [this](const model::Pod& p) {
    if (p.node_name.empty()) return false;
    const auto node = nodes_.get(p.node_name.str());
    const auto* claim = node ? claim_of(*node) : nullptr;
    return claim && claim->rfind("MaintenanceWindow/", 0) == 0;
  };
  pods_.add_handler({nullptr,
                     [=](const model::Pod& old_pod, const model::Pod& pod) {
                       if (on_window_node(pod) || on_window_node(old_pod)) all_windows();
                       all_campaigns();
                     },
                     [=](const model::Pod& pod) {
                       if (on_window_node(pod)) all_windows();
                       all_campaigns();
                     }});
  // A PDB allowing more disruptions lets a waiting drain go on at once (instead of at its
  // next periodic pass); a budget shrinking never does.
  pdbs_.add_handler({nullptr,
                     [=](const model::PodDisruptionBudget& old_pdb, const model::PodDisruptionBudget& pdb) {
                       if (pdb.disruptions_allowed > old_pdb.disruptions_allowed) all();
                     },
                     nullptr});
  windows_.add_handler(enqueue_all<model::GenericObject>(all_campaigns));
  // Another disruptor taking or letting go of a node changes what both may do.
  node_maintenances_.add_handler(enqueue_all<model::GenericObject>(all));
  kured_.add_handler(enqueue_all<model::GenericObject>(all));
}

Manager::~Manager() { stop(); }

Manager::Controller& Manager::add_controller(const std::string& name, Reconciler& reconciler,
                                             std::function<std::vector<std::string>()> keys) {
  auto c = std::make_unique<Controller>();
  c->name = name;
  c->queue = std::make_unique<kube::WorkQueue>(clock_, kube::WorkQueueOptions{.name = name},
                                               hooks_.queue_hooks ? hooks_.queue_hooks(name) : kube::WorkQueueHooks{});
  c->reconciler = &reconciler;
  c->keys = std::move(keys);
  controllers_.push_back(std::move(c));
  return *controllers_.back();
}

Manager::Controller& Manager::add_controller(const std::string& name, Reconciler& reconciler, GenericInformer& primary) {
  auto& c = add_controller(name, reconciler, [&primary] {
    std::vector<std::string> keys;
    for (const auto& o : primary.list()) keys.push_back(o->meta.name);
    return keys;
  });
  auto* q = c.queue.get();
  auto key = [q](const model::GenericObject& o) { q->add(o.meta.name); };
  primary.add_handler({key, [key](const model::GenericObject&, const model::GenericObject& o) { key(o); }, key});
  return c;
}

void Manager::enqueue_every(Controller& c) {
  for (const auto& k : c.keys()) c.queue->add(k);
}

std::string Manager::caches_failing(std::chrono::milliseconds grace) const {
  std::string out;
  auto check = [&](const char* name, const auto& informer) {
    if (informer.failing_longer_than(grace)) out += std::string(out.empty() ? "" : ", ") + name + " (" + informer.last_error() + ")";
  };
  for_each_informer(*this, check);
  return out;
}

bool Manager::idle() const {
  for (const auto& c : controllers_)
    if (!c->queue->idle()) return false;
  return true;
}

std::optional<kube::TimePoint> Manager::next_wake() const {
  std::optional<kube::TimePoint> first;
  for (const auto& c : controllers_)
    if (auto t = c->queue->next_ready(); t && (!first || *t < *first)) first = t;
  return first;
}

std::vector<std::pair<std::string, std::string>> Manager::cache_versions() const {
  return {{"/nodes", nodes_.last_handled_resource_version()},
          {"/pods", pods_.last_handled_resource_version()},
          {"policy/poddisruptionbudgets", pdbs_.last_handled_resource_version()},
          {"nonevent.dev/maintenancewindows", windows_.last_handled_resource_version()},
          {"nonevent.dev/patchcampaigns", campaigns_.last_handled_resource_version()}};
}

void Manager::stop() {
  stopping_ = true;
  for (auto& c : controllers_) c->queue->shutdown();
  if (elector_) elector_->stop();
}

void Manager::work(Controller& c) {
  kube::WorkQueue& queue = *c.queue;
  while (auto key = queue.get()) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.reconciler->reconcile(*key);
    if (hooks_.on_reconcile)
      hooks_.on_reconcile(queue.name(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), r.ok());
    if (!r.ok()) {
      logging::warn(c.name, "reconcile failed; retried with backoff", {{"key", *key}, {"error", r.error().to_string()},
                                                                      {"retries", std::to_string(queue.num_requeues(*key))}});
      queue.add_rate_limited(*key);
    } else {
      queue.forget(*key);
      if (r.value()) queue.add_after(*key, *r.value());
    }
    queue.done(*key);
  }
}

template <class Self, class F>
void Manager::for_each_informer(Self& self, F f) {
  f("nodes", self.nodes_);
  f("pods", self.pods_);
  f("poddisruptionbudgets", self.pdbs_);
  f("maintenancewindows", self.windows_);
  f("patchcampaigns", self.campaigns_);
  f("nodemaintenances", self.node_maintenances_);
  f("kured", self.kured_);
}

bool Manager::wait_for_caches() {
  // Polled in short steps so stop() is honoured; the log names the caches still listing
  // (and why) every ten seconds, never giving up: reconciling on a partial cache is never
  // better than waiting.
  constexpr auto kStep = std::chrono::milliseconds(200);
  constexpr int kReportEvery = 50;  // steps
  for (int step = 1; !stopping_; ++step) {
    std::string waiting;
    std::function<bool(std::chrono::milliseconds)> wait_first;  // waits on the first cache not synced
    auto check = [&](const char* name, auto& informer) {
      if (informer.has_synced()) return;
      if (!wait_first) wait_first = [&informer](std::chrono::milliseconds t) { return informer.wait_for_sync(t); };
      const auto err = informer.last_error();
      waiting += std::string(waiting.empty() ? "" : ", ") + name + (err.empty() ? "" : " (" + err + ")");
    };
    for_each_informer(*this, check);
    if (!wait_first) return true;
    if (step % kReportEvery == 0)
      logging::warn("manager", "waiting for caches to sync; no controller runs until they have", {{"waiting", waiting}});
    wait_first(kStep);  // returns as soon as that cache syncs; the others are checked again above
  }
  return false;
}

bool Manager::run() {
  // On a thread of its own: with leader election this runs from the elector's callback, which
  // must return at once so the lease keeps being renewed while the caches list.
  std::thread starter;
  auto start_workers = [&] {
    starter = std::thread([this] {
      for_each_informer(*this, [](const char*, auto& i) { i.start(); });
      if (!wait_for_caches()) return;
      logging::info("manager", "caches synced; starting the controllers",
                    {{"nodes", std::to_string(nodes_.size())}, {"pods", std::to_string(pods_.size())}, {"pdbs", std::to_string(pdbs_.size())},
                     {"windows", std::to_string(windows_.size())}, {"campaigns", std::to_string(campaigns_.size())}});
      synced_ = true;
      leading_ = true;
      if (hooks_.on_leading) hooks_.on_leading(true);
      for (auto& c : controllers_) c->worker = std::thread([this, &c = *c] { work(c); });
    });
  };
  if (opts_.leader_elect) {
    kube::LeaderElectionConfig cfg;
    cfg.lease_namespace = opts_.lease_namespace;
    cfg.lease_name = opts_.lease_name;
    cfg.identity = opts_.identity.empty() ? kube::default_identity() : opts_.identity;
    cfg.lease_duration = opts_.lease_duration;
    cfg.renew_deadline = opts_.renew_deadline;
    cfg.retry_period = opts_.retry_period;
    cfg.on_started_leading = [&] { start_workers(); };
    cfg.on_stopped_leading = [this] {
      lost_ = !stopping_.load();
      stop();
    };
    elector_ = std::make_unique<kube::LeaderElector>(client_, cfg, clock_);
    elector_->run();  // blocks until stop() or lost leadership
  } else {
    start_workers();
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& c : controllers_) c->queue->shutdown();
  if (starter.joinable()) starter.join();  // stopping_ is set: it returns, or has started the workers
  for (auto& c : controllers_)
    if (c->worker.joinable()) c->worker.join();
  synced_ = false;
  for_each_informer(*this, [](const char*, auto& i) { i.stop(); });
  events_.flush();
  leading_ = false;
  if (hooks_.on_leading) hooks_.on_leading(false);
  return !lost_;
}

}  // namespace nonevent::controllers
