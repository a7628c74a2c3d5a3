// No confused deputy (issue 28.4): a CR asks only for the powers the installation granted
// (install_limits.h). Patch Jobs run in their own namespace as a ServiceAccount without API
// rights; a jobTemplate naming another ServiceAccount, Force without forceDeletion, or
// drain.rollout without drainRollout are refused by name before anything is touched.
#include "integration/rig.h"

namespace nonevent {
namespace {

using testing::Rig;
using web::json::value;
using namespace std::chrono_literals;
using namespace sim::json;

std::string campaign(const std::string& pod_spec_extra) {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: fleet}\nspec:\n  target: {version: v2}\n"
         "  deadline: 12h\n  strategy: {type: InPlace, maxUnavailable: 1}\n  inPlace:\n    jobTemplate:\n"
         "      metadata: {annotations: {sim.nonevent.dev/run-seconds: '20'}}\n"
         "      spec: {" + pod_spec_extra + "containers: [{name: patch, image: registry.example.com/node-patcher:1}]}\n";
}

bool no_node_claimed(Rig& rig) {
  for (auto& n : rig.list("/nodes"))
    if (!str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}).empty() || n.at("spec").has_field("unschedulable")) return false;
  return true;
}

TEST(InstallLimits, PatchJobsRunInTheirNamespaceAsTheAccountWithoutRights) {
  Rig rig(Rig::kSmallCluster, {});
  rig.apply(campaign(""));
  rig.tick = 3s;
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return !rig.list("batch/jobs").empty(); }, 1h)) << rig.campaign("fleet").serialize();
  for (const auto& j : rig.list("batch/jobs")) {
    EXPECT_EQ(str(j, {"metadata", "namespace"}), "nonevent-system-patch");
    EXPECT_EQ(str(j, {"spec", "template", "spec", "serviceAccountName"}), "nonevent-patch");
    EXPECT_FALSE(j.at("spec").at("template").at("spec").at("automountServiceAccountToken").as_bool());
  }
  EXPECT_TRUE(rig.advance_until([&] { return str(rig.campaign("fleet"), {"status", "phase"}) == "Completed"; }, 8h))
      << rig.campaign("fleet").serialize();
}

TEST(InstallLimits, AJobTemplateNamingAnotherServiceAccountIsRefusedAndTouchesNothing) {
  Rig rig(Rig::kSmallCluster, {});
  rig.apply(campaign("serviceAccountName: cluster-admin-sa, "));
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return testing::has_condition(rig.campaign("fleet"), "Degraded", "True", "NotAllowed"); }, 10min))
      << rig.campaign("fleet").serialize();
  const std::string status = rig.campaign("fleet").at("status").serialize();
  EXPECT_NE(status.find("spec.inPlace.jobTemplate.spec.serviceAccountName: \\\"cluster-admin-sa\\\" is not allowed"), std::string::npos) << status;
  // The Event is sent in the background, after the status.
  EXPECT_TRUE(rig.advance_until([&] { return rig.events_text().find("NotAllowed") != std::string::npos; }, 5min)) << rig.events_text();
  rig.advance(5min);
  EXPECT_TRUE(rig.list("batch/jobs").empty());
  EXPECT_TRUE(no_node_claimed(rig));
}

TEST(InstallLimits, AnAllowlistedServiceAccountIsUsedAsNamed) {
  Rig rig(Rig::kSmallCluster, {});
  rig.manager_options.limits.allowed_patch_job_service_accounts = {"node-patcher"};
  rig.apply(campaign("serviceAccountName: node-patcher, "));
  rig.tick = 3s;
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return !rig.list("batch/jobs").empty(); }, 1h)) << rig.campaign("fleet").serialize();
  EXPECT_EQ(str(rig.list("batch/jobs")[0], {"spec", "template", "spec", "serviceAccountName"}), "node-patcher");
}

TEST(InstallLimits, ForceAndRolloutWithoutTheirGrantsAreRefusedByName) {
  Rig rig(Rig::kSmallCluster, {});
  rig.manager_options.limits.allow_force_deletion = false;
  rig.manager_options.limits.allow_drain_rollout = false;
  rig.apply("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: w}\n"
            "spec: {zones: [a], start: '2026-12-01T00:40:00Z', end: '2026-12-01T01:40:00Z', evacuateBefore: 30m,\n"
            "       drain: {onBlocked: Force, forceAfter: 5m, rollout: {when: WhenBlocked}}}\n");
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("w"), {"status", "phase"}) == "Blocked"; }, 10min)) << rig.window("w").serialize();
  const std::string status = rig.window("w").at("status").serialize();
  EXPECT_NE(status.find("NotAllowed"), std::string::npos) << status;
  EXPECT_NE(status.find("spec.drain.onBlocked: Force deletes pods"), std::string::npos) << status;
  EXPECT_NE(status.find("spec.drain.rollout.when: WhenBlocked"), std::string::npos) << status;
  rig.advance_until([&] { return rig.clock->now() >= *kube::parse_rfc3339("2026-12-01T00:30:00Z"); }, 1h);
  EXPECT_TRUE(no_node_claimed(rig)) << "a refused window touched a node";
}

}  // namespace
}  // namespace nonevent
