// bench/rehearse: how close `nonevent rehearse` comes to the real thing, and how fast (issue 30).
//
// One bench cluster (bench/bench_cluster.h: N nodes in zones a/b/c, the fleet workload mix with
// a PDB per Deployment) is snapshotted as kubectl would show it, and a window on zone a whose
// evacuation starts at once is
//  - rehearsed from the snapshot (rehearse/rehearsal.h: lock step, time jumps), whole: evacuate,
//    hold, restore, rebalance;
//  - run for real on the cluster itself: the operator on its own threads over HTTP, time moving
//    a tick at a time whether or not anyone is busy (as bench/evacuation runs it).
// Both evacuations are timed from the evacuation start to status.phase Evacuated.
//
// With --campaign 1, a PatchCampaign instead (InPlace, a node per zone at a time, a 2-minute
// patch Job and the cluster's reboot), timed from its creation to status.completedAt.
//
// usage: rehearse [--nodes 1500] [--pods 45000] [--tick-ms 1000] [--campaign 0|1]
// (--tick-ms: the real run's step; its operator sees a change only at the end of the step it
// happened in, so a coarser step adds up to a step to every PDB round of the real run.)
// Prints `<metric> <value> <unit>` lines:
//   rehearsed_evacuation_virtual_s, real_evacuation_virtual_s, rehearsed_over_real (ratio)
//   rehearse_wall_s        the whole rehearsal (snapshot boot to rebalanced), wall
//   rehearsal_settles      lock-step rounds
//   rehearsal_problems     what the rehearsal would exit 3 for (0 expected: the fleet has no trap)
//   real_wall_s
// A figure that would read 0 (an evacuation that never finished) is refused, not printed.
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "bench_cluster.h"
#include "bench_flags.h"
#include "bench_operator.h"
#include "rehearse/rehearsal.h"
#include "sim/json_util.h"

using namespace nonevent;
using namespace sim::json;
using Wall = std::chrono::steady_clock;
using web::json::value;

