// The MaintenanceWindow controller (real manager, informers, queue) against the embedded
// cluster over HTTP, on virtual time: a zone is emptied ahead of its window without any PDB
// going below budget, held, and restored; a person's cordon survives; bad input touches
// nothing.
#include <gtest/gtest.h>

#include "integration/rig.h"
#include "integration/spread_checks.h"

namespace nonevent {
namespace {

using namespace testing;

// shop.yaml's checkout Deployment is the cordoned-zone spread trap: with the default
// safety.requireCapacity the preflight blocks such a window (its own test below); the other
// tests accept that checkout's replacement waits in Pending and proceed.
std::string window_yaml(const std::string& name, const std::string& zone, const std::string& start, const std::string& end,
                        bool require_capacity = false) {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: " + name + "}\nspec:\n  zones: [" + zone +
         "]\n  start: \"" + start + "\"\n  end: \"" + end + "\"\n  evacuateBefore: 30m\n" +
         (require_capacity ? "" : "  safety: {requireCapacity: false}\n");
}

TEST(MaintenanceWindow, EmptiesTheZoneAheadHoldsItAndRestores) {
  Rig rig;
  // A person had cordoned one node of the zone before: it must stay cordoned afterwards.

  sim::ApiRequest cordon{.method = "PATCH", .path = "/api/v1/nodes/n-a-1"};
  cordon.headers["content-type"] = "application/merge-patch+json";
  cordon.body = R"({"spec":{"unschedulable":true}})";
  ASSERT_EQ(rig.handle(cordon).status, 200);
  rig.apply(window_yaml("use1a", "a", "2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z"));
  rig.start_operator();
  ASSERT_TRUE(rig.manager->leading());
  rig.advance(60s);
  EXPECT_EQ(str(rig.window("use1a"), {"status", "phase"}), "Scheduled");
  EXPECT_FALSE(flag(rig.zone_nodes("a")[0], {"spec", "unschedulable"})) << "nothing touched before evacuateBefore";
  const int before = rig.pods_in_zone("a");
  EXPECT_GT(before, 0);

  // Evacuation starts at 00:30.
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T00:29:55Z"));
  // Evacuated before the window opens at 01:00 (29 virtual minutes of budget).
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 1740s,
                                [&] { rig.check_pdbs(); }));
  EXPECT_LT(rig.clock->now(), *kube::parse_rfc3339("2026-12-01T01:00:00Z"));
  rig.advance(30s, [&] { rig.check_pdbs(); });  // settle: replacements Ready elsewhere
  auto w = rig.window("use1a");
  EXPECT_EQ(str(w, {"status", "phase"}), "Evacuated") << w.serialize();
  EXPECT_EQ(rig.pods_in_zone("a"), 0);
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_TRUE(flag(n, {"spec", "unschedulable"}));
    EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}), "MaintenanceWindow/use1a");
  }
  EXPECT_EQ(num(w, {"status", "nodes", "drained"}), 2);
  EXPECT_GE(num(w, {"status", "pods", "evicted"}), before);
  EXPECT_EQ(rig.pdb_violations, 0);
  int ready_web = 0;
  for (auto& p : rig.list("/pods", "shop")) ready_web += str(p, {"metadata", "labels", "app"}) == "web" && pod_ready(p);
  EXPECT_EQ(ready_web, 6) << "every replica Ready in the other zones";

  // After the window: restored, the person's cordon kept.
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T02:00:05Z"));
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Completed"; }, 600s));
  w = rig.window("use1a");
  EXPECT_EQ(str(w, {"status", "phase"}), "Completed") << w.serialize();
  EXPECT_GE(num(w, {"status", "pods", "evicted"}), before) << "a Completed window still says what it evicted\n" << w.serialize();
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << name(n);
    EXPECT_EQ(flag(n, {"spec", "unschedulable"}), name(n) == "n-a-1") << name(n);
  }
  auto cordoned_event = [&] {
    for (auto& e : rig.list("/events"))
      if (str(e, {"reason"}) == "Cordoned") return true;
    return false;
  };
  EXPECT_TRUE(rig.advance_until(cordoned_event, 60s));
}

