// nonevent beside the cluster's other disruptors (issue 24): cluster-autoscaler, Karpenter,
// kured and node-maintenance-operator, each simulated by the embedded cluster after the real
// component's rules (sim/disruptors.h). Invariants are checked at every step.
// rig.h first: it includes gtest before cpprest, whose macros break gtest's headers.
#include "integration/rig.h"

#include <random>

#include "controllers/drain.h"

namespace nonevent {
namespace {

using namespace testing;

std::string cluster_with(const std::string& disruptors) {
  return std::string(Rig::kSmallCluster) + "disruptors:\n" + disruptors;
}
// A two-hour window on zone a, evacuated from 00:20.
constexpr const char* kWindow =
    "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: az-a}\n"
    "spec: {zones: [a], start: '2026-12-01T00:40:00Z', end: '2026-12-01T02:40:00Z', evacuateBefore: 20m,\n"
    "       safety: {requireCapacity: false}}\n";
std::string campaign(const std::string& strategy = "maxUnavailable: 1") {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: fleet}\nspec:\n  target: {version: v2}\n"
         "  deadline: 12h\n  strategy: {type: InPlace, " + strategy + "}\n" + kJobTemplate;
}
bool window_done(Rig& rig) { return str(rig.window("az-a"), {"status", "phase"}) == "Completed"; }
std::set<std::string> node_names(Rig& rig) {
  std::set<std::string> out;
  for (auto& n : rig.list("/nodes")) out.insert(name(n));
  return out;
}
// Annotations nonevent writes, on any node.
std::string leftovers(Rig& rig) {
  std::string out;
  for (auto& n : rig.list("/nodes")) {
    const value* ann = at(n, {"metadata", "annotations"});
    if (!ann || !ann->is_object()) continue;
    for (const auto& [k, v] : ann->as_object())
      if (k.rfind("nonevent.dev/", 0) == 0 || k == "cluster-autoscaler.kubernetes.io/scale-down-disabled" || k == "karpenter.sh/do-not-disrupt")
        out += name(n) + " " + k + "=" + v.serialize() + "\n";
  }
  return out;
}
// What is left once the operator has had its passes: the CR's phase turns Completed in one
// pass and the protections are handed back in a later one, so "nothing left" is checked after
// giving the operator some virtual minutes, never at the instant the phase changed.
std::string leftovers_after_settling(Rig& rig) {
  rig.advance_until([&] { return leftovers(rig).empty(); }, 10min);
  return leftovers(rig);
}

// The autoscaler deletes empty nodes whatever their cordon (10 minutes unneeded): an evacuated
// zone is exactly that. With the protection the zone's nodes outlive the window and are
// restored; with it switched off (a test-only switch) they are gone, which shows the test bites.
struct Lost {
  int with = -1, without = -1;
};
Lost lost;

int run_window_beside_autoscaler(bool protect) {
  controllers::set_protections_enabled_for_tests(protect);
  // Utilisation threshold 0: only empty nodes are unneeded (the shop's lightly used nodes would
  // otherwise be scaled down before the window for reasons of their own).
  Rig rig(cluster_with("  clusterAutoscaler: {scaleDownUnneededSeconds: 600, scaleDownUtilizationThreshold: 0, minNodesPerGroup: 0}\n"));
  rig.apply(kWindow);
  rig.tick = 5s;
  rig.start_operator();
  const auto before = rig.zone_nodes("a");
  EXPECT_TRUE(rig.advance_until([&] { return window_done(rig); }, 4h, [&] { rig.check_pdbs(); })) << rig.window("az-a").serialize();
  controllers::set_protections_enabled_for_tests(true);
  int gone = 0;
  for (auto& n : before) {
    const value now = rig.node(name(n));
    if (now.is_null()) {
      ++gone;
      continue;
    }
    if (protect) {
      EXPECT_FALSE(flag(now, {"spec", "unschedulable"})) << name(n) << " not restored";
    }
  }
  if (protect) {
    EXPECT_EQ(leftovers_after_settling(rig), "");
    EXPECT_EQ(rig.pdb_violations, 0);
  }
  return gone;
}

TEST(Coexistence, TheAutoscalerKeepsEveryNodeOfAnEvacuatedZoneOnlyBecauseOfTheAnnotations) {
  lost.with = run_window_beside_autoscaler(true);
  lost.without = run_window_beside_autoscaler(false);
  EXPECT_EQ(lost.with, 0) << "nodes of the evacuated zone lost with the protection";
  EXPECT_EQ(lost.without, 2) << "without the protection the autoscaler must take the empty zone: the test would not bite";
  RecordProperty("nodes_lost_with_protection", lost.with);
  RecordProperty("nodes_lost_without_protection", lost.without);
  std::printf("nodes of the evacuated zone lost: %d with the protection, %d without\n", lost.with, lost.without);
}

// A campaign while the autoscaler runs: a user's scale-up mid-batch leaves pods Pending, the
// autoscaler adds nodes from the group's template (the old image), and empties nodes the
// campaign has patched. Every node there at the end reports the target; no patched node was
// deleted while the campaign ran.
TEST(Coexistence, ACampaignBesideTheAutoscalerPatchesNodesThatJoinAndKeepsThePatchedOnes) {
  // Groups keep their two nodes (with one a zone, shop's checkout spread would block every
  // drain); the nodes the autoscaler adds make groups it may shrink again.
  Rig rig(cluster_with("  clusterAutoscaler: {scaleDownUnneededSeconds: 300, scaleDownUtilizationThreshold: 0.5, "
                       "minNodesPerGroup: 2, scaleUpDelaySeconds: 10}\n"));
  rig.apply(campaign());
  rig.tick = 5s;
  rig.start_operator();
  std::set<std::string> patched, deleted_patched, joined_ever;
  bool scaled = false, scaled_back = false;
  kube::TimePoint scaled_at;
  auto watch = [&] {
    const auto names = node_names(rig);
    for (const auto& p : patched)
      if (!names.count(p)) deleted_patched.insert(p);
    for (auto& n : rig.list("/nodes")) {
      if (str(n, {"metadata", "labels", "nonevent.dev/image-version"}) == "v2") patched.insert(name(n));
      if (name(n).find("-ca-") != std::string::npos) joined_ever.insert(name(n));
    }
    // Mid-campaign, a team scales up: more than the cluster has room for.
    if (!scaled && patched.size() >= 2) {
      scaled = true;
      scaled_at = rig.clock->now();
      ASSERT_LT(rig.merge_patch("/apis/apps/v1/namespaces/shop/deployments/api", R"({"spec":{"replicas":90}})"), 300);
    }
    // The burst ends once the autoscaler has added nodes: the room is back, and the nodes it
    // added (and those the campaign emptied) are unneeded again.
    if (scaled && !scaled_back && rig.clock->now() - scaled_at > 20min) {
      scaled_back = true;
      ASSERT_LT(rig.merge_patch("/apis/apps/v1/namespaces/shop/deployments/api", R"({"spec":{"replicas":4}})"), 300);
    }
    rig.check_pdbs();
  };
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("fleet"), {"status", "phase"}) == "Completed"; }, 10h, watch))
      << rig.campaign("fleet").serialize() << "\n" << rig.nodes_text();
  EXPECT_TRUE(scaled);
  // A node that joined was either patched, or removed by the autoscaler while still unpatched
  // and unneeded (both are right; a patched one must never be removed mid-campaign).
  std::string joined, unpatched;
  for (const auto& j : joined_ever) joined += j + (patched.count(j) ? " (patched) " : " (removed unpatched) ");
  for (auto& n : rig.list("/nodes"))
    if (str(n, {"metadata", "labels", "nonevent.dev/image-version"}) != "v2") unpatched += name(n) + " ";
  EXPECT_NE(joined, "") << "the autoscaler never added a node: the scenario did not happen";
  EXPECT_EQ(unpatched, "") << "nodes at the end without the target version";
  std::string deleted;
  for (const auto& d : deleted_patched) deleted += d + " ";
  EXPECT_EQ(deleted, "") << "patched nodes the autoscaler removed mid-campaign";
  EXPECT_EQ(rig.pdb_violations, 0);
  // Over: the protections are handed back.
  EXPECT_EQ(leftovers_after_settling(rig), "");
  std::printf("campaign beside the autoscaler: %zu nodes patched, joined mid-campaign: %s\n", patched.size(), joined.c_str());
}

