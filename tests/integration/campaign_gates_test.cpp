// What holds a PatchCampaign back besides budgets (issue 26), real manager against the
// embedded cluster on virtual time: a blackout it was created in, allowed slots that spread a
// fleet over days (a batch running at a slot's end finishes, none starts after it, the ETA
// counts open time only), and nodes whose drain never finishes: quarantined, the rest of the
// fleet patched, the counts adding up, and a pause once maxQuarantinedNodes is reached; a
// quarantined node through a window on its zone and its campaign's deletion; the operator
// killed at random instants through a blackout and a quarantine.
#include <random>

#include "integration/campaign_checks.h"

namespace nonevent {
namespace {

using namespace std::chrono_literals;
using namespace testing;

std::string campaign(const std::string& name, const std::string& extra) {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: " + name +
         "}\nspec:\n  target: {version: v2}\n  deadline: 72h\n" + std::string(kJobTemplate) + extra;
}

// The claimed-at times of every node claim seen (a claim is a batch start or a top-up).
struct ClaimLog {
  Rig& rig;
  std::map<std::string, std::set<std::string>> claims;  // node → claimed-at values
  void operator()() {
    for (auto& n : rig.list("/nodes"))
      if (const auto* at_ = at(n, {"metadata", "annotations", "nonevent.dev/claimed-at"}); at_ && at_->is_string())
        claims[name(n)].insert(at_->as_string());
  }
  size_t count() const {
    size_t k = 0;
    for (const auto& [n, times] : claims) k += times.size();
    return k;
  }
};

TEST(ScheduledCampaign, CreatedInsideABlackoutClaimsNothingUntilItEnds) {
  Rig rig;  // virtual time starts 2026-12-01T00:00:00Z
  Invariants inv{rig};
  ClaimLog claims{rig};
  rig.apply(campaign("frozen", "  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 1, soak: 2m}}\n"
                               "  schedule:\n    blackouts:\n"
                               "    - {start: '2026-11-30T00:00:00Z', end: '2026-12-01T02:00:00Z', reason: Black Friday}\n"));
  rig.start_operator();
  rig.advance(110min, [&] { inv(); claims(); });
  auto c = rig.campaign("frozen");
  EXPECT_EQ(claims.count(), 0u) << "a node was claimed inside the blackout\n" << rig.nodes_text();
  EXPECT_EQ(str(c, {"status", "phase"}), "Progressing") << c.serialize();
  EXPECT_TRUE(has_condition(c, "Progressing", "False", "Blackout")) << c.serialize();
  EXPECT_NE(c.serialize().find("blackout \\\"Black Friday\\\" from 2026-11-30T00:00:00Z to 2026-12-01T02:00:00Z"), std::string::npos)
      << c.serialize();
  EXPECT_EQ(str(c, {"status", "schedule", "state"}), "Blackout");
  EXPECT_EQ(str(c, {"status", "schedule", "opensAt"}), "2026-12-01T02:00:00Z");
  EXPECT_EQ(str(c.at("status").at("zones").at(0), {"state"}), "Blackout");
  EXPECT_NE(rig.events_text().find("Blackout"), std::string::npos) << rig.events_text();
  // It ends: the campaign rolls, every claim after the blackout.
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("frozen"), {"status", "phase"}) == "Completed"; }, 4h,
                                [&] { inv(); claims(); }))
      << rig.campaign("frozen").serialize() << rig.nodes_text();
  EXPECT_EQ(patched_ready(rig), 6);
  for (const auto& [node, times] : claims.claims)
    for (const auto& t : times) EXPECT_GE(t, "2026-12-01T02:00:00Z") << node << " claimed at " << t;
  EXPECT_NE(rig.events_text().find("ScheduleOpen"), std::string::npos) << rig.events_text();
  EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
  EXPECT_EQ(rig.pdb_violations, 0);
}

