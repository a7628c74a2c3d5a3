// bench/preflight: the planner's preflight (design 4) for evacuating one zone of the bench
// cluster, the computation `nonevent plan` and the MaintenanceWindow controller's first touch
// run. At 5,000 nodes it is on the operator's critical path: nothing is cordoned before it ends.
//
// usage: preflight [--nodes 5000] [--pods 150000] [--repeat 3]
// Prints `<metric> <value> <unit>` lines: boot_wall_s, decode_wall_s (store JSON → model),
// preflight_wall_s (the fastest of --repeat runs), pods_to_evict, unplaceable, lower_bound_s.
#include <algorithm>
#include <cstdio>
#include <set>

#include "bench_cluster.h"
#include "bench_flags.h"
#include "planner_input.h"
#include "planner/preflight.h"

using namespace nonevent;
using Wall = std::chrono::steady_clock;

int main(int argc, char** argv) {
  long nodes = 5000, pods = 150000, repeat = 3;
  bench::parse_flags(argc, argv, "preflight [--nodes 5000] [--pods 150000] [--repeat 3]",
                     {{"--nodes", &nodes}, {"--pods", &pods}, {"--repeat", &repeat}});
  auto t = Wall::now();
  auto c = bench::boot_cluster({.nodes = nodes, .pods = pods});
  std::printf("boot_wall_s %.1f s\n", bench::secs(Wall::now() - t));

  t = Wall::now();
  const auto in = bench::planner_input(*c.store, "a");
  std::printf("decode_wall_s %.2f s\n", bench::secs(Wall::now() - t));

  double best = 1e9;
  planner::Preflight result;
  for (long i = 0; i < std::max(1L, repeat); ++i) {
    t = Wall::now();
    result = planner::preflight(in.nodes, in.pods, in.pdbs, in.drained, "topology.kubernetes.io/zone", {.pod_start_seconds = 2, .pod_ready_seconds = 5});
    best = std::min(best, bench::secs(Wall::now() - t));
  }
  long unplaceable = 0;
  for (const auto& b : result.blockers) unplaceable += b.reason == "Capacity" || b.reason == "Unschedulable" || b.reason == "SpreadTrap";
  std::printf("nodes %zu count\npods %zu count\npdbs %zu count\n", in.nodes.size(), in.pods.size(), in.pdbs.size());
  std::printf("preflight_wall_s %.3f s\n", best);
  std::printf("pods_to_evict %d count\n", result.pods_to_evict);
  std::printf("unplaceable %ld count\n", unplaceable);
  std::printf("lower_bound_s %.0f s\n", result.lower_bound_seconds);
  return 0;
}