// kured reboots nodes of the zone a campaign rolls. With --coordinate-kured they take turns
// through kured's lock: never more than maxUnavailable nodes out in a zone counting kured's,
// and never two disruptors on one node.
TEST(Coexistence, KuredAndACampaignTakeTurnsThroughTheLock) {
  Rig rig(cluster_with("  kured: {periodSeconds: 60}\n"));
  // kured is rebooting n-a-1 (a slow one) when the campaign starts; n-b-0 wants a reboot too.
  ASSERT_LT(rig.merge_patch("/api/v1/nodes/n-a-1", R"({"metadata":{"annotations":{"sim.nonevent.dev/reboot-required":"true","sim.nonevent.dev/reboot-seconds":"600"}}})"), 300);
  rig.tick = 3s;
  rig.advance(90s);
  ASSERT_NE(str(rig.get("apps/daemonsets", "kube-system", "kured"), {"metadata", "annotations", "weave.works/kured-node-lock"}), "");
  ASSERT_LT(rig.merge_patch("/api/v1/nodes/n-b-0", R"({"metadata":{"annotations":{"sim.nonevent.dev/reboot-required":"true"}}})"), 300);
  rig.apply(campaign());
  rig.manager_options.coordinate_kured = true;
  rig.start_operator();
  int max_out = 0;
  std::string both, held_seen;
  auto invariant = [&] {
    std::map<std::string, int> out;
    const auto ds = rig.get("apps/daemonsets", "kube-system", "kured");
    const auto lock = str(ds, {"metadata", "annotations", "weave.works/kured-node-lock"});
    for (auto& n : rig.list("/nodes")) {
      if (flag(n, {"spec", "unschedulable"}) || !condition_true(n, "Ready"))
        max_out = std::max(max_out, ++out[str(n, {"metadata", "labels", "topology.kubernetes.io/zone"})]);
      const auto claim = str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"});
      if (!claim.empty() && lock.find("\"" + name(n) + "\"") != std::string::npos && both.empty())
        both = name(n) + " claimed by " + claim + " while kured's lock names it: " + lock;
    }
    const auto c = rig.campaign("fleet");
    if (const value* bs = at(c, {"status", "blockers"}); bs && bs->is_array())
      for (const auto& b : bs->as_array())
        // Waiting for kured shows as either: its lock held (a zone with room), or its node
        // filling the zone's budget (which of the two a pass meets first depends on timing).
        if (str(b, {"reason"}) == "KuredLockHeld" ||
            (str(b, {"reason"}) == "HeldByOtherDisruptors" && str(b, {"message"}).find("held by kured") != std::string::npos))
          held_seen = str(b, {"message"});
    rig.check_pdbs();
  };
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("fleet"), {"status", "phase"}) == "Completed"; }, 6h, invariant))
      << rig.campaign("fleet").serialize() << "\n" << rig.nodes_text();
  // kured's reboots also finish: both sentinels cleared.
  EXPECT_TRUE(rig.advance_until([&] {
    for (auto& n : rig.list("/nodes"))
      if (!str(n, {"metadata", "annotations", "sim.nonevent.dev/reboot-required"}).empty()) return false;
    return true;
  }, 1h, invariant)) << rig.nodes_text();
  EXPECT_EQ(max_out, 1) << "nodes out in one zone at once, counting kured's (maxUnavailable 1)";
  EXPECT_EQ(both, "");
  EXPECT_NE(held_seen, "") << "the campaign never had to wait for kured: the scenario did not happen";
  EXPECT_EQ(str(rig.get("apps/daemonsets", "kube-system", "kured"), {"metadata", "annotations", "weave.works/kured-node-lock"}), "");
  EXPECT_EQ(rig.pdb_violations, 0);
  EXPECT_EQ(leftovers_after_settling(rig), "");
}

