// bench/sim_scale: how large a cluster the embedded cluster simulates, and how fast.
//
// Boots N nodes in three zones with P pods (Deployments of 30 replicas, half of them zone-
// spread with nodeTaintsPolicy Honor, every one with a PDB of maxUnavailable 1) on virtual
// time, then cordons one zone and evacuates it the way `kubectl drain` would: node by node,
// every non-DaemonSet pod evicted, 429s retried every 5 virtual seconds, each node's pods
// waited out before the next.
//
// usage: sim_scale [--nodes 5000] [--pods 150000]
// Prints `<metric> <value> <unit>` lines. Goal (issue 3): 5,000 nodes / 150,000 pods in under
// 60 s wall and 6 GB.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"
#include "fleet.h"

using namespace nonevent;
using Wall = std::chrono::steady_clock;
using web::json::value;

namespace {

long peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}
double secs(Wall::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  long nodes = 5000, pods = 150000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) nodes = std::stol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--pods")) pods = std::stol(argv[i + 1]);
  }
  const long per_zone = nodes / 3;
  const long replicas = bench::kReplicas;
  const long deployments = pods / replicas;
  const auto t0 = Wall::now();
  auto clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  auto store = std::make_shared<sim::ObjectStore>(/*history_limit=*/100'000);
  auto api = std::make_shared<sim::ApiServer>(store, clock);
  auto spec = sim::parse_cluster_spec(
      "zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: " + std::to_string(per_zone) +
          ", cpu: '32', memory: 128Gi, pods: 110}]\n"
          "timings: {podStartSeconds: 2, podReadySeconds: 5, terminationSeconds: 10}\n",
      "bench");
  for (const auto& n : sim::make_nodes(spec, clock->now())) api->create_object(n);
  sim::Simulation simulation(api, clock, spec);
  long writes_before = 0;
  bench::add_fleet_workloads(*api, deployments);
  simulation.run_until(clock->now() + std::chrono::minutes(2), *clock);
  {
    const auto st = simulation.stats();
    std::fprintf(stderr, "boot: steps %ld passes %ld writes %ld errors %ld\n", st.steps, st.passes, st.writes, st.write_errors);
  }
  long ready = 0;
  const auto all_pods = store->list({.resource = "/pods"}, 0, "");
  for (const auto& o : all_pods.value().items)
    ready += o->json.find(R"("type":"Ready","status":"True")") != std::string::npos ||
             o->json.find(R"("status":"True","type":"Ready")") != std::string::npos;
  const double boot_wall = secs(Wall::now() - t0);
  writes_before = simulation.stats().writes;

  // Evacuate zone a like kubectl drain: cordon every node, then node by node.
  const auto e0 = Wall::now();
  const auto v0 = clock->now();
  std::vector<std::string> zone_nodes;
  const auto all_nodes = store->list({.resource = "/nodes"}, 0, "");
  for (const auto& o : all_nodes.value().items)
    if (o->labels.count("topology.kubernetes.io/zone") && o->labels.at("topology.kubernetes.io/zone") == "a") zone_nodes.push_back(o->name);
  for (const auto& n : zone_nodes) simulation.patch("/api/v1/nodes/" + n, value::parse(R"({"spec":{"unschedulable":true}})"));
  long evictions = 0, refused = 0;
  for (const auto& n : zone_nodes) {
    for (;;) {
      sim::WatchFilter f{.resource = "/pods"};
      f.fields.requirements.push_back({"spec.nodeName", sim::Requirement::Op::kEquals, {n}});
      const auto listed = store->list(f, 0, "");
      const auto& on_node = listed.value().items;
      bool pending = false;
      for (const auto& p : on_node) {
        if (p->json.find("\"deletionTimestamp\"") != std::string::npos) {
          pending = true;
          continue;
        }
        sim::ApiRequest r{.method = "POST", .path = "/api/v1/namespaces/" + p->ns + "/pods/" + p->name + "/eviction"};
        r.body = R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":")" + p->name + R"("}})";
        const int code = api->handle(r).status;
        pending = true;
        if (code == 201) ++evictions;
        else ++refused;
      }
      if (!pending) break;
      if (std::getenv("SIM_SCALE_DEBUG"))
        std::fprintf(stderr, "node %s: %zu pods, evicted %ld refused %ld, t=%.0fs\n", n.c_str(), on_node.size(), evictions, refused,
                     std::chrono::duration<double>(clock->now() - v0).count());
      simulation.run_until(clock->now() + std::chrono::seconds(5), *clock);  // kubectl retries every 5 s
    }
  }
  const double evac_virtual = std::chrono::duration<double>(clock->now() - v0).count();
  const double evac_wall = secs(Wall::now() - e0);
  const double total_wall = secs(Wall::now() - t0);
  const long writes = simulation.stats().writes;

  std::printf("nodes %ld count\n", nodes);
  std::printf("pods %ld count\n", deployments * replicas);
  std::printf("pods_ready_after_boot %ld count\n", ready);
  std::printf("boot_wall_s %.2f s\n", boot_wall);
  std::printf("evacuation_wall_s %.2f s\n", evac_wall);
  std::printf("evacuation_virtual_s %.0f s\n", evac_virtual);
  std::printf("evictions %ld count\n", evictions);
  std::printf("evictions_refused_429 %ld count\n", refused);
  std::printf("events_per_s %.0f events/s\n", static_cast<double>(writes) / total_wall);
  std::printf("evacuation_events_per_s %.0f events/s\n", static_cast<double>(writes - writes_before) / evac_wall);
  std::printf("total_wall_s %.2f s\n", total_wall);
  std::printf("peak_rss_mb %ld MB\n", peak_rss_mb());
  const auto st = simulation.stats();
  std::fprintf(stderr, "total: steps %ld passes %ld writes %ld errors %ld\n", st.steps, st.passes, st.writes, st.write_errors);
  for (const auto& [name, s] : st.controller_seconds) std::fprintf(stderr, "  %-12s %.2f s\n", name.c_str(), s);
  return 0;
}
