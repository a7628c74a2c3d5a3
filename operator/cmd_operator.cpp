// `nonevent operator`: the manager against any cluster (kubeconfig or in-cluster).
#include <csignal>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "controllers/manager.h"
#include "flags.h"
#include "kube/rest_config.h"

namespace nonevent::cli {

int cmd_operator(const std::vector<std::string>& args) {
  Flags f(args, {{"--kubeconfig", true}, {"--context", true}, {"--leader-elect", false},
                 {"--leader-election-namespace", true}, {"--time-scale", true}, {"--time-epoch", true}});
  if (!f.positionals().empty()) throw UsageError("unexpected argument \"" + f.positionals()[0] + "\"");
  auto clock = clock_from_flags(f);  // flag mistakes first, before touching any config
  auto config = kube::load_default_config({.kubeconfig_path = f.get("--kubeconfig"), .context = f.get("--context")});
  // --time-scale is for rehearsals against `nonevent sim serve --time-scale`: both must agree
  // on what time it is.
  auto client = kube::make_rest_client(config, clock);
  controllers::ManagerOptions opts;
  opts.leader_elect = f.has("--leader-elect");
  opts.lease_namespace = f.get("--leader-election-namespace", config.default_namespace);
  controllers::Manager manager(client, clock, opts);
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
  std::fprintf(stderr, "level=info msg=\"starting\" server=%s leader_elect=%s\n", config.server.c_str(),
               opts.leader_elect ? "true" : "false");
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
