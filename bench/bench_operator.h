#pragma once
// The real operator (manager, informers, queues) against a bench cluster, over HTTP as in
// production; leading before the constructor returns, stopped by the destructor. Counts the
// API requests it makes. Header-only: benchmarks are single-file programs.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "bench_cluster.h"
#include "controllers/manager.h"
#include "kube/log.h"
#include "kube/rest_client.h"
#include "sim/http_server.h"

namespace nonevent::bench {

class BenchOperator {
 public:
  explicit BenchOperator(BenchCluster& c) : http_(c.api, sim::HttpServerOptions{}) {
    // A line per eviction at 150,000 pods would be the benchmark's I/O: warnings only.
    logging::configure(logging::Level::kWarn, logging::Format::kText);
    kube::RestConfig cfg;
    cfg.server = http_.url();
    cfg.qps = 0;  // the cluster is in-process: no client-side throttling to measure
    auto client = kube::make_rest_client(cfg, c.clock);
    client->set_observer([this](const std::string&, int) { ++requests_; });
    controllers::ManagerHooks hooks;
    hooks.on_reconcile = [this](const std::string&, double seconds, bool) {
      ++reconciles_;
      reconcile_us_ += static_cast<long>(seconds * 1e6);
      for (long prev = max_reconcile_us_.load(); seconds * 1e6 > prev && !max_reconcile_us_.compare_exchange_weak(prev, static_cast<long>(seconds * 1e6));) {
      }
    };
    manager_ = std::make_unique<controllers::Manager>(client, c.clock, controllers::ManagerOptions{}, std::move(hooks));
    thread_ = std::thread([this] { manager_->run(); });
    for (int i = 0; i < 3000 && !manager_->leading(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~BenchOperator() { stop(); }
  BenchOperator(const BenchOperator&) = delete;
  BenchOperator& operator=(const BenchOperator&) = delete;

  void stop() {
    if (!thread_.joinable()) return;
    manager_->stop();
    thread_.join();
    http_.stop();
  }
  bool idle() const { return manager_->idle(); }
  long requests() const { return requests_.load(); }
  // Reconcile passes so far, their total and longest wall time (where the operator's time goes).
  long reconciles() const { return reconciles_.load(); }
  double reconcile_wall_s() const { return reconcile_us_.load() / 1e6; }
  double max_reconcile_wall_s() const { return max_reconcile_us_.load() / 1e6; }

 private:
  sim::HttpServer http_;
  std::unique_ptr<controllers::Manager> manager_;
  std::thread thread_;
  std::atomic<long> requests_{0};
  std::atomic<long> reconciles_{0}, reconcile_us_{0}, max_reconcile_us_{0};
};

// Where the operator's requests went, most first, on stderr ("requests: <n> <verb> <resource>
// <code>"), from the embedded cluster's record of every request by user agent.
inline void print_operator_requests(const sim::ApiServer& api, size_t top = 8) {
  std::map<std::string, long> by_kind;
  for (const auto& r : api.requests())
    if (r.user_agent.find("nonevent") != std::string::npos && r.user_agent.find("sim") == std::string::npos)
      by_kind[r.verb + " " + r.resource + (r.subresource.empty() ? "" : "/" + r.subresource) + " " + std::to_string(r.code)] += r.count;
  std::vector<std::pair<long, std::string>> sorted;
  for (const auto& [k, n] : by_kind) sorted.emplace_back(n, k);
  std::sort(sorted.rbegin(), sorted.rend());
  for (size_t i = 0; i < sorted.size() && i < top; ++i) std::fprintf(stderr, "requests: %ld %s\n", sorted[i].first, sorted[i].second.c_str());
}

}  // namespace nonevent::bench