// Design 7 under faults: the API refuses a fifth of the operator's writes (500s, 409s on
// nodes, 429s on evictions) and answers everything slowly; the zone is still emptied ahead of
// time without any PDB going below its budget, and restored afterwards.
// `pods_as_protobuf`: the operator reads pods in protobuf (--kube-api-content-type), and the
// watches are also cut midway (the protobuf stream resumes from its last version).
void evacuate_and_restore_through_api_faults(bool pods_as_protobuf) {
  Rig rig;
  rig.apply(window_yaml("use1a", "a", "2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z"));
  rig.manager_options.pods_as_protobuf = pods_as_protobuf;
  rig.start_operator();
  ASSERT_TRUE(rig.manager->leading());
  rig.inject_operator_faults("maintenancewindows/status", 2ms);
  const int before = rig.pods_in_zone("a");
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T00:29:55Z"));
  int steps = 0;
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 1740s,
                                [&] {
                                  rig.check_pdbs();
                                  if (pods_as_protobuf && ++steps % 20 == 0) rig.api->drop_watches();
                                }))
      << rig.window("use1a").serialize() << "\n" << rig.events_text();
  EXPECT_LT(rig.clock->now(), *kube::parse_rfc3339("2026-12-01T01:00:00Z"));
  rig.advance(30s, [&] { rig.check_pdbs(); });
  EXPECT_EQ(rig.pods_in_zone("a"), 0) << "of " << before;
  EXPECT_EQ(rig.pdb_violations, 0);
  int ready_web = 0;
  for (auto& p : rig.list("/pods", "shop")) ready_web += str(p, {"metadata", "labels", "app"}) == "web" && pod_ready(p);
  EXPECT_EQ(ready_web, 6) << "every replica Ready in the other zones";

  rig.clock->set(*kube::parse_rfc3339("2026-12-01T02:00:05Z"));
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Completed"; }, 1800s))
      << rig.window("use1a").serialize();
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << name(n);
    EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
  }
  EXPECT_GT(rig.api->faults().injected(), 0) << "the faults were there to be met";
}

TEST(MaintenanceWindow, EvacuatesAndRestoresThroughApiFaults) { evacuate_and_restore_through_api_faults(false); }
TEST(MaintenanceWindow, EvacuatesAndRestoresThroughApiFaultsReadingPodsAsProtobuf) {
  evacuate_and_restore_through_api_faults(true);
}

TEST(MaintenanceWindow, BadInputGetsAConditionAndTouchesNothing) {
  Rig rig;
  rig.apply(window_yaml("nozone", "nowhere", "2026-12-01T00:10:00Z", "2026-12-01T02:00:00Z"));
  rig.apply("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: cron}\n"
            "spec: {zones: [a], schedule: '0 25 * * SUN', duration: 4h, timeZone: Europe/Berlin}\n");
  rig.start_operator();
  rig.advance_until([&] { return str(rig.window("nozone"), {"status", "phase"}) == "Blocked" &&
                                 str(rig.window("cron"), {"status", "phase"}) == "Blocked"; }, 600s);
  auto w = rig.window("nozone");
  EXPECT_EQ(str(w, {"status", "phase"}), "Blocked");
  bool unknown_zone = false;
  for (const auto& c : w.at("status").at("conditions").as_array())
    unknown_zone = unknown_zone || (str(c, {"type"}) == "Blocked" && str(c, {"reason"}) == "UnknownZone");
  EXPECT_TRUE(unknown_zone) << w.serialize();
  EXPECT_EQ(str(rig.window("cron"), {"status", "phase"}), "Blocked");
  EXPECT_NE(rig.window("cron").serialize().find("spec.schedule: \\\"25\\\" is not a valid hour field"), std::string::npos)
      << rig.window("cron").serialize();
  for (auto& n : rig.list("/nodes")) EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
  // Events are sent by the recorder's own thread: give it (bounded) time to arrive.
  auto warned = [&] {
    for (auto& e : rig.list("/events"))
      if (str(e, {"reason"}) == "UnknownZone") return true;
    return false;
  };
  EXPECT_TRUE(rig.advance_until(warned, 60s)) << "an Event says why";
}

