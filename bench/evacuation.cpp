// bench/evacuation: a zone evacuated ahead of its maintenance window by the real operator
// (manager, informers, HTTP) on virtual time, against the kubectl-drain-like baseline on an
// identical cluster in the same run, and against the lower bound the PDBs allow.
//
// N nodes in three zones with P pods (bench/fleet.h: Deployments of 30, half zone-spread
// with nodeTaintsPolicy Honor, each with a PDB of maxUnavailable 1). A MaintenanceWindow for
// zone a whose evacuation starts at once; the operator's maxConcurrentEvictions is raised so
// the PDBs, not the operator, set the pace.
//
// usage: evacuation [--nodes 5000] [--pods 150000] [--tick 1]
// Prints `<metric> <value> <unit>` lines:
//   operator_virtual_s      evacuation start → status.phase Evacuated
//   baseline_virtual_s      the kubectl-drain-like loop, cordon → last node empty
//   lower_bound_virtual_s   the planner's bound (the most-constrained PDB's rounds × (start + ready))
//                           plus the cluster's termination time: the zone is empty only once the
//                           last evicted pod has terminated
//   operator_over_lower_bound, baseline_over_operator (ratios)
//   pdb_violations          samples (each virtual 10 s) where a PDB's currentHealthy < desiredHealthy
//   max_skew_excess         worst (zone skew − maxSkew) of a spread workload over zones b and c, at the end
//   api_requests_per_node   the operator's API requests / nodes in the zone
//   wall_s
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "bench_cluster.h"
#include "bench_flags.h"
#include "bench_operator.h"
#include "planner_input.h"
#include "controllers/manager.h"
#include "kube/rest_client.h"
#include "model/codecs.h"
#include "planner/preflight.h"
#include "sim/http_server.h"
#include "sim/json_util.h"

using namespace nonevent;
using namespace sim::json;
using Wall = std::chrono::steady_clock;
using web::json::value;

namespace {

// The planner's lower bound for draining zone a, with the cluster's own pod timings.
double lower_bound_s(sim::ObjectStore& store) {
  const auto in = bench::planner_input(store, "a");
  planner::PreflightPolicy policy;
  policy.pod_start_seconds = 2;
  policy.pod_ready_seconds = 5;
  const double termination_s = 10;  // boot_cluster's terminationSeconds
  return planner::preflight(in.nodes, in.pods, in.pdbs, in.drained, "topology.kubernetes.io/zone", policy).lower_bound_seconds +
         termination_s;
}

long pdbs_below_budget(sim::ObjectStore& store) {
  long n = 0;
  for (const auto& pdb : list_objects(store, "policy/poddisruptionbudgets"))
    n += num(pdb, {"status", "currentHealthy"}) < num(pdb, {"status", "desiredHealthy"});
  return n;
}

// Worst excess of a DoNotSchedule zone-spread workload's skew over its maxSkew (1), over the
// zones that stay (b and c), counting Ready pods.
int max_skew_excess(sim::ObjectStore& store, long deployments) {
  std::map<std::string, std::string> zone_of;
  for (const auto& n : list_objects(store, "/nodes")) zone_of[name(n)] = str(n, {"metadata", "labels", "topology.kubernetes.io/zone"});
  std::map<std::string, std::map<std::string, int>> per_zone;
  for (const auto& p : list_objects(store, "/pods"))
    if (pod_ready(p) && !terminating(p)) ++per_zone[str(p, {"metadata", "labels", "app"})][zone_of[str(p, {"spec", "nodeName"})]];
  int worst = 0;
  for (long d = 0; d < deployments; d += 2) {
    auto& zs = per_zone["svc-" + std::to_string(d)];
    worst = std::max(worst, std::abs(zs["b"] - zs["c"]) - 1);
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  long nodes = 5000, pods = 150000, tick_s = 1;
  bench::parse_flags(argc, argv, "evacuation [--nodes 5000] [--pods 150000] [--tick 1]",
                     {{"--nodes", &nodes}, {"--pods", &pods}, {"--tick", &tick_s}});
  const auto t0 = Wall::now();
  const bench::BootOptions boot{.nodes = nodes, .pods = pods, .with_crds = true, .source_dir = NONEVENT_SOURCE_DIR};

  // The baseline first, on its own cluster.
  double baseline_s = 0;
  {
    auto c = bench::boot_cluster(boot);
    baseline_s = bench::drain_like_kubectl(c, "a").virtual_s;
  }

  // The operator, over HTTP, as in production.
  auto c = bench::boot_cluster(boot);
  const double bound_s = lower_bound_s(*c.store);
  bench::BenchOperator op(c);

  const auto v0 = c.clock->now();
  const auto start = kube::format_rfc3339(v0 + std::chrono::hours(1));
  const auto end = kube::format_rfc3339(v0 + std::chrono::hours(3));
  const std::string window = "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: zone-a}\nspec:\n"
                             "  zones: [a]\n  start: \"" + start + "\"\n  end: \"" + end + "\"\n  evacuateBefore: 1h\n"
                             "  drain: {maxConcurrentEvictions: 100000}\n";
  for (const auto& d : sim::parse_yaml_documents(window)) c.api->create_object(d);
  long zone_nodes = 0;
  for (const auto& n : list_objects(*c.store, "/nodes")) zone_nodes += str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}) == "a";

