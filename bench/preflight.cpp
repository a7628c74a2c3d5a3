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
#include "model/codecs.h"
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
  std::vector<std::shared_ptr<const model::Node>> node_objs;
  std::vector<std::shared_ptr<const model::Pod>> pod_objs;
  std::vector<std::shared_ptr<const model::PodDisruptionBudget>> pdb_objs;
  // (Each list held in a variable: a range-for over a temporary's member would dangle.)
  const auto listed_nodes = c.store->list({.resource = "/nodes"}, 0, "");
  const auto listed_pods = c.store->list({.resource = "/pods"}, 0, "");
  const auto listed_pdbs = c.store->list({.resource = "policy/poddisruptionbudgets"}, 0, "");
  for (const auto& o : listed_nodes.value().items)
    if (auto d = model::CodecFor<model::Node>::decode(o->json); d.ok()) node_objs.push_back(d.value());
  for (const auto& o : listed_pods.value().items)
    if (auto d = model::CodecFor<model::Pod>::decode(o->json); d.ok()) pod_objs.push_back(d.value());
  for (const auto& o : listed_pdbs.value().items)
    if (auto d = model::CodecFor<model::PodDisruptionBudget>::decode(o->json); d.ok()) pdb_objs.push_back(d.value());
  std::printf("decode_wall_s %.2f s\n", bench::secs(Wall::now() - t));

  std::vector<const model::Node*> np;
  std::vector<const model::Pod*> pp;
  std::vector<const model::PodDisruptionBudget*> bp;
  std::set<std::string> drained;
  for (const auto& n : node_objs) {
    np.push_back(n.get());
    if (const auto* z = model::find_label(n->meta.label_set(), "topology.kubernetes.io/zone"); z && z->str() == "a")
      drained.insert(n->meta.name);
  }
  for (const auto& p : pod_objs) pp.push_back(p.get());
  for (const auto& b : pdb_objs) bp.push_back(b.get());

  double best = 1e9;
  planner::Preflight result;
  for (long i = 0; i < std::max(1L, repeat); ++i) {
    t = Wall::now();
    result = planner::preflight(np, pp, bp, drained, "topology.kubernetes.io/zone", {.pod_start_seconds = 2, .pod_ready_seconds = 5});
    best = std::min(best, bench::secs(Wall::now() - t));
  }
  long unplaceable = 0;
  for (const auto& b : result.blockers) unplaceable += b.reason == "Capacity" || b.reason == "Unschedulable" || b.reason == "SpreadTrap";
  std::printf("nodes %zu count\npods %zu count\npdbs %zu count\n", np.size(), pp.size(), bp.size());
  std::printf("preflight_wall_s %.3f s\n", best);
  std::printf("pods_to_evict %d count\n", result.pods_to_evict);
  std::printf("unplaceable %ld count\n", unplaceable);
  std::printf("lower_bound_s %.0f s\n", result.lower_bound_seconds);
  return 0;
}
