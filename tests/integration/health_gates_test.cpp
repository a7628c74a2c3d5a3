// Health gates (issue 26), real manager against the embedded cluster on virtual time, with
// Prometheus scripted by the test: a failing check stops new batches at once and pauses the
// campaign after failureThreshold evaluations (the check, query and observed value in its
// condition); recovery is the ordinary resume. Nothing unanswerable passes (no
// --prometheus-url, Prometheus down). onFailure Abort with a check on the cluster itself. The
// streak survives an operator restart and does not count while a blackout holds the campaign.
// A window's rebalance waits while its checks fail.
#include <mutex>

#include "controllers/health_checks.h"
#include "integration/campaign_checks.h"
#include "integration/spread_checks.h"

namespace nonevent {
namespace {

using namespace std::chrono_literals;
using namespace testing;

// Prometheus as the test scripts it: every query answers `value`, or fails while down.
class ScriptedPrometheus final : public controllers::MetricsSource {
 public:
  void set(double v) {
    std::lock_guard<std::mutex> l(mu_);
    value_ = v;
  }
  void set_down(bool down) {
    std::lock_guard<std::mutex> l(mu_);
    down_ = down;
  }
  int queries() {
    std::lock_guard<std::mutex> l(mu_);
    return queries_;
  }
  std::string describe() const override { return "Prometheus at http://prometheus.test:9090"; }
  kube::Result<std::vector<controllers::PromSample>> query(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++queries_;
    if (down_) return kube::ApiError::transport("dial tcp prometheus.test:9090: connection refused");
    return std::vector<controllers::PromSample>{{{}, value_}};
  }
  kube::Result<std::vector<controllers::PromAlert>> alerts() override { return std::vector<controllers::PromAlert>{}; }

 private:
  std::mutex mu_;
  double value_ = 0.001;
  bool down_ = false;
  int queries_ = 0;
};

constexpr const char* kErrorRateCheck =
    "  healthChecks:\n    interval: 1m\n    failureThreshold: 3\n    checks:\n"
    "    - name: error-rate\n      prometheus: {query: 'sum(rate(http_requests_total{code=~\"5..\"}[5m]))', max: 0.01}\n";

std::string campaign(const std::string& name, const std::string& extra, const std::string& health = kErrorRateCheck) {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: PatchCampaign\nmetadata: {name: " + name +
         "}\nspec:\n  target: {version: v2}\n  deadline: 72h\n" + std::string(kJobTemplate) +
         "  strategy: {type: InPlace, maxUnavailable: 1, canary: {nodes: 1, soak: 2m}}\n" + extra + health;
}

// Every node claim's time (a claim is a batch start or a top-up).
struct ClaimTimes {
  Rig& rig;
  std::set<std::pair<std::string, std::string>> seen;  // node, claimed-at
  void operator()() {
    for (auto& n : rig.list("/nodes"))
      if (const auto* t = at(n, {"metadata", "annotations", "nonevent.dev/claimed-at"}); t && t->is_string()) seen.insert({name(n), t->as_string()});
  }
  int after(kube::TimePoint t) const {
    int k = 0;
    for (const auto& [n, at_] : seen) k += kube::parse_rfc3339(at_).value_or(t) > t;
    return k;
  }
};

int claimed_nodes(Rig& rig) {
  int k = 0;
  for (auto& n : rig.list("/nodes")) k += at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}) != nullptr;
  return k;
}

std::string phase(Rig& rig, const char* name) { return str(rig.campaign(name), {"status", "phase"}); }

TEST(HealthGatedCampaign, AFailingCheckStopsNewBatchesPausesAtTheThresholdAndResumingAfterRecoveryFinishes) {
  Rig rig;
  auto prom = std::make_shared<ScriptedPrometheus>();
  rig.manager_options.prometheus = prom;
  Invariants inv{rig};
  ClaimTimes claims{rig};
  rig.apply(campaign("gated", ""));
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return num(rig.campaign("gated"), {"status", "nodes", "updated"}) >= 2; }, 2h, [&] { inv(); claims(); }))
      << rig.campaign("gated").serialize();
  EXPECT_TRUE(has_condition(rig.campaign("gated"), "HealthChecksPassing", "True", "ChecksPassing")) << rig.campaign("gated").serialize();

  // Errors climb: the next evaluation (within a minute) stops new batches, the third pauses.
  prom->set(0.5);
  const auto failed_at = rig.clock->now();
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "gated") == "Paused"; }, 30min, [&] { inv(); claims(); }))
      << rig.campaign("gated").serialize();
  EXPECT_LE(rig.clock->now() - failed_at, 3min + 10s) << "paused at the third failing evaluation, a minute apart";
  auto c = rig.campaign("gated");
  EXPECT_TRUE(flag(c, {"spec", "paused"})) << "paused through spec.paused";
  EXPECT_TRUE(has_condition(c, "Paused", "True", "HealthCheckFailed")) << c.serialize();
  EXPECT_TRUE(has_condition(c, "HealthChecksPassing", "False", "HealthCheckFailing")) << c.serialize();
  const std::string paused_msg = c.serialize();
  for (const char* want : {"health check error-rate failing", "http_requests_total", "outside max 0.01: 0.5", "failureThreshold 3"})
    EXPECT_NE(paused_msg.find(want), std::string::npos) << want << " missing from " << paused_msg;
  EXPECT_EQ(num(c, {"status", "health", "consecutiveFailures"}), 3);
  EXPECT_EQ(str(c.at("status").at("healthPause").at("check"), {"observed"}), "0.5");
  // (Events are not asserted here: the campaign's EvictionBlocked Events can spend the
  // recorder's per-object budget first, as client-go's spam filter would; the status says it.)

  // Healthy again: nothing resumes by itself (a person looks first), the running batch is done.
  prom->set(0.001);
  rig.advance(10min, [&] { inv(); claims(); });
  EXPECT_EQ(phase(rig, "gated"), "Paused");
  EXPECT_EQ(claims.after(failed_at + 61s), 0) << "a batch started after the failing evaluation\n" << rig.nodes_text();
  EXPECT_EQ(claimed_nodes(rig), 0) << "the batch in flight finished\n" << rig.nodes_text();

  // The ordinary resume: the checks run again at once and the campaign finishes.
  ASSERT_EQ(rig.merge_patch("/apis/nonevent.dev/v1alpha1/patchcampaigns/gated", R"({"spec":{"paused":false}})"), 200);
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "gated") == "Completed"; }, 4h, [&] { inv(); claims(); }))
      << rig.campaign("gated").serialize() << rig.events_text();
  c = rig.campaign("gated");
  EXPECT_EQ(patched_ready(rig), 6);
  EXPECT_FALSE(at(c, {"status", "healthPause"})) << c.serialize();
  EXPECT_EQ(num(c, {"status", "health", "consecutiveFailures"}), 0);
  EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
  EXPECT_EQ(rig.pdb_violations, 0);
}

