// `nonevent kube get`: a smoke test of the client against any cluster.
#include <cstdio>

#include "commands.h"
#include "flags.h"
#include "kube/discovery.h"
#include "kube/rest_client.h"

namespace nonevent::cli {

int cmd_kube(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "get")
    throw UsageError("usage: nonevent kube get <resource> [name] [-n NS | -A] [--kubeconfig F] [--context C] [-l SELECTOR]");
  Flags f(std::vector<std::string>(args.begin() + 1, args.end()),
          {{"--namespace", true}, {"--all-namespaces", false}, {"--kubeconfig", true},
           {"--context", true}, {"--selector", true}},
          {{"-n", "--namespace"}, {"-A", "--all-namespaces"}, {"-l", "--selector"}});
  if (f.positionals().empty() || f.positionals().size() > 2)
    throw UsageError("get needs a resource and at most one name, e.g. `nonevent kube get nodes` or `nonevent kube get pod web-1 -n shop`");
  auto config = kube::load_default_config({.kubeconfig_path = f.get("--kubeconfig"), .context = f.get("--context")});
  auto client = kube::make_rest_client(config);
  auto all = kube::discover(*client);
  if (!all.ok()) {
    std::fprintf(stderr, "nonevent kube get: discovery failed: %s\n", all.error().to_string().c_str());
    return 1;
  }
  auto res = kube::find_resource(all.value(), f.positionals()[0]);
  if (!res) {
    std::fprintf(stderr, "nonevent kube get: the server doesn't have a resource type \"%s\"\n",
                 f.positionals()[0].c_str());
    return 1;
  }
  std::string ns;
  if (res->gvr.namespaced && !f.has("--all-namespaces")) ns = f.get("--namespace", config.default_namespace);
  kube::Result<std::string> out = f.positionals().size() == 2
      ? client->get(res->gvr, ns, f.positionals()[1])
      : client->list(res->gvr, ns, {.label_selector = f.get("--selector")});
  if (!out.ok()) {
    std::fprintf(stderr, "nonevent kube get: %s\n", out.error().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", out.value().c_str());
  return 0;
}

}  // namespace nonevent::cli
