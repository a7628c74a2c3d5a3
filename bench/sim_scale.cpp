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
#include <map>
#include <string>

#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"
#include "bench_cluster.h"
#include "bench_flags.h"

using namespace nonevent;
using Wall = std::chrono::steady_clock;
using web::json::value;

namespace {

long peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  long nodes = 5000, pods = 150000;
  bench::parse_flags(argc, argv, "sim_scale [--nodes 5000] [--pods 150000]",
                     {{"--nodes", &nodes}, {"--pods", &pods}});
  const auto t0 = Wall::now();
  auto c = bench::boot_cluster({.nodes = nodes, .pods = pods});
  auto& simulation = *c.simulation;
  {
    const auto st = simulation.stats();
    std::fprintf(stderr, "boot: steps %ld passes %ld writes %ld errors %ld\n", st.steps, st.passes, st.writes, st.write_errors);
  }
  long ready = 0;
  const auto all_pods = c.store->list({.resource = "/pods"}, 0, "");
  for (const auto& o : all_pods.value().items)
    ready += o->json.find(R"("type":"Ready","status":"True")") != std::string::npos ||
             o->json.find(R"("status":"True","type":"Ready")") != std::string::npos;
  const double boot_wall = bench::secs(Wall::now() - t0);
  const long writes_before = simulation.stats().writes;

  // Evacuate zone a like kubectl drain.
  const auto e0 = Wall::now();
  const auto drained = bench::drain_like_kubectl(c, "a");
  const long evictions = drained.evictions, refused = drained.refused, deployments = c.deployments, replicas = bench::kReplicas;
  const double evac_virtual = drained.virtual_s;
  const double evac_wall = bench::secs(Wall::now() - e0);
  const double total_wall = bench::secs(Wall::now() - t0);
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
  std::fprintf(stderr, "cached DOMs built on demand: %ld\n", sim::CachedJson::lazy_builds());
  for (const auto& [name, s] : st.controller_seconds) std::fprintf(stderr, "  %-12s %.2f s\n", name.c_str(), s);
  // Requests by kind, from the API server's own request record (what a scaling change has
  // to account for): the simulated controllers' writes, and the drain loop's evictions.
  std::map<std::string, long> by_kind;
  for (const auto& r : c.api->requests())
    if (r.verb != "get" && r.verb != "list" && r.verb != "watch")
      by_kind[r.verb + " " + r.resource + (r.subresource.empty() ? "" : "/" + r.subresource)] += r.count;
  for (const auto& [kind, n] : by_kind) std::fprintf(stderr, "  %-30s %ld requests\n", kind.c_str(), n);
  return 0;
}