// Without --coordinate-kured the campaign cannot keep kured off, but it counts kured's node
// against its budget and never claims it, and says who holds it.
TEST(Coexistence, WithoutCoordinationACampaignCountsKuredsNodeAndNeverClaimsIt) {
  Rig rig(cluster_with("  kured: {periodSeconds: 60}\n"));
  ASSERT_LT(rig.merge_patch("/api/v1/nodes/n-a-0", R"({"metadata":{"annotations":{"sim.nonevent.dev/reboot-required":"true","sim.nonevent.dev/reboot-seconds":"600"}}})"), 300);
  rig.tick = 2s;
  rig.advance(90s);  // kured takes n-a-0 first (a slow reboot: ten minutes)
  ASSERT_NE(str(rig.get("apps/daemonsets", "kube-system", "kured"), {"metadata", "annotations", "weave.works/kured-node-lock"}), "");
  rig.apply(campaign());
  rig.start_operator();
  std::string claimed_kureds;
  bool held_by_kured = false;
  auto invariant = [&] {
    const auto lock = str(rig.get("apps/daemonsets", "kube-system", "kured"), {"metadata", "annotations", "weave.works/kured-node-lock"});
    for (auto& n : rig.zone_nodes("a"))
      if (!str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}).empty() && lock.find("\"" + name(n) + "\"") != std::string::npos)
        claimed_kureds = name(n);
    const auto c = rig.campaign("fleet");
    held_by_kured = held_by_kured || has_condition(c, "HeldByOthers", "True", "OtherDisruptors");
  };
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("fleet"), {"status", "phase"}) == "Completed"; }, 6h, invariant))
      << rig.campaign("fleet").serialize() << "\n" << rig.nodes_text();
  EXPECT_EQ(claimed_kureds, "") << "claimed the node kured was rebooting";
  EXPECT_TRUE(held_by_kured) << "the HeldByOthers condition never named kured's node";
}

