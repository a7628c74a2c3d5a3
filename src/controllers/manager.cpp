#include "controllers/manager.h"

#include <cstdio>

#include "kube/rest_list_watch.h"
#include "model/indexers.h"

namespace nonevent::controllers {

namespace {
template <class T>
kube::EventHandler<T> enqueue_all(const std::function<void()>& f, bool on_add = true) {
  return {on_add ? std::function<void(const T&)>([f](const T&) { f(); }) : nullptr,
          [f](const T&, const T&) { f(); }, [f](const T&) { f(); }};
}
}  // namespace

Manager::Manager(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, ManagerOptions opts,
                 ManagerHooks hooks)
    : client_(client), clock_(clock), opts_(std::move(opts)), hooks_(std::move(hooks)),
      nodes_(std::make_shared<kube::RestListWatch>(client, kube::resources::nodes()), clock),
      pods_(std::make_shared<kube::RestListWatch>(client, kube::resources::pods()), clock),
      pdbs_(std::make_shared<kube::RestListWatch>(client, kube::resources::pod_disruption_budgets()), clock),
      windows_(std::make_shared<kube::RestListWatch>(client, kube::resources::maintenance_windows()), clock),
      campaigns_(std::make_shared<kube::RestListWatch>(client, kube::resources::patch_campaigns()), clock),
      window_queue_(clock, {.name = "maintenancewindow"}, hooks_.queue_hooks ? hooks_.queue_hooks("maintenancewindow") : kube::WorkQueueHooks{}),
      campaign_queue_(clock, {.name = "patchcampaign"}, hooks_.queue_hooks ? hooks_.queue_hooks("patchcampaign") : kube::WorkQueueHooks{}),
      events_(client, clock),
      windows_controller_(client, clock, nodes_, pods_, &pdbs_, windows_, events_,
                          hooks_.drain_observer ? hooks_.drain_observer("maintenancewindow") : DrainObserver{}),
      campaigns_controller_(client, clock, nodes_, pods_, &pdbs_, campaigns_, &windows_, events_,
                            CampaignOptions{.job_namespace = opts_.namespace_},
                            hooks_.drain_observer ? hooks_.drain_observer("patchcampaign") : DrainObserver{}) {
  pods_.add_index(model::kPodsByNode, model::pod_node_index);
  nodes_.add_index(model::kNodesByZone, model::node_zone_index);
  pdbs_.add_index(model::kByNamespace, model::namespace_index<model::PodDisruptionBudget>);
  // Handlers only map an object to the keys to reconcile.
  windows_.add_handler({[this](const model::GenericObject& w) { window_queue_.add(w.meta.name); },
                        [this](const model::GenericObject&, const model::GenericObject& w) { window_queue_.add(w.meta.name); },
                        [this](const model::GenericObject& w) { window_queue_.add(w.meta.name); }});
  campaigns_.add_handler({[this](const model::GenericObject& c) { campaign_queue_.add(c.meta.name); },
                          [this](const model::GenericObject&, const model::GenericObject& c) { campaign_queue_.add(c.meta.name); },
                          [this](const model::GenericObject& c) { campaign_queue_.add(c.meta.name); }});
  // Nodes and pods moving wake every window and campaign (there are few of those); a
  // window changing wakes the campaigns, which step aside for it.
  auto all_windows = [this] {
    for (const auto& w : windows_.list()) window_queue_.add(w->meta.name);
  };
  auto all_campaigns = [this] {
    for (const auto& c : campaigns_.list()) campaign_queue_.add(c->meta.name);
  };
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
}

Manager::~Manager() { stop(); }

void Manager::stop() {
  stopping_ = true;
  window_queue_.shutdown();
  campaign_queue_.shutdown();
  if (elector_) elector_->stop();
}

void Manager::work(kube::WorkQueue& queue, const Reconcile& reconcile) {
  while (auto key = queue.get()) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = reconcile(*key);
    if (hooks_.on_reconcile)
      hooks_.on_reconcile(queue.name(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), r.ok());
    if (!r.ok()) {
      std::fprintf(stderr, "level=error controller=%s key=%s msg=\"reconcile failed\" error=\"%s\"\n", queue.name().c_str(),
                   key->c_str(), r.error().to_string().c_str());
      queue.add_rate_limited(*key);
    } else {
      queue.forget(*key);
      if (r.value()) queue.add_after(*key, *r.value());
    }
    queue.done(*key);
  }
}

template <class F>
void Manager::for_each_informer(F f) {
  f(nodes_);
  f(pods_);
  f(pdbs_);
  f(windows_);
  f(campaigns_);
}

bool Manager::run() {
  std::thread window_worker, campaign_worker;
  auto start_workers = [&] {
    for_each_informer([](auto& i) { i.start(); });
    for_each_informer([](auto& i) { i.wait_for_sync(std::chrono::seconds(60)); });
    std::fprintf(stderr, "level=info msg=\"caches synced\" nodes=%zu pods=%zu pdbs=%zu windows=%zu campaigns=%zu\n", nodes_.size(),
                 pods_.size(), pdbs_.size(), windows_.size(), campaigns_.size());
    synced_ = true;
    leading_ = true;
    if (hooks_.on_leading) hooks_.on_leading(true);
    window_worker = std::thread([this] { work(window_queue_, [this](const std::string& k) { return windows_controller_.reconcile(k); }); });
    campaign_worker =
        std::thread([this] { work(campaign_queue_, [this](const std::string& k) { return campaigns_controller_.reconcile(k); }); });
  };
  if (opts_.leader_elect) {
    kube::LeaderElectionConfig cfg;
    cfg.lease_namespace = opts_.lease_namespace;
    cfg.lease_name = opts_.lease_name;
    cfg.identity = opts_.identity.empty() ? kube::default_identity() : opts_.identity;
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
  window_queue_.shutdown();
  campaign_queue_.shutdown();
  if (window_worker.joinable()) window_worker.join();
  if (campaign_worker.joinable()) campaign_worker.join();
  for_each_informer([](auto& i) { i.stop(); });
  events_.flush();
  leading_ = false;
  if (hooks_.on_leading) hooks_.on_leading(false);
  return !lost_;
}

}  // namespace nonevent::controllers
