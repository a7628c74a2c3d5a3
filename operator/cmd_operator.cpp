// `nonevent operator`: the manager against any cluster (kubeconfig or in-cluster), with
// /metrics, /healthz and /readyz on one HTTP endpoint.
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "controllers/manager.h"
#include "flags.h"
#include "kube/rest_config.h"
#include "observe/operator_metrics.h"
#include "observe/probe_server.h"
#include "observe/resource_metrics.h"

namespace nonevent::cli {

int cmd_operator(const std::vector<std::string>& args) {
  Flags f(args, {{"--kubeconfig", true}, {"--context", true}, {"--leader-elect", false},
                 {"--leader-election-namespace", true}, {"--namespace", true}, {"--metrics-bind-address", true},
                 {"--health-probe-bind-address", true}, {"--time-scale", true}, {"--time-epoch", true}});
  if (!f.positionals().empty()) throw UsageError("unexpected argument \"" + f.positionals()[0] + "\"");
  auto clock = clock_from_flags(f);  // flag mistakes first, before touching any config
  auto config = kube::load_default_config({.kubeconfig_path = f.get("--kubeconfig"), .context = f.get("--context")});
  // --time-scale is for rehearsals against `nonevent sim serve --time-scale`: both must agree
  // on what time it is.
  auto client = kube::make_rest_client(config, clock);
  observe::OperatorMetrics metrics;
  client->set_observer(metrics.request_observer());
  controllers::ManagerOptions opts;
  opts.leader_elect = f.has("--leader-elect");
  // The operator's own namespace (the chart sets POD_NAMESPACE from the downward API): patch
  // Jobs run there and, by default, the leader Lease lives there.
  const char* pod_ns = std::getenv("POD_NAMESPACE");
  opts.namespace_ = f.get("--namespace", pod_ns && *pod_ns ? pod_ns : config.default_namespace);
  opts.lease_namespace = f.get("--leader-election-namespace", opts.namespace_);
  controllers::Manager manager(client, clock, opts, metrics.manager_hooks());
  // Ready when this replica's caches are synced, or while it stands by for the Lease (a
  // standby that never turned ready would stall every rollout of the Deployment).
  auto ready = [&manager, leader_elect = opts.leader_elect] { return manager.synced() || (leader_elect && !manager.leading()); };
  observe::ProbeServerOptions probe_opts{
      .bind_address = f.get("--metrics-bind-address", ":8080"),
      .collectables = {metrics.registry(), std::make_shared<observe::ResourceMetrics>(manager, clock)},
      .healthy = {},
      .ready = ready};
  observe::ProbeServer probes(probe_opts);
  std::unique_ptr<observe::ProbeServer> health;
  if (auto h = f.get("--health-probe-bind-address"); !h.empty() && h != probe_opts.bind_address) {
    auto health_opts = probe_opts;
    health_opts.bind_address = h;
    health = std::make_unique<observe::ProbeServer>(health_opts);
  }
  std::fprintf(stderr, "level=info msg=\"serving metrics and probes\" address=%s port=%d\n", probe_opts.bind_address.c_str(), probes.port());
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    manager.stop();
  });
  std::fprintf(stderr, "level=info msg=\"starting\" server=%s leader_elect=%s namespace=%s\n", config.server.c_str(),
               opts.leader_elect ? "true" : "false", opts.namespace_.c_str());
  const bool clean = manager.run();
  if (!clean) {
    std::fprintf(stderr, "level=error msg=\"lost leadership\"\n");
    std::_Exit(1);  // as controller-runtime does: another replica takes over
  }
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}

}  // namespace nonevent::cli