TEST(ScheduledCampaign, OneHourADaySpreadsTheFleetOverDaysAndEveryClaimIsInsideASlot) {
  Rig rig;
  // Four nodes of zones a and b, one at a time, 20 minutes of reboot each: three fit in the
  // 02:00-03:00 slot (the third runs past its end and finishes), the fourth waits a day.
  for (const char* n : {"n-a-0", "n-a-1", "n-b-0", "n-b-1"})
    ASSERT_EQ(rig.merge_patch(std::string("/api/v1/nodes/") + n, R"({"metadata":{"annotations":{"sim.nonevent.dev/reboot-seconds":"1200"}}})"),
              200);
  Invariants inv{rig};
  ClaimLog claims{rig};
  rig.apply(campaign("nightly", "  zones: [a, b]\n  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}\n"
                                "  schedule:\n    timeZone: UTC\n    allowed: [{cron: '0 2 * * *', duration: 1h}]\n"));
  rig.start_operator();
  rig.tick = 20s;
  rig.advance(100min, [&] { inv(); claims(); });
  auto waiting = rig.campaign("nightly");
  EXPECT_EQ(claims.count(), 0u);
  EXPECT_TRUE(has_condition(waiting, "Progressing", "False", "OutsideSchedule")) << waiting.serialize();
  EXPECT_EQ(str(waiting, {"status", "schedule", "opensAt"}), "2026-12-01T02:00:00Z");
  // Past the first slot's end with work left: the ETA lies in a later slot (open time only).
  ASSERT_TRUE(rig.advance_until([&] { return rig.clock->now() >= *kube::parse_rfc3339("2026-12-01T03:30:00Z"); }, 3h,
                                [&] { inv(); claims(); }));
  auto after_slot = rig.campaign("nightly");
  EXPECT_GE(num(after_slot, {"status", "nodes", "updated"}), 2) << after_slot.serialize();
  EXPECT_LT(num(after_slot, {"status", "nodes", "updated"}), 4) << after_slot.serialize();
  EXPECT_EQ(num(after_slot, {"status", "nodes", "inProgress"}), 0) << "the batch running at 03:00 finished\n" << after_slot.serialize();
  EXPECT_GE(str(after_slot, {"status", "estimatedCompletion"}), "2026-12-02T02:00:00Z") << after_slot.serialize();
  EXPECT_TRUE(has_condition(after_slot, "Progressing", "False", "OutsideSchedule")) << after_slot.serialize();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("nightly"), {"status", "phase"}) == "Completed"; }, 48h,
                                [&] { inv(); claims(); }))
      << rig.campaign("nightly").serialize();
  const auto done = rig.campaign("nightly");
  EXPECT_EQ(num(done, {"status", "nodes", "updated"}), 4);
  EXPECT_GE(str(done, {"status", "completedAt"}), "2026-12-02T02:00:00Z") << "the fleet took two nights";
  // Every claim inside a slot (02:00 <= time of day < 03:00), and one ran past a slot's end.
  bool finished_after_slot_end = false;
  for (const auto& [node, times] : claims.claims)
    for (const auto& t : times) EXPECT_TRUE(t.substr(11, 2) == "02") << node << " claimed at " << t << ", outside 02:00-03:00";
  for (const auto& e : rig.list("/events"))
    if (str(e, {"reason"}) == "NodePatched" && str(e, {"lastTimestamp"}).substr(11, 2) == "03") finished_after_slot_end = true;
  EXPECT_TRUE(finished_after_slot_end) << "a node claimed before 03:00 was patched after it\n" << rig.events_text();
  EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
  EXPECT_EQ(rig.pdb_violations, 0);
}

// A pod nothing may evict (bare, annotated do-not-evict) pinned to `node`.
std::string pinned_pod(const std::string& pod, const std::string& node) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + pod + ", namespace: shop, annotations: {nonevent.dev/do-not-evict: 'true'}}\n"
         "spec: {nodeName: " + node + ", containers: [{name: c, image: registry.example.com/pinned:1}]}\n";
}

TEST(CampaignQuarantine, AnUndrainableNodeIsQuarantinedAndTheRestOfTheFleetIsPatched) {
  Rig rig;
  rig.apply(pinned_pod("pinned", "n-a-1"));
  Invariants inv{rig};
  rig.apply(campaign("q", "  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 1, soak: 2m}}\n"
                          "  failurePolicy: {undrainable: Quarantine, drainTimeout: 10m, maxQuarantinedNodes: 1}\n"));
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("q"), {"status", "phase"}) == "Completed"; }, 4h, inv))
      << rig.campaign("q").serialize() << rig.nodes_text() << rig.events_text();
  const auto c = rig.campaign("q");
  EXPECT_EQ(num(c, {"status", "nodes", "updated"}), 5);
  EXPECT_EQ(num(c, {"status", "nodes", "quarantined"}), 1);
  EXPECT_EQ(num(c, {"status", "nodes", "updated"}) + num(c, {"status", "nodes", "quarantined"}), num(c, {"status", "nodes", "total"}))
      << "the counts add up";
  ASSERT_TRUE(at(c, {"status", "quarantinedNodes"})) << c.serialize();
  const auto& q = c.at("status").at("quarantinedNodes").at(0);
  EXPECT_EQ(str(q, {"name"}), "n-a-1");
  EXPECT_NE(str(q, {"reason"}).find("drainTimeout"), std::string::npos) << q.serialize();
  EXPECT_NE(str(q, {"reason"}).find("shop/pinned"), std::string::npos) << "names the pod that held it\n" << q.serialize();
  EXPECT_TRUE(has_condition(c, "Degraded", "True", "NodesQuarantined")) << c.serialize();
  EXPECT_TRUE(has_condition(c, "Complete", "True")) << c.serialize();
  const auto n = rig.node("n-a-1");
  EXPECT_TRUE(flag(n, {"spec", "unschedulable"})) << "left cordoned";
  EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/quarantined-by"}), "PatchCampaign/q");
  EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << "no longer claimed: nothing drains it";
  EXPECT_NE(str(n, {"metadata", "labels", "nonevent.dev/image-version"}), "v2") << "never patched";
  EXPECT_EQ(str(rig.get("/pods", "shop", "pinned"), {"spec", "nodeName"}), "n-a-1") << "its pod still runs there";
  EXPECT_NE(rig.events_text().find("NodeQuarantined"), std::string::npos) << rig.events_text();
  EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
  EXPECT_EQ(rig.pdb_violations, 0);
}

