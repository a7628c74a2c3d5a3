// Two of our CRs on the same cluster at once (issue 23): a window and a campaign, windows that
// overlap, and CRs that vanish mid-work. The single-CR paths are in maintenance_window_test
// and patch_campaign_test; these are the combinations.
#include "integration/rig.h"

namespace nonevent {
namespace {

using namespace testing;

std::string campaign(const std::string& name, const std::string& strategy_extra = "maxUnavailable: 1, canary: {nodes: 1, soak: 2m}") {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: " + name +
         "}\nspec:\n  target: {version: v2}\n  deadline: 4h\n  strategy: {type: InPlace, " + strategy_extra + "}\n" + kJobTemplate;
}

std::string window(const std::string& name, const std::string& zones, const std::string& start, const std::string& end,
                   const std::string& extra = "") {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: " + name + "}\nspec: {zones: [" + zones +
         "], start: '" + start + "', end: '" + end + "', evacuateBefore: 20m" + extra + "}\n";
}

// Zones with at least one schedulable, Ready node.
int schedulable_zones(Rig& rig) {
  std::set<std::string> zones;
  for (auto& n : rig.list("/nodes"))
    if (!flag(n, {"spec", "unschedulable"}) && condition_true(n, "Ready"))
      zones.insert(str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}));
  return static_cast<int>(zones.size());
}

// 23.1: shop.yaml's checkout is the cordoned-zone spread trap. With requireCapacity (the
// default) the window must stay Blocked and touch nothing, however the campaign rolling the
// other zones changes the picture meanwhile.
TEST(Overlap, AWindowWhosePreflightFailsTouchesNothingWhileACampaignRolls) {
  Rig rig;
  rig.apply(window("trap", "a", "2026-12-01T00:40:00Z", "2026-12-01T01:40:00Z"));
  rig.apply(campaign("fleet"));
  rig.tick = 3s;
  rig.start_operator();
  std::string touched;
  auto untouched = [&] {
    for (auto& n : rig.zone_nodes("a"))
      if (str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}).rfind("MaintenanceWindow/", 0) == 0 && touched.empty())
        touched = name(n) + " at " + kube::format_rfc3339(rig.clock->now()) + "\n" + rig.events_text();
  };
  // Into the window: evacuation started at 00:20.
  rig.advance_until([&] { return rig.clock->now() >= *kube::parse_rfc3339("2026-12-01T01:00:00Z"); }, 2h, untouched);
  const auto w = rig.window("trap");
  EXPECT_EQ(str(w, {"status", "phase"}), "Blocked") << w.serialize();
  EXPECT_TRUE(condition_true(w, "Blocked")) << w.serialize();
  rig.advance_until([&] { return rig.clock->now() >= *kube::parse_rfc3339("2026-12-01T01:41:00Z"); }, 2h, untouched);
  EXPECT_EQ(touched, "") << "the window claimed a node although its preflight failed";
  // 23.5: over, and it never did anything: Missed, not "Completed ... restored".
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.window("trap"), {"status", "phase"}) == "Missed"; }, 2min))
      << rig.window("trap").serialize();
  EXPECT_TRUE(has_condition(rig.window("trap"), "Ready", "False", "BlockedThroughout")) << rig.window("trap").serialize();
}

// 23.2: a window holds zone a while a campaign may take a whole zone at once (maxUnavailable 2
// of 2 nodes): never fewer than minAvailableZones (2) schedulable zones, counting both.
TEST(Overlap, AWindowAndACampaignTogetherNeverLeaveFewerThanMinAvailableZones) {
  Rig rig(Rig::kSmallCluster, {});  // no workloads: nothing but the zone rule can stop the campaign
  // The window is evacuating before the campaign starts.
  rig.apply(window("hold-a", "a", "2026-12-01T00:10:00Z", "2026-12-01T01:30:00Z", ", safety: {requireCapacity: false}"));
  rig.apply(campaign("wide", "maxUnavailable: 2, canary: {nodes: 0}"));
  rig.tick = 3s;
  rig.start_operator();
  int fewest = 3;
  std::string when;
  // 8 h of virtual time: on a loaded machine the operator acts later in virtual time (the rig
  // steps the clock beside its real threads), and the point here is the zone floor, not speed.
  const bool done = rig.advance_until([&] { return str(rig.campaign("wide"), {"status", "phase"}) == "Completed"; }, 8h, [&] {
    const int z = schedulable_zones(rig);
    if (z < fewest) {
      fewest = z;
      when = kube::format_rfc3339(rig.clock->now()) + "\n" + rig.nodes_text();
    }
  });
  EXPECT_TRUE(done) << rig.campaign("wide").serialize();
  EXPECT_GE(fewest, 2) << "schedulable zones fell to " << fewest << " at " << when;
}

