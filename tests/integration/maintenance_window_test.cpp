// The MaintenanceWindow controller (real manager, informers, queue) against the embedded
// cluster over HTTP, on virtual time: a zone is emptied ahead of its window without any PDB
// going below budget, held, and restored; a person's cordon survives; bad input touches
// nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "controllers/manager.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/http_server.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"

namespace nonevent {
namespace {

using web::json::value;
using namespace std::chrono_literals;
using namespace sim::json;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Rig {
  std::shared_ptr<kube::VirtualClock> clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  std::shared_ptr<sim::ObjectStore> store = std::make_shared<sim::ObjectStore>();
  std::shared_ptr<sim::ApiServer> api = std::make_shared<sim::ApiServer>(store, clock);
  std::unique_ptr<sim::Simulation> simulation;
  std::unique_ptr<sim::HttpServer> http;
  std::unique_ptr<controllers::Manager> manager;
  std::thread manager_thread;

  Rig() {
    auto spec = sim::parse_cluster_spec("zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: 2, cpu: '8', memory: 32Gi}]\n"
                                        "timings: {podStartSeconds: 2, podReadySeconds: 3, terminationSeconds: 5}\n", "test");
    for (const auto& n : sim::make_nodes(spec, clock->now())) api->create_object(n);
    simulation = std::make_unique<sim::Simulation>(api, clock, spec);
    for (const char* crd : {"/crds/maintenancewindows.nonevent.dev.yaml"})
      for (const auto& d : sim::parse_yaml_documents(read(std::string(NONEVENT_SOURCE_DIR) + crd))) EXPECT_LT(api->create_object(d).status, 300);
    apply(read(std::string(NONEVENT_SOURCE_DIR) + "/examples/workloads/shop.yaml"));
    simulation->run_until(clock->now() + 60s, *clock);
    http = std::make_unique<sim::HttpServer>(api, sim::HttpServerOptions{});
  }
  ~Rig() {
    if (manager) manager->stop();
    if (manager_thread.joinable()) manager_thread.join();
    http->stop();
  }
  void start_operator() {
    kube::RestConfig cfg;
    cfg.server = http->url();
    cfg.qps = 0;
    manager = std::make_unique<controllers::Manager>(kube::make_rest_client(cfg, clock), clock, controllers::ManagerOptions{});
    manager_thread = std::thread([this] { manager->run(); });
    for (int i = 0; i < 500 && !manager->leading(); ++i) std::this_thread::sleep_for(10ms);
  }
  void apply(const std::string& yaml) {
    for (const auto& d : sim::parse_yaml_documents(yaml)) {
      auto r = api->create_object(d);
      ASSERT_LT(r.status, 300) << r.body;
    }
  }
  // Advances virtual time in small steps, giving the operator's threads real time to react,
  // and checks the invariant at every step.
  void advance(std::chrono::seconds total, const std::function<void()>& invariant = {}) {
    for (auto t = 0s; t < total; t += 1s) {
      simulation->run_until(clock->now() + 1s, *clock);
      std::this_thread::sleep_for(3ms);
      if (invariant) invariant();
    }
  }
  // Advances (as above) until `done` holds or `budget` of virtual time is spent; the operator
  // runs on real threads, so a loaded machine needs more steps, never a different outcome.
  bool advance_until(const std::function<bool()>& done, std::chrono::seconds budget,
                     const std::function<void()>& invariant = {}) {
    for (auto t = 0s; t < budget; t += 1s) {
      if (done()) return true;
      advance(1s, invariant);
    }
    return done();
  }
  std::vector<value> list(const std::string& resource, const std::string& ns = "") {
    std::vector<value> out;
    auto r = store->list({.resource = resource, .ns = ns}, 0, "");
    std::error_code ec;
    for (const auto& o : r.value().items) out.push_back(value::parse(o->json, ec));
    return out;
  }
  value window(const std::string& name) {
    auto o = store->get("nonevent.dev/maintenancewindows", "", name);
    std::error_code ec;
    return o ? value::parse(o->json, ec) : value::null();
  }
  std::vector<value> zone_nodes(const std::string& zone) {
    std::vector<value> out;
    for (auto& n : list("/nodes"))
      if (str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}) == zone) out.push_back(n);
    return out;
  }
  int pods_in_zone(const std::string& zone) {
    int n = 0;
    std::set<std::string> names;
    for (auto& node : zone_nodes(zone)) names.insert(name(node));
    for (auto& p : list("/pods", "shop"))
      if (names.count(str(p, {"spec", "nodeName"})) && !terminating(p)) ++n;
    return n;
  }
  // No PDB below its budget: for each, ready selected pods >= desiredHealthy.
  void check_pdbs() {
    for (auto& pdb : list("policy/poddisruptionbudgets", "shop")) {
      auto sel = selector_of(pdb.at("spec").at("selector"));
      int ready = 0;
      for (auto& p : list("/pods", "shop"))
        if (sel.matches(labels(p)) && pod_ready(p) && !terminating(p)) ++ready;
      const auto desired = num(pdb, {"status", "desiredHealthy"});
      if (ready < desired) ++pdb_violations;
    }
  }
  int pdb_violations = 0;
};

std::string window_yaml(const std::string& name, const std::string& zone, const std::string& start, const std::string& end) {
  return "apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: " + name + "}\nspec:\n  zones: [" + zone +
         "]\n  start: \"" + start + "\"\n  end: \"" + end + "\"\n  evacuateBefore: 30m\n";
}

TEST(MaintenanceWindow, EmptiesTheZoneAheadHoldsItAndRestores) {
  Rig rig;
  // A person had cordoned one node of the zone before: it must stay cordoned afterwards.

  sim::ApiRequest cordon{.method = "PATCH", .path = "/api/v1/nodes/n-a-1"};
  cordon.headers["content-type"] = "application/merge-patch+json";
  cordon.body = R"({"spec":{"unschedulable":true}})";
  ASSERT_EQ(rig.api->handle(cordon).status, 200);
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

TEST(MaintenanceWindow, BadInputGetsAConditionAndTouchesNothing) {
  Rig rig;
  rig.apply(window_yaml("nozone", "nowhere", "2026-12-01T00:10:00Z", "2026-12-01T02:00:00Z"));
  rig.apply("apiVersion: nonevent.dev/v1alpha1\nkind: MaintenanceWindow\nmetadata: {name: cron}\n"
            "spec: {zones: [a], schedule: '0 2 * * SUN', duration: 4h}\n");
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
  for (auto& n : rig.list("/nodes")) EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
  // Events are sent by the recorder's own thread: give it (bounded) time to arrive.
  auto warned = [&] {
    for (auto& e : rig.list("/events"))
      if (str(e, {"reason"}) == "UnknownZone") return true;
    return false;
  };
  EXPECT_TRUE(rig.advance_until(warned, 60s)) << "an Event says why";
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
  ASSERT_EQ(rig.api->handle(del).status, 200);
  rig.advance_until([&] { return rig.window("gone").is_null(); }, 600s);
  EXPECT_TRUE(rig.window("gone").is_null()) << "the finalizer was removed after restoring: " << rig.window("gone").serialize();
  for (auto& n : rig.zone_nodes("b")) {
    EXPECT_FALSE(flag(n, {"spec", "unschedulable"})) << name(n);
    EXPECT_FALSE(at(n, {"metadata", "annotations", "nonevent.dev/claimed-by"})) << name(n);
  }
}

}  // namespace
}  // namespace nonevent
