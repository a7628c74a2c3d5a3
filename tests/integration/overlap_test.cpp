// Two of our CRs on the same cluster at once (issue 23): a window and a campaign, windows that
// overlap, and CRs that vanish mid-work. The single-CR paths are in maintenance_window_test
// and patch_campaign_test; these are the combinations.
#include "integration/rig.h"

namespace nonevent {
namespace {

using namespace testing;

const char* kJobTemplate = R"(
  inPlace:
    jobTemplate:
      metadata: {annotations: {sim.nonevent.dev/run-seconds: "20"}}
      spec:
        containers: [{name: patch, image: registry.example.com/node-patcher:1, args: [--reboot]}]
)";

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
  rig.advance_until([&] { return rig.clock->now() >= *kube::parse_rfc3339("2026-12-01T01:40:00Z"); }, 2h, untouched);
  EXPECT_EQ(touched, "") << "the window claimed a node although its preflight failed";
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
  const bool done = rig.advance_until([&] { return str(rig.campaign("wide"), {"status", "phase"}) == "Completed"; }, 4h, [&] {
    const int z = schedulable_zones(rig);
    if (z < fewest) {
      fewest = z;
      when = kube::format_rfc3339(rig.clock->now()) + "\n" + rig.nodes_text();
    }
  });
  EXPECT_TRUE(done) << rig.campaign("wide").serialize();
  EXPECT_GE(fewest, 2) << "schedulable zones fell to " << fewest << " at " << when;
}

}  // namespace
}  // namespace nonevent