// 23.4: a window that is Blocked and touched nothing takes no zone from anyone: another window
// evacuates its own zone, and a campaign rolls a zone the blocked window names.
TEST(Overlap, ABlockedWindowThatTouchedNothingHoldsNoZone) {
  Rig rig(Rig::kSmallCluster, {});
  rig.apply(window("all-zones", "a, b, c", "2026-12-01T00:30:00Z", "2026-12-01T01:30:00Z"));
  rig.apply(window("b-only", "b", "2026-12-01T00:30:00Z", "2026-12-01T01:30:00Z"));
  rig.apply(campaign("c-fleet", "maxUnavailable: 1, canary: {nodes: 0}") + "  zones: [c]\n");
  rig.tick = 3s;
  rig.start_operator();
  const bool evacuated = rig.advance_until([&] { return str(rig.window("b-only"), {"status", "phase"}) == "Evacuated"; }, 30min);
  const auto all = rig.window("all-zones");
  EXPECT_EQ(str(all, {"status", "phase"}), "Blocked") << all.serialize();
  EXPECT_TRUE(evacuated) << rig.window("b-only").serialize();
  EXPECT_EQ(str(rig.window("b-only"), {"status", "blockers"}), "");
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.campaign("c-fleet"), {"status", "phase"}) == "Completed"; }, 1h))
      << rig.campaign("c-fleet").serialize();
}

// 23.5: a window created after its end touches nothing and says it was missed.
TEST(Overlap, AWindowAlreadyOverIsMissedAndTouchesNothing) {
  Rig rig(Rig::kSmallCluster, {});
  rig.apply(window("yesterday", "a", "2026-11-30T02:00:00Z", "2026-11-30T06:00:00Z"));
  rig.start_operator();
  // A generous budget: virtual time does not matter here (the window is long over), and on a
  // loaded machine the operator's start can take more than the 2 minutes' worth of steps.
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("yesterday"), {"status", "phase"}) == "Missed"; }, 30min))
      << rig.window("yesterday").serialize();
  EXPECT_TRUE(has_condition(rig.window("yesterday"), "Ready", "False", "WindowAlreadyOver")) << rig.window("yesterday").serialize();
  for (auto& n : rig.list("/nodes")) EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
  // The Event is sent in the background, after the status.
  EXPECT_TRUE(rig.advance_until([&] { return rig.events_text().find("WindowMissed") != std::string::npos; }, 5min)) << rig.events_text();
}

// 23.10: a campaign waiting on a window says so, names the window, and its ETA counts the wait.
TEST(Overlap, ACampaignHeldByAWindowSaysWhoHoldsItAndCountsTheWait) {
  Rig rig(Rig::kSmallCluster, {});
  rig.apply(window("hold-a", "a", "2026-12-01T00:30:00Z", "2026-12-01T02:00:00Z", ", safety: {requireCapacity: false}"));
  rig.apply(campaign("fleet", "maxUnavailable: 1, canary: {nodes: 0}") + "  zones: [b, a]\n");
  rig.tick = 3s;
  rig.start_operator();
  // b is rolled; a waits for the window.
  ASSERT_TRUE(rig.advance_until([&] { return has_condition(rig.campaign("fleet"), "Progressing", "False", "HeldByWindow"); }, 1h))
      << rig.campaign("fleet").serialize();
  const auto c = rig.campaign("fleet");
  EXPECT_NE(c.serialize().find("held by MaintenanceWindow/hold-a until 2026-12-01T02:00:00Z"), std::string::npos) << c.serialize();
  EXPECT_NE(str(c, {"status", "summary"}).find("held by MaintenanceWindow/hold-a"), std::string::npos) << str(c, {"status", "summary"});
  const auto eta = kube::parse_rfc3339(str(c, {"status", "estimatedCompletion"}));
  ASSERT_TRUE(eta) << c.serialize();
  EXPECT_GT(*eta, *kube::parse_rfc3339("2026-12-01T02:00:00Z")) << "the ETA must count the time zone a is held";
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.campaign("fleet"), {"status", "phase"}) == "Completed"; }, 3h));
}