TEST(MaintenanceWindow, PreflightCatchesTheSpreadTrapAndTouchesNothing) {
  Rig rig;
  rig.apply(window_yaml("trap", "a", "2026-12-01T00:20:00Z", "2026-12-01T02:00:00Z", /*require_capacity=*/true));
  rig.start_operator();
  // While scheduled, status.preflight already names the trap.
  ASSERT_TRUE(rig.advance_until([&] { return rig.window("trap").serialize().find("SpreadTrap") != std::string::npos; }, 120s))
      << rig.window("trap").serialize();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("trap"), {"status", "phase"}) == "Blocked"; }, 600s))
      << rig.window("trap").serialize();
  const auto w = rig.window("trap");
  bool preflight_failed = false;
  for (const auto& c : w.at("status").at("conditions").as_array())
    if (str(c, {"type"}) == "Blocked" && str(c, {"reason"}) == "PreflightFailed") {
      preflight_failed = true;
      EXPECT_NE(str(c, {"message"}).find("Deployment/checkout"), std::string::npos) << str(c, {"message"});
      EXPECT_NE(str(c, {"message"}).find("nodeTaintsPolicy: Honor"), std::string::npos) << str(c, {"message"});
    }
  EXPECT_TRUE(preflight_failed) << w.serialize();
  rig.advance(120s);
  for (auto& n : rig.list("/nodes")) {
    EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n) << ": nothing is cordoned";
    EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << name(n);
  }
  // The fix the preflight names (nodeTaintsPolicy: Honor) lets the window proceed.
  ASSERT_EQ(rig.merge_patch("/apis/apps/v1/namespaces/shop/deployments/checkout",
                            R"({"spec":{"template":{"spec":{"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone",)"
                            R"("whenUnsatisfiable":"DoNotSchedule","nodeTaintsPolicy":"Honor","labelSelector":{"matchLabels":{"app":"checkout"}}}]}}}})"),
            200);
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("trap"), {"status", "phase"}) == "Evacuated"; }, 1800s, [&] { rig.check_pdbs(); }))
      << rig.window("trap").serialize();
  EXPECT_EQ(rig.pdb_violations, 0);
}

// Killed mid-drain (at several instants) and started again, the operator finishes from what
// is in the cluster: the zone ends empty, no PDB ever went below budget, a person's cordon
// survives, and every node is restored after the window.
TEST(MaintenanceWindow, OperatorKilledMidDrainFinishesFromTheCluster) {
  for (int kill_after_s : {1, 3, 6, 10}) {
    SCOPED_TRACE("killed " + std::to_string(kill_after_s) + "s into the evacuation");
    Rig rig;
    ASSERT_EQ(rig.merge_patch("/api/v1/nodes/n-a-1", R"({"spec":{"unschedulable":true}})"), 200);
    rig.apply(window_yaml("use1a", "a", "2026-12-01T00:31:00Z", "2026-12-01T00:36:00Z"));
    rig.start_operator();
    // Evacuation starts at 00:01; let it run a little, then kill the operator.
    ASSERT_TRUE(rig.advance_until([&] { return rig.clock->now() >= *kube::parse_rfc3339("2026-12-01T00:01:00Z"); }, 120s));
    rig.advance(std::chrono::seconds(kill_after_s), [&] { rig.check_pdbs(); });
    rig.stop_operator();
    rig.advance(20s, [&] { rig.check_pdbs(); });
    rig.start_operator();
    EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 1800s,
                                  [&] { rig.check_pdbs(); }))
        << rig.window("use1a").serialize();
    EXPECT_EQ(rig.pods_in_zone("a"), 0);
    rig.tick = 10s;  // nothing moves until the window ends
    EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Completed"; }, 3600s,
                                  [&] { rig.check_pdbs(); }));
    EXPECT_EQ(rig.pdb_violations, 0);
    for (auto& n : rig.zone_nodes("a")) {
      EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << name(n);
      EXPECT_EQ(flag(n, {"spec", "unschedulable"}), name(n) == "n-a-1") << name(n) << ": only the person's cordon stays";
    }
  }
}

