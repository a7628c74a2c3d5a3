// The campaign projection: the numbers of its header's worked example, lanes, the running
// batch and the canary soak.
#include "planner/campaign_projection.h"

#include <gtest/gtest.h>

namespace nonevent::planner {
namespace {

TEST(CampaignProjection, BatchesWithSoakAndRollingAsTheHeaderWorksThemOut) {
  const std::vector<ZoneWork> zone{{.nodes = 10, .budget = 3}};
  EXPECT_DOUBLE_EQ(campaign_seconds_left(zone, {.batch_s = 60, .node_s = 60, .batch_soak_s = 30}), 330);
  EXPECT_DOUBLE_EQ(campaign_seconds_left(zone, {.batch_s = 60, .node_s = 60, .batch_soak_s = 0}), 200);
}

TEST(CampaignProjection, TheRunningBatchAndNodesInFlightCountWhatTheyHaveRun) {
  // Soaking: 2 batches left, the running one 45 s into its 60.
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 6, .budget = 3, .running_s = 45}}, {.batch_s = 60, .node_s = 60, .batch_soak_s = 30}),
                   2 * 60 + 30 - 45);
  // A running batch longer than a batch takes counts as one about to end, never negative.
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 3, .budget = 3, .running_s = 500}}, {.batch_s = 60, .node_s = 60, .batch_soak_s = 30}), 0);
  // Rolling: 4 nodes, 2 at once, 50 node-seconds already run.
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 4, .budget = 2, .in_flight_s = 50}}, {.batch_s = 60, .node_s = 60}), (240 - 50) / 2.0);
  // Fewer nodes than slots: they run at once.
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 2, .budget = 5}}, {.batch_s = 60, .node_s = 60}), 60);
}

TEST(CampaignProjection, ZonesFillTheLanesInOrder) {
  const std::vector<ZoneWork> zones{{.nodes = 3, .budget = 3}, {.nodes = 6, .budget = 3}, {.nodes = 3, .budget = 3}};
  const CampaignPace one{.batch_s = 100, .node_s = 100, .batch_soak_s = 10, .zones_in_parallel = 1};
  EXPECT_DOUBLE_EQ(campaign_seconds_left(zones, one), 100 + 210 + 100);
  CampaignPace two = one;
  two.zones_in_parallel = 2;
  // Lane 1: a (100) then c (100); lane 2: b (210).
  EXPECT_DOUBLE_EQ(campaign_seconds_left(zones, two), 210);
}

TEST(CampaignProjection, CanarySoakOnTopUntilTheCanaryIsDoneAndNothingLeftIsZero) {
  CampaignPace p{.batch_s = 60, .node_s = 60, .batch_soak_s = 0, .canary_soak_s = 600, .canary_pending = true};
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 1, .budget = 1}}, p), 660);
  p.canary_pending = false;
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 1, .budget = 1}}, p), 60);
  EXPECT_DOUBLE_EQ(campaign_seconds_left({}, p), 0);
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 0, .budget = 3}}, p), 0);
}

TEST(CampaignProjection, AHeldZoneStartsWhenItsWindowLetsItGo) {
  const CampaignPace pace{.batch_s = 60, .node_s = 60, .batch_soak_s = 0, .zones_in_parallel = 1};
  // b (60 s of work) first, then a, held for another 2 hours: a starts at 7200, not at 60.
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 1, .budget = 1}, {.nodes = 1, .budget = 1, .not_before_s = 7200}}, pace), 7260);
  // A hold that ends before the lane gets there changes nothing.
  EXPECT_DOUBLE_EQ(campaign_seconds_left({{.nodes = 1, .budget = 1}, {.nodes = 1, .budget = 1, .not_before_s = 30}}, pace), 120);
}

}  // namespace
}  // namespace nonevent::planner