// NMO holds a node of the window's zone before evacuation, and takes the other one while the
// window holds it: the window claims neither NMO node, names them, and at restore does not
// uncordon the node NMO took; NMO's own end uncordons it.
TEST(Coexistence, AWindowLeavesNodeMaintenanceNodesToNmoAndReportsThem) {
  Rig rig(cluster_with("  nodeMaintenance: {}\n"));
  rig.apply("apiVersion: nodemaintenance.medik8s.io/v1beta1\nkind: NodeMaintenance\nmetadata: {name: disk-a0}\n"
            "spec: {nodeName: n-a-0, reason: disk replacement}\n");
  rig.apply(kWindow);
  rig.tick = 5s;
  rig.start_operator();
  std::string claimed_nmo;
  auto invariant = [&] {
    if (!str(rig.node("n-a-0"), {"metadata", "annotations", "nonevent.dev/claimed-by"}).empty()) claimed_nmo = "n-a-0";
    rig.check_pdbs();
  };
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("az-a"), {"status", "phase"}) == "InProgress"; }, 2h, invariant))
      << rig.window("az-a").serialize();
  const auto w = rig.window("az-a");
  EXPECT_NE(w.at("status").serialize().find("\"node\":\"n-a-0\""), std::string::npos) << w.serialize();
  EXPECT_NE(w.at("status").serialize().find("node-maintenance-operator"), std::string::npos) << w.serialize();
  EXPECT_EQ(str(rig.node("n-a-1"), {"metadata", "annotations", "nonevent.dev/claimed-by"}), "MaintenanceWindow/az-a");
  // NMO takes the window's other node mid-window.
  rig.apply("apiVersion: nodemaintenance.medik8s.io/v1beta1\nkind: NodeMaintenance\nmetadata: {name: nic-a1}\n"
            "spec: {nodeName: n-a-1, reason: nic firmware}\n");
  ASSERT_TRUE(rig.advance_until([&] { return window_done(rig); }, 3h, invariant)) << rig.window("az-a").serialize();
  EXPECT_EQ(claimed_nmo, "");
  for (const char* n : {"n-a-0", "n-a-1"}) {
    EXPECT_TRUE(flag(rig.node(n), {"spec", "unschedulable"})) << n << ": uncordoned under NMO";
    EXPECT_EQ(str(rig.node(n), {"metadata", "annotations", "nonevent.dev/claimed-by"}), "") << n;
  }
  EXPECT_NE(rig.events_text().find("LeftToOtherDisruptor"), std::string::npos) << rig.events_text();
  // NMO's maintenance ends: NMO uncordons both.
  for (const char* nm : {"disk-a0", "nic-a1"}) {
    sim::ApiRequest del{.method = "DELETE", .path = std::string("/apis/nodemaintenance.medik8s.io/v1beta1/nodemaintenances/") + nm};
    ASSERT_LT(rig.handle(del).status, 300);
  }
  rig.advance(1min);
  for (const char* n : {"n-a-0", "n-a-1"}) EXPECT_FALSE(flag(rig.node(n), {"spec", "unschedulable"})) << n;
  EXPECT_EQ(leftovers_after_settling(rig), "");
}

// Karpenter consolidates empty nodes: the evacuated zone's nodes are held, so never.
TEST(Coexistence, KarpenterNeverConsolidatesAHeldNode) {
  Rig rig(cluster_with("  karpenter: {consolidateAfterSeconds: 30}\n"));
  rig.apply(kWindow);
  rig.tick = 5s;
  rig.start_operator();
  std::string disrupted_held;
  auto invariant = [&] {
    for (auto& n : rig.list("/nodes")) {
      const bool held = !str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}).empty();
      if (held && n.at("spec").has_field("taints") && n.at("spec").at("taints").serialize().find("karpenter.sh/disrupted") != std::string::npos)
        disrupted_held = name(n);
    }
  };
  const auto before = rig.zone_nodes("a");
  ASSERT_EQ(before.size(), 2u);
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("az-a"), {"status", "phase"}) == "Restoring" || window_done(rig); }, 4h,
                                invariant))
      << rig.window("az-a").serialize();
  EXPECT_EQ(disrupted_held, "");
  for (auto& n : before) EXPECT_FALSE(rig.node(name(n)).is_null()) << name(n) << " consolidated while held";
}

}  // namespace
}  // namespace nonevent