// A bare pod on n-a-0 and an emptyDir pod on n-a-1: what each onBlocked policy does.
struct Blocked {
  Rig rig;
  explicit Blocked(const std::string& drain) {
    rig.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: scratch, namespace: shop}\n"
              "spec: {nodeName: n-a-0, containers: [{name: c, image: busybox}]}\n");
    rig.apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache, namespace: shop}\nspec:\n  replicas: 1\n"
              "  selector: {matchLabels: {app: cache}}\n  template:\n    metadata: {labels: {app: cache}}\n    spec:\n"
              "      nodeSelector: {topology.kubernetes.io/zone: a}\n"
              "      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: "
              "[{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n-a-1]}]}]}}}\n"
              "      containers: [{name: c, image: redis}]\n      volumes: [{name: scratch, emptyDir: {}}]\n");
    rig.advance(30s);
    rig.apply(window_yaml("blocked", "a", "2026-12-01T00:40:00Z", "2026-12-01T00:50:00Z") + "  drain: " + drain + "\n");
    rig.start_operator();
  }
  bool has_event(const std::string& reason) {
    for (auto& e : rig.list("/events"))
      if (str(e, {"reason"}) == reason) return true;
    return false;
  }
  bool pod_exists(const std::string& prefix) {
    for (auto& p : rig.list("/pods", "shop"))
      if (name(p).rfind(prefix, 0) == 0 && str(p, {"spec", "nodeName"}).rfind("n-a-", 0) == 0 && !terminating(p)) return true;
    return false;
  }
};

TEST(MaintenanceWindow, OnBlockedWaitReportsTheBlockersAndKeepsWaiting) {
  Blocked b("{onBlocked: Wait}");
  b.rig.tick = 2s;
  EXPECT_TRUE(b.rig.advance_until([&] { return num(b.rig.window("blocked"), {"status", "pods", "blocked"}) >= 2; }, 900s))
      << b.rig.window("blocked").serialize();
  b.rig.advance(300s);
  const auto w = b.rig.window("blocked");
  EXPECT_EQ(str(w, {"status", "phase"}), "Evacuating") << w.serialize();
  const auto text = w.serialize();
  EXPECT_NE(text.find("UnmanagedPod"), std::string::npos) << text;
  EXPECT_NE(text.find("EmptyDir"), std::string::npos) << text;
  EXPECT_TRUE(b.pod_exists("scratch"));
  EXPECT_TRUE(b.pod_exists("cache"));
  EXPECT_TRUE(b.rig.advance_until([&] { return b.has_event("EvictionBlocked"); }, 60s));
}

TEST(MaintenanceWindow, OnBlockedSkipNodeGivesThoseNodesBack) {
  Blocked b("{onBlocked: SkipNode}");
  b.rig.tick = 2s;
  EXPECT_TRUE(b.rig.advance_until([&] { return str(b.rig.window("blocked"), {"status", "phase"}) == "Evacuated"; }, 900s))
      << b.rig.window("blocked").serialize();
  const auto w = b.rig.window("blocked");
  EXPECT_EQ(num(w, {"status", "nodes", "skipped"}), 2) << w.serialize();
  EXPECT_FALSE(flag(b.rig.node("n-a-0"), {"spec", "unschedulable"})) << "a skipped node is back in service";
  EXPECT_FALSE(flag(b.rig.node("n-a-1"), {"spec", "unschedulable"}));
  EXPECT_TRUE(b.pod_exists("scratch")) << "nothing was forced";
  EXPECT_TRUE(b.rig.advance_until([&] { return b.has_event("NodeSkipped"); }, 60s));
}