TEST(CampaignQuarantine, PastMaxQuarantinedNodesTheCampaignPausesAndARaisedBudgetLetsItFinish) {
  Rig rig;
  rig.apply(pinned_pod("pinned-a", "n-a-1"));
  rig.apply(pinned_pod("pinned-b", "n-b-1"));
  Invariants inv{rig};
  rig.apply(campaign("q2", "  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}\n"
                           "  failurePolicy: {undrainable: Quarantine, drainTimeout: 10m, maxQuarantinedNodes: 1}\n"));
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("q2"), {"status", "phase"}) == "Paused"; }, 4h, inv))
      << rig.campaign("q2").serialize() << rig.nodes_text();
  auto c = rig.campaign("q2");
  EXPECT_TRUE(flag(c, {"spec", "paused"})) << "paused through spec.paused";
  EXPECT_TRUE(has_condition(c, "Paused", "True", "QuarantineBudgetExceeded")) << c.serialize();
  EXPECT_EQ(num(c, {"status", "nodes", "quarantined"}), 1);
  // The second undrainable node is still the campaign's, cordoned, waiting for a person.
  EXPECT_EQ(str(rig.node("n-b-1"), {"metadata", "annotations", "nonevent.dev/claimed-by"}), "PatchCampaign/q2") << rig.nodes_text();
  EXPECT_TRUE(at(c, {"status", "quarantinePause"})) << c.serialize();
  // A resume without more budget pauses again; with maxQuarantinedNodes 2 it finishes.
  ASSERT_EQ(rig.merge_patch("/apis/nonevent.dev/v1alpha1/patchcampaigns/q2",
                            R"({"spec":{"paused":false,"failurePolicy":{"maxQuarantinedNodes":2}}})"),
            200);
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("q2"), {"status", "phase"}) == "Completed"; }, 4h, inv))
      << rig.campaign("q2").serialize() << rig.nodes_text() << rig.events_text();
  c = rig.campaign("q2");
  EXPECT_EQ(num(c, {"status", "nodes", "updated"}), 4);
  EXPECT_EQ(num(c, {"status", "nodes", "quarantined"}), 2);
  EXPECT_FALSE(at(c, {"status", "quarantinePause"})) << c.serialize();
  EXPECT_TRUE(flag(rig.node("n-b-1"), {"spec", "unschedulable"}));
  EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
  EXPECT_EQ(rig.pdb_violations, 0);
}


TEST(CampaignQuarantine, AQuarantinedNodeStaysCordonedThroughAWindowOnItsZoneAndTheCampaignsDeletion) {
  Rig rig;
  rig.apply(pinned_pod("pinned", "n-a-1"));
  Invariants inv{rig};
  rig.apply(campaign("q", "  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}\n"
                          "  failurePolicy: {undrainable: Quarantine, drainTimeout: 10m, maxQuarantinedNodes: 1}\n"));
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.campaign("q"), {"status", "phase"}) == "Completed"; }, 4h, inv))
      << rig.campaign("q").serialize() << rig.nodes_text();
  // A window on zone a: the quarantined node is someone else's to the window (the campaign's
  // mark), so it is neither claimed nor restored, and its pod is not touched.
  const auto t = rig.clock->now();
  rig.apply("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: zone-a}\nspec:\n  zones: [a]\n"
            "  start: \"" + kube::format_rfc3339(t + 40min) + "\"\n  end: \"" + kube::format_rfc3339(t + 70min) +
            "\"\n  evacuateBefore: 30m\n  safety: {requireCapacity: false}\n");
  bool listed_as_held = false, claimed_by_window = false;
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("zone-a"), {"status", "phase"}) == "Completed"; }, 3h, [&] {
    rig.check_pdbs();
    const auto w = rig.window("zone-a");
    if (const auto* held = at(w, {"status", "heldByOthers"}); held && held->is_array())
      for (const auto& h : held->as_array())
        listed_as_held = listed_as_held || (str(h, {"node"}) == "n-a-1" && str(h, {"holder"}) == "PatchCampaign/q");
    claimed_by_window = claimed_by_window ||
                        str(rig.node("n-a-1"), {"metadata", "annotations", "nonevent.dev/claimed-by"}) == "MaintenanceWindow/zone-a";
  })) << rig.window("zone-a").serialize() << rig.nodes_text();
  EXPECT_TRUE(listed_as_held) << "the window named the quarantined node as held by the campaign\n" << rig.window("zone-a").serialize();
  EXPECT_FALSE(claimed_by_window);
  auto n = rig.node("n-a-1");
  EXPECT_TRUE(flag(n, {"spec", "unschedulable"})) << "the window's restore left it cordoned";
  EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/quarantined-by"}), "PatchCampaign/q");
  EXPECT_EQ(str(rig.get("/pods", "shop", "pinned"), {"spec", "nodeName"}), "n-a-1");
  // The campaign deleted: its finalizer gives back what it claims; the quarantine is a mark for
  // a person, and stays.
  ASSERT_EQ(rig.request("DELETE", "/apis/nonevent.dev/v1alpha1/patchcampaigns/q"), 200);
  ASSERT_TRUE(rig.advance_until([&] { return !at(rig.campaign("q"), {"metadata", "name"}); }, 5min)) << rig.campaign("q").serialize();
  n = rig.node("n-a-1");
  EXPECT_TRUE(flag(n, {"spec", "unschedulable"}));
  EXPECT_EQ(str(n, {"metadata", "annotations", "nonevent.dev/quarantined-by"}), "PatchCampaign/q");
  EXPECT_EQ(rig.pdb_violations, 0);
}


