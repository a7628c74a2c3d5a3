// The manager against the embedded cluster: no controller runs before every cache has synced.
// Before the fix, run() waited 60 s for each cache, ignored the answer and started the
// workers anyway: a pod list that kept failing meant windows drained zones with an empty pod
// cache (no pod to protect, no PDB to count: every batch looked safe).
#include <gtest/gtest.h>

#include "integration/rig.h"

namespace nonevent {
namespace {

using namespace testing;

TEST(Manager, RunsNoControllerUntilEveryCacheHasSynced) {
  Rig rig;
  rig.apply(
      "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: w}\n"
      "spec: {zones: [a], start: \"2026-12-01T00:10:00Z\", end: \"2026-12-01T01:00:00Z\", evacuateBefore: 30m,"
      " safety: {requireCapacity: false}}\n");
  // Every pods list fails: that cache cannot sync.
  rig.api->faults().set_rules({{.verb = "list", .resource = "pods", .code = 500, .rate = 1.0}});
  kube::RestConfig cfg;
  cfg.server = rig.http->url();
  cfg.token = rig.operator_token;
  cfg.qps = 0;
  rig.manager = std::make_unique<controllers::Manager>(kube::make_rest_client(cfg, rig.clock), rig.clock, rig.manager_options);
  rig.manager_thread = std::thread([&] { rig.manager->run(); });
  // Long past the old 60 s give-up, in virtual time, and some real time for the threads.
  rig.tick = 10s;
  rig.advance(300s);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(rig.manager->synced());
  EXPECT_FALSE(rig.manager->leading());
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n) << " cordoned on a cold cache";
    EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}), "");
  }
  EXPECT_FALSE(rig.window("w").has_field("status")) << "reconciled on a cold cache: " << rig.window("w").serialize();

  // The list recovers: the caches sync, the workers start, the window runs.
  rig.api->faults().set_rules({});
  EXPECT_TRUE(rig.advance_until([&] { return rig.manager->synced(); }, 600s));
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("w"), {"status", "phase"}) == "Evacuated"; }, 1800s))
      << rig.window("w").serialize();
}

TEST(Manager, StopsCleanlyWhileWaitingForCaches) {
  Rig rig;
  rig.api->faults().set_rules({{.verb = "list", .resource = "nodes", .code = 503, .rate = 1.0}});
  kube::RestConfig cfg;
  cfg.server = rig.http->url();
  cfg.token = rig.operator_token;
  cfg.qps = 0;
  rig.manager = std::make_unique<controllers::Manager>(kube::make_rest_client(cfg, rig.clock), rig.clock, rig.manager_options);
  bool returned = false;
  rig.manager_thread = std::thread([&] { returned = rig.manager->run(); });
  rig.advance(30s);
  rig.stop_operator();  // joins: a manager stuck waiting would hang here
  EXPECT_TRUE(returned);
}

// 23.9: a cache that stopped following the cluster (its list and watch refused) is reported
// after the grace, which readiness uses; and recovers.
TEST(Manager, SaysWhichCachesStoppedFollowingTheCluster) {
  Rig rig;
  rig.start_operator();
  ASSERT_TRUE(rig.manager->synced());
  EXPECT_EQ(rig.manager->caches_failing(std::chrono::milliseconds(0)), "");
  rig.api->faults().set_rules({{.verb = "watch", .resource = "pods", .code = 500, .rate = 1.0},
                               {.verb = "list", .resource = "pods", .code = 500, .rate = 1.0}});
  rig.http->drop_connections();
  std::string failing;
  for (int i = 0; i < 300 && failing.empty(); ++i) {
    rig.advance(1s);
    failing = rig.manager->caches_failing(std::chrono::milliseconds(100));
  }
  EXPECT_NE(failing.find("pods"), std::string::npos) << failing;
  EXPECT_EQ(failing.find("nodes"), std::string::npos) << failing;
  rig.api->faults().set_rules({});
  EXPECT_TRUE(rig.advance_until([&] { return rig.manager->caches_failing(std::chrono::milliseconds(100)).empty(); }, 600s))
      << rig.manager->caches_failing(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace nonevent