TEST(HealthGatedCampaign, NothingUnansweredPassesNoPrometheusConfiguredOrPrometheusDown) {
  Rig rig;  // no --prometheus-url
  ClaimTimes claims{rig};
  rig.apply(campaign("blind", ""));
  rig.start_operator();
  rig.advance(90s, claims);
  auto c = rig.campaign("blind");
  EXPECT_EQ(claims.seen.size(), 0u) << "a node was claimed on an unanswered check\n" << rig.nodes_text();
  EXPECT_TRUE(has_condition(c, "Progressing", "False", "HealthCheckUnavailable")) << c.serialize();
  EXPECT_TRUE(has_condition(c, "HealthChecksPassing", "False", "HealthCheckUnavailable")) << c.serialize();
  EXPECT_NE(c.serialize().find("--prometheus-url"), std::string::npos) << c.serialize();
  EXPECT_EQ(str(c.at("status").at("zones").at(0), {"state"}), "HealthCheckUnavailable");
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "blind") == "Paused"; }, 10min, claims));

  // The operator restarted with a Prometheus that is down: still nothing passes; once it is
  // up, the resume finishes the campaign.
  rig.stop_operator();
  auto prom = std::make_shared<ScriptedPrometheus>();
  prom->set_down(true);
  rig.manager_options.prometheus = prom;
  rig.start_operator();
  ASSERT_EQ(rig.merge_patch("/apis/nonevent.dev/v1alpha1/patchcampaigns/blind", R"({"spec":{"paused":false}})"), 200);
  rig.advance(90s, claims);
  c = rig.campaign("blind");
  EXPECT_EQ(claims.seen.size(), 0u) << rig.nodes_text();
  EXPECT_GT(prom->queries(), 0);
  EXPECT_NE(c.serialize().find("did not answer the query: dial tcp prometheus.test:9090: connection refused"), std::string::npos)
      << c.serialize();
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "blind") == "Paused"; }, 10min, claims));
  prom->set_down(false);
  ASSERT_EQ(rig.merge_patch("/apis/nonevent.dev/v1alpha1/patchcampaigns/blind", R"({"spec":{"paused":false}})"), 200);
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "blind") == "Completed"; }, 4h, claims)) << rig.campaign("blind").serialize();
  EXPECT_EQ(patched_ready(rig), 6);
}

TEST(HealthGatedCampaign, OnFailureAbortOnAPodLeftPendingReleasesEveryNode) {
  Rig rig;
  Invariants inv{rig};
  rig.apply(campaign("strict", "",
                     "  healthChecks:\n    interval: 1m\n    failureThreshold: 2\n    onFailure: Abort\n    checks:\n"
                     "    - name: cluster\n      kubernetes: {nodesReady: true, pendingPodsOlderThan: 5m}\n"));
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return claimed_nodes(rig) > 0; }, 10min, inv));
  // A pod no node can take: Pending for good.
  rig.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: stuck, namespace: shop}\n"
            "spec: {nodeSelector: {disk: nvme}, containers: [{name: c, image: registry.example.com/stuck:1}]}\n");
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "strict") == "Failed"; }, 30min, inv)) << rig.campaign("strict").serialize();
  const auto c = rig.campaign("strict");
  EXPECT_TRUE(has_condition(c, "Paused", "False", "Aborted")) << c.serialize();
  EXPECT_NE(c.serialize().find("1 pod(s) Pending for longer than 300s (shop/stuck)"), std::string::npos) << c.serialize();
  EXPECT_NE(c.serialize().find("healthChecks.onFailure Abort"), std::string::npos) << c.serialize();
  EXPECT_LT(num(c, {"status", "nodes", "updated"}), 6);
  rig.advance(2min, inv);
  EXPECT_EQ(claimed_nodes(rig), 0) << rig.nodes_text();
  EXPECT_EQ(inv.zone_violations, 0) << inv.first_violation;
  EXPECT_EQ(rig.pdb_violations, 0);
}

