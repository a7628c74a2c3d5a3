// `nonevent sim serve`: the embedded cluster on a loopback port, for kubectl, helm, the
// operator and anyone rehearsing a maintenance window.
#include <atomic>
#include <csignal>
#include <thread>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "commands.h"
#include "flags.h"
#include "kube/rest_config.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/http_server.h"
#include "kube/pki.h"
#include "rehearse/snapshot_import.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"

namespace nonevent::cli {

namespace {

std::string random_token() {
  std::random_device rd;
  std::string t;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 40; ++i) t.push_back(hex[rd() % 16]);
  return t;
}

std::string kubeconfig_yaml(const std::string& url, const std::string& ca_pem, const std::string& token) {
  std::ostringstream y;
  y << "apiVersion: v1\nkind: Config\ncurrent-context: nonevent-sim\n"
    << "clusters:\n- name: nonevent-sim\n  cluster:\n    server: " << url << "\n";
  if (!ca_pem.empty()) y << "    certificate-authority-data: " << kube::base64_encode(ca_pem) << "\n";
  y << "contexts:\n- name: nonevent-sim\n  context:\n    cluster: nonevent-sim\n    user: nonevent-sim\n    namespace: default\n"
    << "users:\n- name: nonevent-sim\n  user:" << (token.empty() ? " {}" : "\n    token: " + token) << "\n";
  return y.str();
}

int load_manifests(sim::ApiServer& api, const std::string& path) {
  for (const auto& file : sim::manifest_files(path)) {
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "nonevent sim serve: cannot read %s\n", file.c_str());
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::vector<web::json::value> docs;
    try {
      docs = sim::parse_yaml_documents(ss.str());
    } catch (const YAML::Exception& e) {
      std::fprintf(stderr, "nonevent sim serve: %s: %s\n", file.c_str(), e.what());
      return 1;
    }
    for (const auto& d : docs) {
      auto r = api.create_object(d);
      if (r.status >= 300) {
        std::fprintf(stderr, "nonevent sim serve: %s: %s\n", file.c_str(), r.body.c_str());
        return 1;
      }
    }
  }
  return 0;
}

struct ServeFlags {
  std::string cluster, listen = "127.0.0.1:0", kubeconfig_out, token, drop_every, compact_every, state;
  std::vector<std::string> manifests, snapshots, faults;
  bool tls = false, rbac = false;
  uint64_t seed = 1;
  ClockFlags clock;
};