// Issue 24.1 (design 2.2a): a held node carries cluster-autoscaler's and Karpenter's
// do-not-touch annotations, written with the claim, and gets back exactly what it had.
TEST(Overlap, HeldNodesKeepOtherDisruptorsOffAndGetTheirAnnotationsBack) {
  Rig rig(Rig::kSmallCluster, {});
  ASSERT_EQ(rig.merge_patch("/api/v1/nodes/n-a-0",
                            R"({"metadata":{"annotations":{"cluster-autoscaler.kubernetes.io/scale-down-disabled":"false"}}})"),
            200);
  rig.apply(window("use1a", "a", "2026-12-01T00:20:00Z", "2026-12-01T00:40:00Z", ", safety: {requireCapacity: false}"));
  rig.tick = 2s;
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 30min));
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_EQ(str(n, {"metadata", "annotations", "cluster-autoscaler.kubernetes.io/scale-down-disabled"}), "true") << name(n);
    EXPECT_EQ(str(n, {"metadata", "annotations", "karpenter.sh/do-not-disrupt"}), "true") << name(n);
  }
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Completed"; }, 1h));
  auto n0 = rig.node("n-a-0"), n1 = rig.node("n-a-1");
  EXPECT_EQ(str(n0, {"metadata", "annotations", "cluster-autoscaler.kubernetes.io/scale-down-disabled"}), "false") << "the user's value survives";
  for (auto& n : {n0, n1}) {
    EXPECT_FALSE(n.at("metadata").at("annotations").has_field("karpenter.sh/do-not-disrupt")) << name(n);
    EXPECT_FALSE(n.at("metadata").at("annotations").has_field("nonevent.dev/prior-scale-down-disabled")) << name(n);
    EXPECT_FALSE(n.at("metadata").at("annotations").has_field("nonevent.dev/prior-do-not-disrupt")) << name(n);
  }
  EXPECT_FALSE(n1.at("metadata").at("annotations").has_field("cluster-autoscaler.kubernetes.io/scale-down-disabled"));
}

// A window evacuating zone a (one node of it cordoned by a person first), the operator running
// until the zone's nodes are claimed.
void start_evacuating_a(Rig& rig) {
  ASSERT_EQ(rig.merge_patch("/api/v1/nodes/n-a-1", R"({"spec":{"unschedulable":true}})"), 200);
  rig.apply(window("use1a", "a", "2026-12-01T00:20:00Z", "2026-12-01T01:20:00Z", ", safety: {requireCapacity: false}"));
  rig.tick = 2s;
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.node("n-a-0"), {"metadata", "annotations", "nonevent.dev/claimed-by"}) != ""; }, 20min));
}

void expect_released(Rig& rig) {
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}), "") << name(n);
    EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/state"}), "") << name(n);
  }
  EXPECT_FALSE(flag(rig.node("n-a-0"), {"spec", "unschedulable"})) << "cordoned by the window: uncordoned";
  EXPECT_TRUE(flag(rig.node("n-a-1"), {"spec", "unschedulable"})) << "cordoned by a person: stays cordoned";
}

// 23.3: the window's finalizer stripped and the window deleted while the operator was down:
// the restarted operator finds the orphaned claims and releases them as a restore would.
TEST(Overlap, ClaimsOfAWindowDeletedBehindTheOperatorsBackAreReleased) {
  Rig rig(Rig::kSmallCluster, {});
  start_evacuating_a(rig);
  rig.stop_operator();
  ASSERT_EQ(rig.merge_patch("/apis/nonevent.dev/v1alpha1/maintenancewindows/use1a", R"({"metadata":{"finalizers":null}})"), 200);
  ASSERT_EQ(rig.request("DELETE", "/apis/nonevent.dev/v1alpha1/maintenancewindows/use1a"), 200);
  // Time moves on while the operator is down (an Event named for the same instant as an
  // earlier one would be taken for it: the recorder names Events by object and time).
  rig.advance(10s);
  rig.start_operator();
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.node("n-a-0"), {"metadata", "annotations", "nonevent.dev/claimed-by"}) == ""; }, 2min));
  expect_released(rig);
  EXPECT_TRUE(rig.advance_until([&] { return rig.events_text().find("OrphanedClaimReleased") != std::string::npos; }, 1min))
      << rig.events_text();
}