TEST(HealthGatedCampaign, TheStreakSkipsABlackoutAndSurvivesAnOperatorRestart) {
  Rig rig;  // 2026-12-01T00:00:00Z
  auto prom = std::make_shared<ScriptedPrometheus>();
  prom->set(0.5);
  rig.manager_options.prometheus = prom;
  ClaimTimes claims{rig};
  rig.apply(campaign("night", "  schedule:\n    blackouts:\n    - {start: '2026-11-30T00:00:00Z', end: '2026-12-01T01:00:00Z', reason: freeze}\n"));
  rig.start_operator();
  rig.advance(55min, claims);
  EXPECT_EQ(prom->queries(), 0) << "health checks ran while the blackout held the campaign";
  EXPECT_TRUE(has_condition(rig.campaign("night"), "Progressing", "False", "Blackout"));
  // The blackout ends: failing evaluations, a minute apart; the operator is killed after the
  // second and the third (counted from the status, not from memory) pauses it.
  ASSERT_TRUE(rig.advance_until([&] { return num(rig.campaign("night"), {"status", "health", "consecutiveFailures"}) == 2; }, 10min, claims))
      << rig.campaign("night").serialize();
  rig.stop_operator();
  rig.advance(20s);
  rig.start_operator();
  ASSERT_TRUE(rig.advance_until([&] { return phase(rig, "night") == "Paused"; }, 5min, claims)) << rig.campaign("night").serialize();
  EXPECT_EQ(num(rig.campaign("night"), {"status", "health", "consecutiveFailures"}), 3);
  EXPECT_LE(rig.clock->now() - *kube::parse_rfc3339("2026-12-01T01:00:00Z"), 3min + 30s);
  EXPECT_EQ(claims.seen.size(), 0u) << rig.nodes_text();
}

TEST(HealthGatedRebalance, TheWindowsRebalanceWaitsWhileItsCheckFailsAndMovesOnOncePassing) {
  Rig rig;
  auto prom = std::make_shared<ScriptedPrometheus>();
  rig.manager_options.prometheus = prom;
  rig.apply("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: use1a}\nspec:\n  zones: [a]\n"
            "  start: '2026-12-01T01:00:00Z'\n  end: '2026-12-01T02:00:00Z'\n  evacuateBefore: 30m\n  safety: {requireCapacity: false}\n" +
            std::string(kErrorRateCheck));
  rig.start_operator();
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T00:29:55Z"));
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Evacuated"; }, 1740s));
  ASSERT_EQ(spread_by_app(rig)["web"]["a"], 0);
  EXPECT_EQ(prom->queries(), 0) << "the window's checks gate its rebalance only";
  // The window ends while errors are high: restored, but no pod moves back.
  prom->set(0.5);
  rig.clock->set(*kube::parse_rfc3339("2026-12-01T02:00:05Z"));
  rig.advance(10min, [&] { rig.check_pdbs(); });
  auto w = rig.window("use1a");
  EXPECT_EQ(str(w, {"status", "phase"}), "Rebalancing") << w.serialize();
  EXPECT_TRUE(has_condition(w, "Ready", "False", "HealthCheckFailing")) << w.serialize();
  EXPECT_NE(w.serialize().find("rebalancing waits: health check error-rate failing"), std::string::npos) << w.serialize();
  EXPECT_EQ(spread_by_app(rig)["web"]["a"], 0) << "a pod was moved back while the check failed";
  EXPECT_FALSE(flag(rig.zone_nodes("a").at(0), {"spec", "unschedulable"})) << "the zone is restored regardless";
  // Healthy: the displaced replicas go back and the window completes.
  prom->set(0.001);
  ASSERT_TRUE(rig.advance_until([&] { return str(rig.window("use1a"), {"status", "phase"}) == "Completed"; }, 20min, [&] { rig.check_pdbs(); }))
      << rig.window("use1a").serialize();
  EXPECT_TRUE(has_condition(rig.window("use1a"), "Ready", "True", "Completed")) << rig.window("use1a").serialize();
  EXPECT_GT(spread_by_app(rig)["web"]["a"], 0);
  EXPECT_TRUE(rig.advance_until([&] { return rig.events_text().find("HealthChecksPassing") != std::string::npos; }, 60s)) << rig.events_text();
  EXPECT_EQ(rig.pdb_violations, 0);
}

}  // namespace
}  // namespace nonevent