int serve(const ServeFlags& f) {
  const std::vector<std::string>& manifests = f.manifests;
  std::vector<sim::FaultRule> faults;
  for (const auto& text : f.faults) {
    std::string err;
    auto rule = sim::parse_fault_rule(text, err);
    if (!rule) throw UsageError("--fault: " + err);
    faults.push_back(*rule);
  }
  const double drop_every = f.drop_every.empty() ? 0 : positive_seconds("--drop-watches-every", f.drop_every);
  const double compact_every = f.compact_every.empty() ? 0 : positive_seconds("--compact-every", f.compact_every);
  const std::string& listen = f.listen;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw UsageError("--listen must be ADDRESS:PORT, e.g. 127.0.0.1:0");
  sim::HttpServerOptions http;
  http.address = listen.substr(0, colon);
  try {
    http.port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    throw UsageError("--listen port \"" + listen.substr(colon + 1) + "\" is not a number");
  }
  const uint64_t seed = f.seed;
  auto clock = clock_from(f.clock, "sim serve");
  auto store = std::make_shared<sim::ObjectStore>();
  // --state: the storage etcd would keep across an API server restart. When the file exists the
  // cluster is what it holds (the cluster file's nodes and the manifests were created the first
  // time); it is written again when the server is stopped.
  bool restored = false;
  if (!f.state.empty()) {
    std::ifstream saved(f.state);
    if (saved) {
      try {
        sim::ApiServer::restore_storage(*store, saved);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "nonevent sim serve: --state %s: %s\n", f.state.c_str(), e.what());
        return 1;
      }
      restored = true;
      std::fprintf(stderr, "nonevent sim serve: restored %s (resourceVersion %llu)\n", f.state.c_str(),
                   static_cast<unsigned long long>(store->resource_version()));
    }
  }
  // kubectl never sends credentials over plain HTTP (clientcmd reads auth info only for TLS
  // servers), so a token is required only when serving TLS; plain HTTP stays on loopback.
  const std::string token = f.tls ? (f.token.empty() ? random_token() : f.token) : "";
  auto api = std::make_shared<sim::ApiServer>(store, clock, sim::ApiServerOptions{.bearer_token = token, .rbac = f.rbac});
  api->faults().set_rules(faults);

  sim::ClusterSpec spec;
  if (!f.cluster.empty()) {
    try {
      spec = sim::load_cluster_spec(f.cluster);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "nonevent sim serve: %s\n", e.what());
      return 1;
    }
    for (const auto& node : restored ? std::vector<web::json::value>{} : sim::make_nodes(spec, clock->now())) {
      auto r = api->create_object(node);
      if (r.status >= 300) {
        std::fprintf(stderr, "nonevent sim serve: creating nodes: %s\n", r.body.c_str());
        return 1;
      }
    }
  }
  // A snapshot (kubectl get nodes,pods,... -A -o yaml) is loaded as `nonevent rehearse` loads
  // it: objects as they were (uids, owners, status), the zones from its nodes and each
  // workload's readiness from its pods, what it lacks said on stderr.
  if (!restored)
    for (const auto& path : f.snapshots) {
      try {
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot read it");
        std::stringstream text;
        text << in.rdbuf();
        const auto imported = rehearse::import_snapshot(sim::parse_yaml_documents(text.str()), *store, spec.timings);
        if (spec.zones.empty()) spec.zones = imported.spec.zones;
        spec.timings.pod_ready_s = imported.spec.timings.pod_ready_s;
        for (const auto& [owner, s] : imported.spec.timings.ready_s_by_owner) spec.timings.ready_s_by_owner[owner] = s;
        for (const auto& w : imported.warnings) std::fprintf(stderr, "nonevent sim serve: --snapshot %s: %s\n", path.c_str(), w.c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "nonevent sim serve: --snapshot %s: %s\n", path.c_str(), e.what());
        return 1;
      }
    }
  // Without a cluster file or a snapshot there are no nodes, but the controllers still run
  // (pods stay Pending, as in a cluster with no capacity).
  sim::Simulation simulation(api, clock, spec, seed);
  if (!restored)
    for (const auto& m : manifests)
      if (int rc = load_manifests(*api, m)) return rc;
  simulation.start();

  std::string ca_pem;
  if (f.tls) {
    auto ca = kube::make_ca("nonevent-sim-ca");
    auto leaf = kube::make_leaf(ca, "nonevent-sim", {"IP:" + http.address, "DNS:localhost"});
    http.tls_cert_pem = leaf.cert_pem;
    http.tls_key_pem = leaf.key_pem;
    ca_pem = ca.cert_pem;
  }
  // Block the signals before threads start so only sigwait() below sees them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::unique_ptr<sim::HttpServer> server;
  try {
    server = std::make_unique<sim::HttpServer>(api, http);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nonevent sim serve: %s\n", e.what());
    return 1;
  }
  if (!f.kubeconfig_out.empty()) {
    std::ofstream out(f.kubeconfig_out);
    out << kubeconfig_yaml(server->url(), ca_pem, token);
    if (!out) {
      std::fprintf(stderr, "nonevent sim serve: cannot write %s\n", f.kubeconfig_out.c_str());
      return 1;
    }
  }
  std::printf("listening on %s\n", server->url().c_str());
  std::fflush(stdout);
  // Periodic faults run on their own thread, in real (unscaled) seconds.
  std::atomic<bool> done{false};
  std::thread chaos;
  if (drop_every > 0 || compact_every > 0) {
    chaos = std::thread([&] {
      auto next_drop = std::chrono::steady_clock::now() + std::chrono::duration<double>(drop_every);
      auto next_compact = std::chrono::steady_clock::now() + std::chrono::duration<double>(compact_every);
      while (!done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto now = std::chrono::steady_clock::now();
        if (drop_every > 0 && now >= next_drop) {
          server->drop_connections();
          next_drop = now + std::chrono::duration<double>(drop_every);
        }
        if (compact_every > 0 && now >= next_compact) {
          store->compact();
          next_compact = now + std::chrono::duration<double>(compact_every);
        }
      }
    });
  }
  int sig = 0;
  sigwait(&sigs, &sig);
  done = true;
  if (chaos.joinable()) chaos.join();
  server->stop();
  simulation.stop();
  if (!f.state.empty()) {
    // Written aside and renamed: a crash while writing keeps the previous state whole.
    const std::string tmp = f.state + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    store->save(out);
    out.close();
    if (!out || std::rename(tmp.c_str(), f.state.c_str()) != 0) {
      std::fprintf(stderr, "nonevent sim serve: cannot write --state %s\n", f.state.c_str());
      return 1;
    }
    std::fprintf(stderr, "nonevent sim serve: saved %s (resourceVersion %llu)\n", f.state.c_str(),
                 static_cast<unsigned long long>(store->resource_version()));
  }
  return 0;
}

}  // namespace