TEST(MaintenanceWindow, OnBlockedForceDeletesAfterForceAfterAndSaysSo) {
  Blocked b("{onBlocked: Force, forceAfter: 3m, deleteEmptyDirData: false}");
  b.rig.tick = 2s;
  // Not before forceAfter...
  EXPECT_TRUE(b.rig.advance_until([&] { return num(b.rig.window("blocked"), {"status", "pods", "blocked"}) >= 2; }, 900s));
  b.rig.advance(60s);
  EXPECT_TRUE(b.pod_exists("scratch")) << "forced too early";
  // ...then deleted, with an Event, and the zone empties.
  EXPECT_TRUE(b.rig.advance_until([&] { return str(b.rig.window("blocked"), {"status", "phase"}) == "Evacuated"; }, 900s))
      << b.rig.window("blocked").serialize();
  EXPECT_FALSE(b.pod_exists("scratch"));
  EXPECT_EQ(b.rig.pods_in_zone("a"), 0);
  EXPECT_TRUE(b.rig.advance_until([&] { return b.has_event("ForcedDeletion"); }, 60s));
}

// "Every night at 03:00 New York time" across the spring-forward change of 2027-03-14: the
// occurrence that night is 03:00 EDT (07:00 UTC, not 08:00), the zone is empty before it,
// restored after it, and the window waits for the next night.
TEST(MaintenanceWindow, RecurringWindowAcrossADaylightSavingChange) {
  Rig rig(Rig::kSmallCluster, {"/examples/workloads/shop.yaml"}, "2027-03-14T06:00:00Z");
  rig.apply("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: nightly}\n"
            "spec: {zones: [b], schedule: '0 3 * * *', timeZone: America/New_York, duration: 30m, evacuateBefore: 20m,\n"
            "       safety: {requireCapacity: false}}\n");
  rig.tick = 5s;
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("nightly"), {"status", "phase"}) == "Scheduled"; }, 300s));
  EXPECT_EQ(str(rig.window("nightly"), {"status", "windowStart"}), "2027-03-14T07:00:00Z") << rig.window("nightly").serialize();
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("nightly"), {"status", "phase"}) == "Evacuated"; }, 3600s,
                                [&] { rig.check_pdbs(); }));
  EXPECT_LT(rig.clock->now(), *kube::parse_rfc3339("2027-03-14T07:00:00Z")) << "empty before 03:00 EDT";
  EXPECT_GE(rig.clock->now(), *kube::parse_rfc3339("2027-03-14T06:40:00Z")) << "not before start - evacuateBefore";
  EXPECT_EQ(rig.pods_in_zone("b"), 0);
  // After 03:30 EDT the nodes come back and the next night is scheduled.
  EXPECT_TRUE(rig.advance_until([&] {
    return str(rig.window("nightly"), {"status", "phase"}) == "Scheduled" &&
           str(rig.window("nightly"), {"status", "windowStart"}) == "2027-03-15T07:00:00Z";
  }, 7200s, [&] { rig.check_pdbs(); })) << rig.window("nightly").serialize();
  EXPECT_GE(rig.clock->now(), *kube::parse_rfc3339("2027-03-14T07:30:00Z"));
  EXPECT_TRUE(rig.advance_until([&] {
    for (auto& n : rig.zone_nodes("b"))
      if (flag(n, {"spec", "unschedulable"}) || at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) return false;
    return true;
  }, 120s)) << "restored after the occurrence";
  EXPECT_EQ(str(rig.window("nightly"), {"status", "nextWindowStart"}), "2027-03-15T07:00:00Z");
  EXPECT_EQ(rig.pdb_violations, 0);
}

// Two windows whose zones together would leave one schedulable zone (minAvailableZones 2):
// the earlier proceeds, the later is Blocked and touches nothing.
TEST(MaintenanceWindow, OverlappingWindowsNeverBreakMinAvailableZones) {
  Rig rig;
  rig.apply(window_yaml("first", "a", "2026-12-01T00:31:00Z", "2026-12-01T01:00:00Z"));
  rig.apply(window_yaml("second", "b", "2026-12-01T00:40:00Z", "2026-12-01T01:10:00Z"));
  rig.tick = 2s;
  rig.start_operator();
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("first"), {"status", "phase"}) == "Evacuated" &&
                                             str(rig.window("second"), {"status", "phase"}) == "Blocked"; }, 1800s,
                                [&] { rig.check_pdbs(); }))
      << rig.window("first").serialize() << "\n" << rig.window("second").serialize();
  const auto text = rig.window("second").serialize();
  EXPECT_NE(text.find("MinAvailableZones"), std::string::npos) << text;
  EXPECT_NE(text.find("MaintenanceWindow first"), std::string::npos) << text;
  for (auto& n : rig.zone_nodes("b")) EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
  for (auto& n : rig.zone_nodes("c")) EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
}

