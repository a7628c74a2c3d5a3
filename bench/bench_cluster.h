#pragma once
// The cluster every cluster benchmark boots (N nodes in zones a/b/c, the fleet workload mix,
// on virtual time, settled for two minutes) and the kubectl-drain-like baseline that
// evacuates a zone the way a person with a loop over `kubectl drain` would. Header-only:
// benchmarks are single-file programs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fleet.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"

namespace nonevent::bench {

inline double secs(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct BenchCluster {
  std::shared_ptr<kube::VirtualClock> clock;
  std::shared_ptr<sim::ObjectStore> store;
  std::shared_ptr<sim::ApiServer> api;
  std::unique_ptr<sim::Simulation> simulation;
  long deployments = 0;
  void run_for(kube::Duration d) { simulation->run_until(clock->now() + d, *clock); }
};

struct BootOptions {
  long nodes = 3000;
  long pods = 30000;
  std::string image_version;  // nodes' nonevent.dev/image-version
  bool with_crds = false;     // the operator's CRDs (from crds/ under `source_dir`)
  std::string source_dir;
};

inline BenchCluster boot_cluster(const BootOptions& o) {
  BenchCluster c;
  c.clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  c.store = std::make_shared<sim::ObjectStore>(/*history_limit=*/100'000);
  c.api = std::make_shared<sim::ApiServer>(c.store, c.clock);
  auto spec = sim::parse_cluster_spec(
      "zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: " + std::to_string(o.nodes / 3) +
          ", cpu: '32', memory: 128Gi, pods: 110" + (o.image_version.empty() ? "" : ", imageVersion: " + o.image_version) +
          "}]\ntimings: {podStartSeconds: 2, podReadySeconds: 5, terminationSeconds: 10, nodeRebootSeconds: 120}\n",
      "bench");
  for (const auto& n : sim::make_nodes(spec, c.clock->now())) c.api->create_object(n);
  c.simulation = std::make_unique<sim::Simulation>(c.api, c.clock, spec);
  if (o.with_crds)
    for (const char* crd : {"/crds/maintenancewindows.nonevent.dev.yaml", "/crds/patchcampaigns.nonevent.dev.yaml"}) {
      std::ifstream in(o.source_dir + crd);
      std::stringstream ss;
      ss << in.rdbuf();
      for (const auto& d : sim::parse_yaml_documents(ss.str())) c.api->create_object(d);
    }
  c.deployments = std::max(1L, o.pods / kReplicas);
  add_fleet_workloads(*c.api, c.deployments);
  c.run_for(std::chrono::minutes(2));
  return c;
}

struct BaselineResult {
  long evictions = 0, refused = 0;
  double virtual_s = 0;
};

// kubectl drain over a zone: cordon every node, then node by node evict every pod that is
// not a DaemonSet's (as --ignore-daemonsets), retrying refused (429) evictions every 5 s as
// kubectl does, and wait for the node's pods to be gone before the next node.
inline BaselineResult drain_like_kubectl(BenchCluster& c, const std::string& zone) {
  BaselineResult out;
  const auto v0 = c.clock->now();
  std::vector<std::string> zone_nodes;
  const auto all_nodes = c.store->list({.resource = "/nodes"}, 0, "");
  for (const auto& o : all_nodes.value().items)
    if (o->labels->count("topology.kubernetes.io/zone") && o->labels->at("topology.kubernetes.io/zone") == zone)
      zone_nodes.push_back(o->name);
  for (const auto& n : zone_nodes)
    c.simulation->patch("/api/v1/nodes/" + n, web::json::value::parse(R"({"spec":{"unschedulable":true}})"));
  for (const auto& n : zone_nodes) {
    for (;;) {
      sim::WatchFilter f{.resource = "/pods"};
      f.fields.requirements.push_back({"spec.nodeName", sim::Requirement::Op::kEquals, {n}});
      const auto listed = c.store->list(f, 0, "");
      bool pending = false;
      for (const auto& p : listed.value().items) {
        if (p->json.find("\"deletionTimestamp\"") != std::string::npos) {
          pending = true;
          continue;
        }
        if (p->json.find(R"("kind":"DaemonSet")") != std::string::npos) continue;
        sim::ApiRequest r{.method = "POST", .path = "/api/v1/namespaces/" + p->ns + "/pods/" + p->name + "/eviction"};
        r.body = R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":")" + p->name + R"("}})";
        const int code = c.api->handle(r).status;
        pending = true;
        if (code == 201) ++out.evictions;
        else ++out.refused;
      }
      if (!pending) break;
      c.run_for(std::chrono::seconds(5));  // kubectl retries every 5 s
    }
  }
  out.virtual_s = std::chrono::duration<double>(c.clock->now() - v0).count();
  return out;
}

}  // namespace nonevent::bench

namespace nonevent::bench {

// Lets an operator running on real threads catch up with virtual time before the clock moves
// on: the simulation steps at the current instant until the store stops changing, every watch
// has handed its events to the operator and the operator's queues are idle. Without it the
// operator reacts a tick late, and the benchmark measures the harness, not the operator; and
// virtual time, which skips the idle seconds of a real cluster, would let the simulation
// outrun the operator's watches by hundreds of thousands of events a real cluster could never
// produce that fast (at 5,000 nodes the pod watch fell out of the history and relisted).
// Bounded: max_rounds quiet checks, plus up to a minute of wall time for watch delivery.
template <class Idle>
void settle(BenchCluster& c, Idle operator_idle, int max_rounds = 400) {
  int quiet = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  for (int i = 0; i < max_rounds && quiet < 3; ++i) {
    while (c.store->undelivered_watch_events() > 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto rv = c.store->resource_version();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    c.simulation->step();
    quiet = (c.store->resource_version() == rv && operator_idle() && c.store->undelivered_watch_events() == 0) ? quiet + 1 : 0;
  }
}

}  // namespace nonevent::bench
