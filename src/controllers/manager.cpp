#include "controllers/manager.h"

#include <cstdio>

#include "kube/rest_list_watch.h"
#include "model/indexers.h"

namespace nonevent::controllers {

Manager::Manager(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock, ManagerOptions opts)
    : client_(client), clock_(clock), opts_(std::move(opts)),
      nodes_(std::make_shared<kube::RestListWatch>(client, kube::resources::nodes()), clock),
      pods_(std::make_shared<kube::RestListWatch>(client, kube::resources::pods()), clock),
      windows_(std::make_shared<kube::RestListWatch>(client, kube::resources::maintenance_windows()), clock),
      queue_(clock, {.name = "maintenancewindow"}),
      events_(client, clock),
      windows_controller_(client, clock, nodes_, pods_, windows_, events_) {
  pods_.add_index(model::kPodsByNode, model::pod_node_index);
  nodes_.add_index(model::kNodesByZone, model::node_zone_index);
  // Handlers only map an object to the keys to reconcile.
  windows_.add_handler({[this](const model::GenericObject& w) { queue_.add(w.meta.name); },
                        [this](const model::GenericObject&, const model::GenericObject& w) { queue_.add(w.meta.name); },
                        [this](const model::GenericObject& w) { queue_.add(w.meta.name); }});
  auto all_windows = [this] {
    for (const auto& w : windows_.list()) queue_.add(w->meta.name);
  };
  nodes_.add_handler({[all_windows](const model::Node&) { all_windows(); },
                      [all_windows](const model::Node&, const model::Node&) { all_windows(); },
                      [all_windows](const model::Node&) { all_windows(); }});
  pods_.add_handler({nullptr, [all_windows](const model::Pod&, const model::Pod&) { all_windows(); },
                     [all_windows](const model::Pod&) { all_windows(); }});
}

Manager::~Manager() { stop(); }

void Manager::stop() {
  stopping_ = true;
  queue_.shutdown();
  if (elector_) elector_->stop();
}

void Manager::work() {
  while (auto key = queue_.get()) {
    auto r = windows_controller_.reconcile(*key);
    if (!r.ok()) {
      std::fprintf(stderr, "level=error controller=maintenancewindow window=%s msg=\"reconcile failed\" error=\"%s\"\n",
                   key->c_str(), r.error().to_string().c_str());
      queue_.add_rate_limited(*key);
    } else {
      queue_.forget(*key);
      if (r.value()) queue_.add_after(*key, *r.value());
    }
    queue_.done(*key);
  }
}

bool Manager::run() {
  std::thread worker;
  auto start_workers = [&] {
    nodes_.start();
    pods_.start();
    windows_.start();
    nodes_.wait_for_sync(std::chrono::seconds(60));
    pods_.wait_for_sync(std::chrono::seconds(60));
    windows_.wait_for_sync(std::chrono::seconds(60));
    std::fprintf(stderr, "level=info msg=\"caches synced\" nodes=%zu pods=%zu windows=%zu\n", nodes_.size(), pods_.size(),
                 windows_.size());
    leading_ = true;
    worker = std::thread([this] { work(); });
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
  queue_.shutdown();
  if (worker.joinable()) worker.join();
  nodes_.stop();
  pods_.stop();
  windows_.stop();
  events_.flush();
  leading_ = false;
  return !lost_;
}

}  // namespace nonevent::controllers