// 23.3: the CRD deleted mid-drain. As in kube-apiserver, the CRD goes Terminating and its
// window is deleted but waits for its finalizer: the operator restores the zone, then both go.
TEST(Overlap, DeletingTheCrdMidDrainRestoresTheZoneThroughTheFinalizer) {
  Rig rig(Rig::kSmallCluster, {});
  start_evacuating_a(rig);
  const std::string crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/maintenancewindows.nonevent.dev";
  ASSERT_EQ(rig.request("DELETE", crd), 200);
  EXPECT_TRUE(rig.advance_until([&] { return rig.request("GET", crd) == 404; }, 2min)) << "the CRD never went";
  expect_released(rig);
  EXPECT_EQ(rig.request("GET", "/apis/nonevent.dev/v1alpha1/maintenancewindows"), 404);
}

// 23.3, the worst case: the CRD deleted while the operator is down and the finalizer stripped
// (the window is gone at once). The restarted operator's window cache lists empty (the type is
// not served) and the sweep releases the zone.
TEST(Overlap, ClaimsOutliveTheirCrdOnlyUntilTheOperatorStarts) {
  Rig rig(Rig::kSmallCluster, {});
  start_evacuating_a(rig);
  rig.stop_operator();
  ASSERT_EQ(rig.merge_patch("/apis/nonevent.dev/v1alpha1/maintenancewindows/use1a", R"({"metadata":{"finalizers":null}})"), 200);
  const std::string crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/maintenancewindows.nonevent.dev";
  ASSERT_EQ(rig.request("DELETE", crd), 200);
  ASSERT_EQ(rig.request("GET", crd), 404) << "no finalizer left to wait for";
  rig.start_operator();
  ASSERT_TRUE(rig.manager->leading()) << "the operator must start without the CRD";
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.node("n-a-0"), {"metadata", "annotations", "nonevent.dev/claimed-by"}) == ""; }, 2min));
  expect_released(rig);
}

// 23.6: a window deleted mid-drain: restored with the right reason, no annotation left behind
// (a node blocked by a bare pod had nonevent.dev/blocked-since), displaced replicas moved back
// before the window goes.
TEST(Overlap, AWindowDeletedMidDrainRestoresRebalancesAndLeavesNothing) {
  Rig rig;
  rig.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: shop}\n"
            "spec: {nodeName: n-a-0, containers: [{name: c, image: registry.example.com/x:1}]}\n");
  rig.apply(window("use1a", "a", "2026-12-01T00:20:00Z", "2026-12-01T01:20:00Z", ", safety: {requireCapacity: false}"));
  rig.tick = 2s;
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] {
    return str(rig.node("n-a-0"), {"metadata", "annotations", "nonevent.dev/blocked-since"}) != "" && rig.pods_in_zone("a") <= 1;
  }, 30min)) << rig.nodes_text();
  ASSERT_EQ(rig.request("DELETE", "/apis/nonevent.dev/v1alpha1/maintenancewindows/use1a"), 200);
  EXPECT_TRUE(rig.advance_until([&] { return rig.request("GET", "/apis/nonevent.dev/v1alpha1/maintenancewindows/use1a") == 404; }, 40min))
      << rig.window("use1a").serialize();
  for (auto& n : rig.zone_nodes("a")) {
    EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
    for (const char* k : {"nonevent.dev/claimed-by", "nonevent.dev/state", "nonevent.dev/blocked-since", "nonevent.dev/was-unschedulable"})
      EXPECT_EQ(str(n, {"metadata", "annotations", k}), "") << name(n) << " keeps " << k;
  }
  const auto events = rig.events_text();
  EXPECT_NE(events.find("MaintenanceWindow/use1a was deleted"), std::string::npos) << events;
  EXPECT_EQ(events.find("MaintenanceWindow/use1a is over"), std::string::npos) << events;
  EXPECT_GT(rig.pods_in_zone("a"), 1) << "displaced replicas moved back before the window went";
}

}  // namespace
}  // namespace nonevent
