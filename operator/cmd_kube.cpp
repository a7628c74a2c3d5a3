// `nonevent kube get`: a smoke test of the client against any cluster.
#include <cstdio>

#include "commands.h"
#include "flags.h"
#include "kube/discovery.h"
#include "kube/rest_client.h"

namespace nonevent::cli {

namespace {

struct GetFlags {
  std::string resource, name, ns, selector;
  bool all_namespaces = false;
  KubeconfigFlags kube;
};

int get(const GetFlags& f) {
  auto config = kube::load_default_config({.kubeconfig_path = f.kube.kubeconfig, .context = f.kube.context});
  auto client = kube::make_rest_client(config);
  auto all = kube::discover(*client);
  if (!all.ok()) {
    std::fprintf(stderr, "nonevent kube get: discovery failed: %s\n", all.error().to_string().c_str());
    return 1;
  }
  auto res = kube::find_resource(all.value(), f.resource);
  if (!res) {
    std::fprintf(stderr, "nonevent kube get: the server doesn't have a resource type \"%s\"\n", f.resource.c_str());
    return 1;
  }
  std::string ns;
  if (res->gvr.namespaced && !f.all_namespaces) ns = f.ns.empty() ? config.default_namespace : f.ns;
  kube::Result<std::string> out = !f.name.empty() ? client->get(res->gvr, ns, f.name)
                                                  : client->list(res->gvr, ns, {.label_selector = f.selector});
  if (!out.ok()) {
    std::fprintf(stderr, "nonevent kube get: %s\n", out.error().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", out.value().c_str());
  return 0;
}

}  // namespace

void add_kube(CLI::App& root, Run& run) {
  auto* kube = root.add_subcommand("kube", "talk to a cluster with nonevent's own client (a smoke test)");
  kube->require_subcommand(1);
  auto* app = kube->add_subcommand("get", "fetch objects and print their JSON, e.g. `nonevent kube get pod web-1 -n shop`");
  auto f = std::make_shared<GetFlags>();
  app->add_option("resource", f->resource, "a resource type: its plural, singular, kind or short name")->required();
  app->add_option("name", f->name, "one object's name (default: list them)");
  app->add_option("-n,--namespace", f->ns, "the namespace (default: the kubeconfig context's)");
  app->add_flag("-A,--all-namespaces", f->all_namespaces, "every namespace");
  app->add_option("-l,--selector", f->selector, "a label selector, e.g. app=web");
  add_kubeconfig_flags(*app, f->kube);
  app->callback([f, &run] { run = [f] { return get(*f); }; });
}

}  // namespace nonevent::cli