  long pdb_violations = 0, samples = 0;
  std::optional<kube::TimePoint> evacuated_at;
  std::string phase;
  for (long t = 0; t < 3600 / tick_s; ++t) {
    c.run_for(std::chrono::seconds(tick_s));
    bench::settle(c, [&] { return op.idle(); });
    const auto w = get_object(*c.store, "nonevent.dev/maintenancewindows", "", "zone-a");
    phase = str(w, {"status", "phase"});
    if (std::getenv("EVACUATION_DEBUG") && t % 5 == 0)
      std::fprintf(stderr, "t=%lds phase=%s drained=%ld/%ld requests=%ld wall=%.1fs reconciles=%ld (%.1fs, longest %.2fs)\n", t * tick_s,
                   phase.c_str(), static_cast<long>(num(w, {"status", "nodes", "drained"})),
                   static_cast<long>(num(w, {"status", "nodes", "total"})), op.requests(), bench::secs(Wall::now() - t0),
                   op.reconciles(), op.reconcile_wall_s(), op.max_reconcile_wall_s());
    if (phase == "Evacuated") {
      evacuated_at = c.clock->now();
      break;
    }
    if (t % std::max(1L, 10 / tick_s) == 0) {
      ++samples;
      pdb_violations += pdbs_below_budget(*c.store);
    }
  }
  const long requests_at_evacuated = op.requests();
  bench::print_operator_requests(*c.api);
  c.run_for(std::chrono::seconds(30));  // the last replacements turn Ready
  const int skew_excess = max_skew_excess(*c.store, c.deployments);
  op.stop();

  const double operator_s = evacuated_at ? std::chrono::duration<double>(*evacuated_at - v0).count() : -1;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("nodes %ld count\n", nodes);
  std::printf("pods %ld count\n", c.deployments * bench::kReplicas);
  std::printf("evacuated %d bool\n", evacuated_at ? 1 : 0);
  std::printf("operator_virtual_s %.0f s\n", operator_s);
  std::printf("baseline_virtual_s %.0f s\n", baseline_s);
  std::printf("lower_bound_virtual_s %.0f s\n", bound_s);
  std::printf("operator_over_lower_bound %.3f ratio\n", bound_s > 0 ? operator_s / bound_s : -1);
  std::printf("baseline_over_operator %.2f ratio\n", operator_s > 0 ? baseline_s / operator_s : -1);
  std::printf("pdb_violations %ld samples\n", pdb_violations);
  std::printf("invariant_samples %ld count\n", samples);
  std::printf("max_skew_excess %d replicas\n", skew_excess);
  std::printf("api_requests_per_node %.1f requests\n", zone_nodes ? static_cast<double>(requests_at_evacuated) / zone_nodes : -1);
  std::printf("wall_s %.1f s\n", bench::secs(Wall::now() - t0));
  std::printf("peak_rss_mb %ld MB\n", ru.ru_maxrss / 1024);
  return evacuated_at ? 0 : 1;
}