TEST(CampaignQuarantine, BlackoutAndQuarantineHoldWhileTheOperatorIsKilledAtRandomInstants) {
  for (int seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rig rig;
    rig.apply(pinned_pod("pinned", "n-a-1"));
    Invariants inv{rig};
    ClaimLog claims{rig};
    std::mt19937 rng(seed);
    // The blackout begins while n-a-1's drain waits out its timeout (it is quarantined inside it)
    // and holds the rest of the fleet for half an hour.
    rig.apply(campaign("k", "  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 0}}\n"
                            "  failurePolicy: {undrainable: Quarantine, drainTimeout: 10m, maxQuarantinedNodes: 1}\n"
                            "  schedule: {blackouts: [{start: '2026-12-01T00:08:00Z', end: '2026-12-01T00:40:00Z'}]}\n"));
    rig.start_operator();
    int kills = 0;
    auto next_kill = std::chrono::seconds(std::uniform_int_distribution<int>(30, 600)(rng));
    std::chrono::seconds t{0};
    const bool done = rig.advance_until([&] { return str(rig.campaign("k"), {"status", "phase"}) == "Completed"; }, 4h, [&] {
      inv();
      claims();
      if (++t >= next_kill && kills < 6) {
        rig.stop_operator();
        ++kills;
        rig.advance(std::chrono::seconds(std::uniform_int_distribution<int>(1, 30)(rng)), [&] { inv(); claims(); });
        rig.start_operator();
        next_kill = t + std::chrono::seconds(std::uniform_int_distribution<int>(30, 600)(rng));
      }
    });
    const auto c = rig.campaign("k");
    ASSERT_TRUE(done) << c.serialize() << rig.nodes_text();
    EXPECT_GE(kills, 3);
    EXPECT_EQ(num(c, {"status", "nodes", "updated"}), 5) << c.serialize();
    EXPECT_EQ(num(c, {"status", "nodes", "quarantined"}), 1) << c.serialize();
    EXPECT_EQ(str(rig.node("n-a-1"), {"metadata", "annotations", "nonevent.dev/quarantined-by"}), "PatchCampaign/k");
    bool held_back = false;  // the blackout mattered: work was left for after it
    for (const auto& [node, times] : claims.claims)
      for (const auto& when : times) {
        EXPECT_TRUE(when < "2026-12-01T00:08:00Z" || when >= "2026-12-01T00:40:00Z") << node << " claimed in the blackout at " << when;
        held_back = held_back || when >= "2026-12-01T00:40:00Z";
      }
    EXPECT_TRUE(held_back) << "no node was left for after the blackout\n" << c.serialize() << rig.nodes_text();
    // No disruption repeated: one patch Job per patched node.
    std::map<std::string, int> jobs_per_node;
    for (auto& j : rig.list("batch/jobs")) ++jobs_per_node[str(j, {"metadata", "annotations", "nonevent.dev/node"})];
    for (const auto& [node, k] : jobs_per_node) EXPECT_EQ(k, 1) << node;
    EXPECT_EQ(jobs_per_node.size(), 5u);
    EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
    EXPECT_EQ(rig.pdb_violations, 0);
  }
}

}  // namespace
}  // namespace nonevent