int main(int argc, char** argv) {
  long nodes = 1500, pods = 45000, tick_ms = 1000, campaign = 0;
  bench::parse_flags(argc, argv, "rehearse [--nodes 1500] [--pods 45000] [--tick-ms 1000] [--campaign 0|1]",
                     {{"--nodes", &nodes}, {"--pods", &pods}, {"--tick-ms", &tick_ms}, {"--campaign", &campaign}});
  auto c = bench::boot_cluster(
      {.nodes = nodes, .pods = pods, .image_version = campaign ? "bash-4.3-24" : "", .with_crds = true, .source_dir = NONEVENT_SOURCE_DIR});
  std::vector<value> snapshot;
  for (const char* r : {"/nodes", "/pods", "policy/poddisruptionbudgets", "apps/deployments", "apps/replicasets", "apps/statefulsets",
                        "apps/daemonsets"})
    for (auto& o : list_objects(*c.store, r)) snapshot.push_back(std::move(o));
  if (const char* out = std::getenv("REHEARSE_SNAPSHOT_OUT")) {  // for `nonevent rehearse` by hand
    value list = value::object();
    list["apiVersion"] = value::string("v1");
    list["kind"] = value::string("List");
    list["items"] = value::array(snapshot);
    std::ofstream(out) << list.serialize();
  }
  const auto v0 = c.clock->now();
  const std::string window_yaml = "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: zone-a}\nspec:\n"
                                  "  zones: [a]\n  start: \"" + kube::format_rfc3339(v0 + std::chrono::hours(1)) + "\"\n  end: \"" +
                                  kube::format_rfc3339(v0 + std::chrono::hours(2)) + "\"\n  evacuateBefore: 1h\n"
                                  "  drain: {maxConcurrentEvictions: 100000}\n  safety: {requireCapacity: false}\n";
  const std::string campaign_yaml = "apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: fleet}\nspec:\n"
                                    "  target: {version: bash-4.3-25}\n  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 1, soak: 5m}}\n"
                                    "  inPlace:\n    jobTemplate:\n      metadata: {annotations: {sim.nonevent.dev/run-seconds: '120'}}\n"
                                    "      spec: {containers: [{name: patch, image: node-patcher}]}\n  deadline: 48h\n";
  const std::string& resource_yaml = campaign ? campaign_yaml : window_yaml;
  const char* what = campaign ? "campaign" : "evacuation";
  const value window = sim::parse_yaml_documents(resource_yaml).at(0);

  // Rehearsed, with the bench cluster's own timings (a rehearsal infers pod readiness from the
  // snapshot; termination and reboot it cannot see).
  rehearse::RehearsalOptions opts;
  opts.timings.pod_start_s = 2;
  opts.timings.termination_s = 10;
  opts.timings.node_reboot_s = 120;
  const auto r0 = Wall::now();
  const auto rehearsal = rehearse::rehearse(snapshot, window, opts);
  const double rehearse_wall = bench::secs(Wall::now() - r0);
  std::optional<double> rehearsed_s;
  const auto rehearsal_start = kube::parse_rfc3339(str(rehearsal.timeline, {"start"})).value_or(v0);
  if (campaign) {
    if (auto done = kube::parse_rfc3339(str(rehearsal.timeline, {"completedAt"}))) rehearsed_s = std::chrono::duration<double>(*done - v0).count();
  } else {
    for (const auto& p : rehearsal.timeline.at("phases").as_array())
      if (!rehearsed_s && str(p, {"phase"}).rfind("Evacuated", 0) == 0)
        rehearsed_s = std::chrono::duration<double>(rehearsal_start + std::chrono::duration_cast<kube::Duration>(
                                                                          std::chrono::duration<double>(p.at("at").as_double())) - v0)
                          .count();
  }

  // For real, on the cluster the snapshot was taken from.
  const auto w0 = Wall::now();
  bench::BenchOperator op(c);
  for (const auto& d : sim::parse_yaml_documents(resource_yaml)) c.api->create_object(d);
  std::optional<double> real_s;
  const long limit_s = campaign ? 48 * 3600 : 3600;
  for (long t = 0; t < limit_s * 1000 / tick_ms && !real_s; ++t) {
    c.run_for(std::chrono::milliseconds(tick_ms));
    bench::settle(c, [&] { return op.idle(); });
    const value r = campaign ? get_object(*c.store, "nonevent.dev/patchcampaigns", "", "fleet")
                             : get_object(*c.store, "nonevent.dev/maintenancewindows", "", "zone-a");
    if (str(r, {"status", "phase"}) == (campaign ? "Completed" : "Evacuated"))
      real_s = std::chrono::duration<double>(c.clock->now() - v0).count();
  }
  op.stop();
  const double real_wall = bench::secs(Wall::now() - w0);

  std::printf("nodes %ld count\n", nodes);
  std::printf("pods %ld count\n", c.deployments * bench::kReplicas);
  if (!rehearsed_s || *rehearsed_s <= 0 || !real_s || *real_s <= 0) {
    std::fprintf(stderr, "rehearse: a %s did not finish (rehearsed %s, real %s): no figure to compare\n", what,
                 rehearsed_s ? "yes" : "no", real_s ? "yes" : "no");
    for (const auto& p : rehearsal.problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return 1;
  }
  std::printf("rehearsed_%s_virtual_s %.0f s\n", what, *rehearsed_s);
  std::printf("real_%s_virtual_s %.0f s\n", what, *real_s);
  std::printf("rehearsed_over_real %.3f ratio\n", *rehearsed_s / *real_s);
  std::printf("rehearse_wall_s %.1f s\n", rehearse_wall);
  std::printf("rehearsal_settles %ld count\n", rehearsal.settles);
  std::printf("rehearsal_problems %zu count\n", rehearsal.problems.size());
  for (const auto& p : rehearsal.problems) std::fprintf(stderr, "problem: %s\n", p.c_str());
  std::printf("real_tick_ms %ld ms\n", tick_ms);
  std::printf("real_wall_s %.1f s\n", real_wall);
  return 0;
}