namespace {
using namespace std::chrono_literals;
using nonevent::cluster_with;
using nonevent::kWindow;
using nonevent::node_names;
using nonevent::window_done;
using nonevent::leftovers_after_settling;

// The operator killed at random instants while the autoscaler runs beside a window: no node
// lost, and once the runs end nothing of ours is left on any node.
class CoexistenceKills : public ::testing::TestWithParam<int> {};  // (outside namespace nonevent: its `testing` would shadow gtest's in the macros)
TEST_P(CoexistenceKills, NoNodeLostAndNoAnnotationLeftBehind) {
  std::mt19937 rng(static_cast<unsigned>(GetParam()));
  nonevent::testing::Rig rig(
      cluster_with("  clusterAutoscaler: {scaleDownUnneededSeconds: 600, scaleDownUtilizationThreshold: 0, minNodesPerGroup: 0}\n"));
  rig.apply(kWindow);
  rig.tick = 10s;
  rig.start_operator();
  const auto before = node_names(rig);
  std::uniform_int_distribution<int> next_kill(60, 900);  // virtual seconds
  auto kill_at = rig.clock->now() + std::chrono::seconds(next_kill(rng));
  int kills = 0;
  auto killer = [&] {
    if (rig.clock->now() < kill_at) return;
    rig.stop_operator();
    ++kills;
    rig.simulation->run_until(rig.clock->now() + std::chrono::seconds(next_kill(rng) / 10), *rig.clock);  // down a while
    rig.start_operator();
    kill_at = rig.clock->now() + std::chrono::seconds(next_kill(rng));
  };
  ASSERT_TRUE(rig.advance_until([&] { return window_done(rig); }, 5h, killer)) << rig.window("az-a").serialize();
  EXPECT_GT(kills, 3);
  std::printf("seed %d: %d operator kills, %zu nodes before, none lost\n", GetParam(), kills, before.size());
  for (const auto& n : before) EXPECT_FALSE(rig.node(n).is_null()) << n << " lost";
  EXPECT_EQ(leftovers_after_settling(rig), "");
}
INSTANTIATE_TEST_SUITE_P(Seeds, CoexistenceKills, ::testing::Range(1, 9));


}  // namespace

namespace nonevent {
namespace {
using namespace testing;

// NMO takes a node the campaign is working on, and the campaign is then deleted: the node is
// released but stays cordoned for NMO (whose own end uncordons it).
TEST(Coexistence, ADeletedCampaignLeavesANodeNmoTookCordoned) {
  Rig rig(cluster_with("  nodeMaintenance: {}\n"));
  rig.apply(campaign("maxUnavailable: 1"));
  rig.tick = 2s;
  rig.start_operator();
  std::string held;
  ASSERT_TRUE(rig.advance_until([&] {
    for (auto& n : rig.list("/nodes"))
      if (str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}) == "PatchCampaign/fleet") held = name(n);
    return !held.empty();
  }, 30min)) << rig.nodes_text();
  rig.apply("apiVersion: nodemaintenance.medik8s.io/v1beta1\nkind: NodeMaintenance\nmetadata: {name: take}\nspec: {nodeName: " + held + "}\n");
  rig.advance(20s);
  sim::ApiRequest del{.method = "DELETE", .path = "/apis/nonevent.dev/v1alpha1/patchcampaigns/fleet"};
  ASSERT_LT(rig.handle(del).status, 300);
  ASSERT_TRUE(rig.advance_until([&] { return rig.campaign("fleet").is_null(); }, 10min));
  EXPECT_EQ(str(rig.node(held), {"metadata", "annotations", "nonevent.dev/claimed-by"}), "");
  EXPECT_TRUE(flag(rig.node(held), {"spec", "unschedulable"})) << held << " uncordoned under NMO";
  EXPECT_NE(rig.events_text().find("left cordoned: node-maintenance-operator holds it"), std::string::npos) << rig.events_text();
}

}  // namespace
}  // namespace nonevent
