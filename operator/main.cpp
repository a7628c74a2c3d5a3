// The `nonevent` binary: one executable, subcommands.
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "commands.h"
#include "flags.h"
#include "kube/rest_config.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "nonevent — zone maintenance and node patching as non-events\n\n"
               "usage: nonevent <command> [flags]\n\n"
               "commands:\n"
               "  version                      print the version and build facts\n"
               "  kube get <resource> [name]   fetch objects from a cluster and print their JSON\n"
               "          [-n NS | -A] [--kubeconfig F] [--context C] [-l SELECTOR]\n"
               "  operator                     run the MaintenanceWindow and PatchCampaign controllers against a cluster\n"
               "          [--kubeconfig F] [--context C] [--leader-elect] [--leader-election-namespace NS]\n"
               "          [--namespace NS] [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR]\n"
               "  plan -f FILE                 preflight a MaintenanceWindow or PatchCampaign, touching nothing\n"
               "          (--kubeconfig F [--context C] | --snapshot F) [-o table|json] [--batch-duration 10m]\n"
               "  sim serve                    run the embedded cluster (a Kubernetes API server)\n"
               "          [--cluster FILE] [--manifests PATH]... [--listen ADDR:PORT] [--tls]\n"
               "          [--kubeconfig-out FILE] [--token T]\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "help") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  const std::map<std::string, std::function<int(const std::vector<std::string>&)>> commands = {
      {"version", nonevent::cli::cmd_version},
      {"kube", nonevent::cli::cmd_kube},
      {"sim", nonevent::cli::cmd_sim},
      {"operator", nonevent::cli::cmd_operator},
      {"plan", nonevent::cli::cmd_plan},
  };
  const std::string cmd = argv[1];
  auto it = commands.find(cmd);
  if (it == commands.end()) {
    std::fprintf(stderr, "nonevent: unknown command \"%s\"\n\n", cmd.c_str());
    usage();
    return 2;
  }
  try {
    return it->second(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const nonevent::cli::UsageError& e) {
    std::fprintf(stderr, "nonevent %s: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const nonevent::kube::ConfigError& e) {
    std::fprintf(stderr, "nonevent %s: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "nonevent %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