TEST(MaintenanceWindow, DeletingTheWindowMidEvacuationRestoresItsNodes) {
  Rig rig;
  rig.apply(window_yaml("gone", "b", "2026-12-01T00:20:00Z", "2026-12-01T02:00:00Z"));
  rig.start_operator();
  EXPECT_TRUE(rig.advance_until([&] {
    for (auto& n : rig.zone_nodes("b"))
      if (!flag(n, {"spec", "unschedulable"})) return false;
    return true;
  }, 600s));
  sim::ApiRequest del{.method = "DELETE", .path = "/apis/nonevent.dev/v1alpha1/maintenancewindows/gone"};
  ASSERT_EQ(rig.handle(del).status, 200);
  rig.advance_until([&] { return rig.window("gone").is_null(); }, 600s);
  EXPECT_TRUE(rig.window("gone").is_null()) << "the finalizer was removed after restoring: " << rig.window("gone").serialize();
  for (auto& n : rig.zone_nodes("b")) {
    EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
    EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << name(n);
  }
}

TEST(MaintenanceWindow, AfterRestoreRebalancesDisplacedWorkloadsBackToTheirSpread) {
  Rig rig;
  rig.apply(window_yaml("use1a", "a", "2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z"));
  rig.start_operator();
  rig.advance(60s);
  const auto before = spread_by_app(rig);
  ASSERT_GT(before.at("web").at("a"), 0);
  ASSERT_GT(before.at("api").at("a"), 0);

  rig.clock->set(*kube::parse_rfc3339("2026-12-01T00:29:55Z"));
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 1740s));
  rig.advance(30s);
  EXPECT_EQ(spread_by_app(rig)["web"]["a"], 0) << "zone a is empty during the window";
  const auto evacuated = rig.window("use1a");
  const auto* displaced = at(evacuated, {"status", "preflight", "displaced"});
  ASSERT_TRUE(displaced && displaced->size() >= 2) << evacuated.serialize();

  // After the window: restored, then rebalanced one PDB budget at a time, back within each
  // workload's spread (zone a holds replicas again), never below any budget.
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T02:00:05Z"));
  bool saw_rebalancing = false;
  EXPECT_TRUE(rig.advance_until(
      [&] {
        const auto phase = str(rig.window("use1a"), {"status", "phase"});
        saw_rebalancing = saw_rebalancing || phase == "Rebalancing";
        return phase == "Completed";
      },
      1800s, [&] { rig.check_pdbs(); }));
  EXPECT_TRUE(saw_rebalancing);
  const auto after = spread_by_app(rig);
  for (const char* app : {"web", "api"}) {
    EXPECT_GT(after.at(app).count("a") ? after.at(app).at("a") : 0, 0) << app << " is back in zone a";
    EXPECT_LE(skew(after.at(app)), std::max(1, skew(before.at(app)))) << app;
  }
  EXPECT_EQ(rig.pdb_violations, 0);
  auto rebalanced_event = [&] {
    for (auto& e : rig.list("/events"))
      if (str(e, {"reason"}) == "Rebalanced") return true;
    return false;
  };
  EXPECT_TRUE(rig.advance_until(rebalanced_event, 60s));
}

TEST(MaintenanceWindow, RebalanceFalseLeavesDisplacedPodsWhereTheyAre) {
  Rig rig;
  rig.apply(window_yaml("use1a", "a", "2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z") + "  rebalance: false\n");
  rig.start_operator();
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T00:29:55Z"));
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 1740s));
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T02:00:05Z"));
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Completed"; }, 600s));
  rig.advance(120s);
  EXPECT_EQ(spread_by_app(rig)["web"]["a"], 0) << "nothing moved back";
}

}  // namespace
}  // namespace nonevent