void add_sim(CLI::App& root, Run& run) {
  auto* sim = root.add_subcommand("sim", "the embedded cluster");
  sim->require_subcommand(1);
  auto* app = sim->add_subcommand("serve", "run the embedded cluster: a Kubernetes API server with simulated controllers");
  auto f = std::make_shared<ServeFlags>();
  app->add_option("--cluster", f->cluster, "the cluster file: zones, node pools, timings (examples/cluster.yaml)");
  app->add_option("--manifests", f->manifests, "a manifest file or directory to apply at start (repeatable)")->allow_extra_args(false);
  app->add_option("--snapshot", f->snapshots, "a `kubectl get ... -o yaml` List to load (repeatable)")->allow_extra_args(false);
  app->add_option("--listen", f->listen, "ADDRESS:PORT (port 0 picks one)")->capture_default_str();
  app->add_flag("--tls", f->tls, "serve HTTPS with a generated CA (written into the kubeconfig) and require a bearer token");
  app->add_option("--kubeconfig-out", f->kubeconfig_out, "write a kubeconfig for this server here");
  app->add_option("--token", f->token, "with --tls: the bearer token (default: generated)");
  app->add_flag("--rbac", f->rbac,
                "authorize every request by the cluster's own Roles, ClusterRoles and bindings (needs --tls: clients send tokens only over TLS); "
                "the kubeconfig's token is the cluster admin, `kubectl create token SA` issues a ServiceAccount's")
      ->needs("--tls");
  app->add_option("--seed", f->seed, "the simulation's random seed")->capture_default_str();
  app->add_option("--fault", f->faults, "verb=V,resource=R,code=500|503|429|409,rate=0.1,latency=20ms (repeatable)")->allow_extra_args(false);
  app->add_option("--drop-watches-every", f->drop_every, "drop every open connection this often, e.g. 30s (real time)");
  app->add_option("--state", f->state,
                  "keep the cluster's storage in FILE across restarts, as etcd does: loaded at start when it exists "
                  "(instead of the cluster file's nodes and the manifests), written when stopped");
  app->add_option("--compact-every", f->compact_every, "forget watch history this often, e.g. 2m (real time): watches get 410");
  add_clock_flags(*app, f->clock);
  app->callback([f, &run] { run = [f] { return serve(*f); }; });
}

}  // namespace nonevent::cli
