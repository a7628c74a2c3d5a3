#pragma once
// The integration rig: the embedded cluster (API server over HTTP, simulated controllers) on
// a virtual clock, the real operator manager talking to it over HTTP, and the invariant
// checks the tests hold the operator to at every step.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "controllers/manager.h"
#include "kube/log.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/http_server.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"

namespace nonevent::testing {

using web::json::value;
using namespace std::chrono_literals;
using namespace sim::json;

inline std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An InPlace campaign's jobTemplate whose patch runs 20 s (the sim's node agent reads the
// annotation) and reboots the node.
inline constexpr const char* kJobTemplate = R"(
  inPlace:
    jobTemplate:
      metadata: {annotations: {sim.nonevent.dev/run-seconds: "20"}}
      spec:
        containers: [{name: patch, image: registry.example.com/node-patcher:1, args: [--reboot]}]
)";

// Whether `obj` has condition `type` with `status` (and `reason`, when given).
inline bool has_condition(const value& obj, const std::string& type, const std::string& status, const std::string& reason = "") {
  const value* cs = at(obj, {"status", "conditions"});
  if (!cs || !cs->is_array()) return false;
  for (const auto& c : cs->as_array())
    if (str(c, {"type"}) == type && str(c, {"status"}) == status && (reason.empty() || str(c, {"reason"}) == reason)) return true;
  return false;
}

struct Rig {
  std::shared_ptr<kube::VirtualClock> clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  std::shared_ptr<sim::ObjectStore> store = std::make_shared<sim::ObjectStore>();
  // RBAC on: the operator runs as the chart's ServiceAccount, bound by the chart's own roles
  // (tests/fixtures/chart-rbac.yaml), so any request the chart does not allow fails with 403
  // as on a real cluster. The rig's own requests are the admin's.
  static constexpr const char* kAdminToken = "rig-admin";
  std::shared_ptr<sim::ApiServer> api =
      std::make_shared<sim::ApiServer>(store, clock, sim::ApiServerOptions{.bearer_token = kAdminToken, .rbac = true});
  std::string operator_token;  // the chart ServiceAccount's, from a TokenRequest
  std::unique_ptr<sim::Simulation> simulation;
  std::unique_ptr<sim::HttpServer> http;
  std::unique_ptr<controllers::Manager> manager;
  controllers::ManagerOptions manager_options;  // for the next start_operator()
  std::thread manager_thread;

  static constexpr const char* kSmallCluster =
      "zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: 2, cpu: '8', memory: 32Gi, imageVersion: v1}]\n"
      "timings: {podStartSeconds: 2, podReadySeconds: 3, terminationSeconds: 5, nodeRebootSeconds: 30}\n";

  explicit Rig(const std::string& cluster_yaml = kSmallCluster,
               const std::vector<std::string>& workloads = {"/examples/workloads/shop.yaml"},
               const char* start_time = "2026-12-01T00:00:00Z") {
    // The operator's decisions at info would be most of a failing test's output; warnings
    // and errors stay (NONEVENT_TEST_LOG=debug|info shows the rest).
    logging::Level level = logging::Level::kWarn;
    if (const char* l = std::getenv("NONEVENT_TEST_LOG")) logging::parse_level(l, level);
    logging::configure(level, logging::Format::kText);
    clock->set(*kube::parse_rfc3339(start_time));
    auto spec = sim::parse_cluster_spec(cluster_yaml, "test");
    for (const auto& n : sim::make_nodes(spec, clock->now())) api->create_object(n);
    simulation = std::make_unique<sim::Simulation>(api, clock, spec);
    for (const char* crd : {"/crds/maintenancewindows.nonevent.dev.yaml", "/crds/patchcampaigns.nonevent.dev.yaml"})
      for (const auto& d : sim::parse_yaml_documents(read(std::string(NONEVENT_SOURCE_DIR) + crd))) EXPECT_LT(api->create_object(d).status, 300);
    for (const auto& w : workloads) apply(read(std::string(NONEVENT_SOURCE_DIR) + w));
    run_as_the_charts_service_account();
    simulation->run_until(clock->now() + 60s, *clock);
    http = std::make_unique<sim::HttpServer>(api, sim::HttpServerOptions{});
  }
  // The release namespace, the chart's RBAC, and a token of its ServiceAccount; the operator's
  // namespaces as the chart's Deployment gives them.
  void run_as_the_charts_service_account() {
    apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: nonevent-system}\n");
    apply(read(std::string(NONEVENT_SOURCE_DIR) + "/tests/fixtures/chart-rbac.yaml"));
    auto r = handle({.method = "POST", .path = "/api/v1/namespaces/nonevent-system/serviceaccounts/nonevent/token",
                     .body = R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})"});
    EXPECT_EQ(r.status, 201) << r.body;
    std::error_code ec;
    operator_token = str(value::parse(r.body, ec), {"status", "token"});
    manager_options.namespace_ = manager_options.lease_namespace = "nonevent-system";
    manager_options.patch_job_namespace = "nonevent-system-patch";
    manager_options.limits.patch_job_service_account = "nonevent-patch";
    manager_options.coordinate_kured = false;
  }
  // A request as the cluster admin, straight to the API server.
  sim::ApiResponse handle(sim::ApiRequest r) {
    r.headers["authorization"] = std::string("Bearer ") + kAdminToken;
    if (!r.headers.count("content-type")) r.headers["content-type"] = "application/json";
    return api->handle(r);
  }
  // Kills the operator (no clean hand-over: the next one starts from what is in the cluster).
  void stop_operator() {
    if (manager) manager->stop();
    if (manager_thread.joinable()) manager_thread.join();
    manager.reset();
  }
  ~Rig() {
    if (manager) manager->stop();
    if (manager_thread.joinable()) manager_thread.join();
    http->stop();
    // Every test is an RBAC test too: the operator was never refused by the chart's roles.
    for (const auto& r : api->requests())
      if (r.user_agent.rfind("nonevent/", 0) == 0 && (r.code == 401 || r.code == 403))
        ADD_FAILURE() << "the chart's RBAC refused the operator (" << r.code << "): " << r.verb << " " << (r.group.empty() ? "core" : r.group) << "/"
                      << r.resource << (r.subresource.empty() ? "" : "/" + r.subresource) << " in namespace '" << r.ns << "', " << r.count
                      << " time(s)";
  }
  void start_operator() {
    kube::RestConfig cfg;
    cfg.server = http->url();
    cfg.token = operator_token;
    cfg.qps = 0;
    manager = std::make_unique<controllers::Manager>(kube::make_rest_client(cfg, clock), clock, manager_options);
    manager_thread = std::thread([this] { manager->run(); });
    for (int i = 0; i < 500 && !manager->leading(); ++i) std::this_thread::sleep_for(10ms);
  }
  // Design 7's faults, for the operator once it leads (the caches' first list is spared: its
  // retries back off on virtual time): 5% of every request 503 and all of them slow, a fifth of
  // node patches 409, a fifth of evictions 500 and a tenth 429, a fifth of the controller's
  // status writes (`status_resource`, e.g. "maintenancewindows/status") 500, plus `extra`.
  void inject_operator_faults(const std::string& status_resource, std::chrono::milliseconds latency,
                              std::vector<sim::FaultRule> extra = {}) {
    std::vector<sim::FaultRule> rules{
        {.verb = "*", .resource = "*", .code = 503, .rate = 0.05, .latency = latency},
        {.verb = "patch", .resource = "nodes", .code = 409, .rate = 0.2},
        {.verb = "create", .resource = "pods/eviction", .code = 500, .rate = 0.2},
        {.verb = "create", .resource = "pods/eviction", .code = 429, .rate = 0.1},
        {.verb = "patch", .resource = status_resource, .code = 500, .rate = 0.2},
    };
    rules.insert(rules.end(), extra.begin(), extra.end());
    api->faults().set_rules(std::move(rules));
  }
  // Every Event, oldest first, one per line (for failure messages).
  std::string events_text() {
    std::string out;
    for (auto& e : list("/events"))
      out += str(e, {"lastTimestamp"}) + " " + str(e, {"involvedObject", "name"}) + " " + str(e, {"reason"}) + ": " +
             str(e, {"message"}) + "\n";
    return out;
  }
  std::string nodes_text() {
    std::string out;
    for (auto& n : list("/nodes"))
      out += name(n) + " version=" + str(n, {"metadata", "labels", "nonevent.dev/image-version"}) +
             " claim=" + str(n, {"metadata", "annotations", "nonevent.dev/claimed-by"}) +
             " state=" + str(n, {"metadata", "annotations", "nonevent.dev/state"}) +
             " ready=" + (condition_true(n, "Ready") ? "y" : "n") + " unschedulable=" + (flag(n, {"spec", "unschedulable"}) ? "y" : "n") +
             " rv=" + str(n, {"metadata", "resourceVersion"}) + "\n";
    for (auto& p : list("/pods"))
      if (str(p, {"metadata", "annotations", "nonevent.dev/target-version"}) != "")
        out += "  pod " + name(p) + " on " + str(p, {"spec", "nodeName"}) + " phase=" + str(p, {"status", "phase"}) + "\n";
    return out;
  }
  // A request straight to the API server (what a person with kubectl would do); a body is a
  // JSON merge patch for PATCH. The HTTP status.
  int request(const std::string& method, const std::string& path, const std::string& body = "") {
    sim::ApiRequest r{.method = method, .path = path};
    r.headers["content-type"] = "application/merge-patch+json";
    r.body = body;
    return handle(r).status;
  }
  int merge_patch(const std::string& path, const std::string& body) { return request("PATCH", path, body); }
  void apply(const std::string& yaml) {
    for (const auto& d : sim::parse_yaml_documents(yaml)) {
      auto r = api->create_object(d);
      ASSERT_LT(r.status, 300) << r.body;
    }
  }
  // Advances virtual time in small steps, giving the operator's threads real time to react,
  // and checks the invariant at every step.
  std::chrono::seconds tick = 1s;  // virtual time per step; longer scenarios take bigger steps
  void advance(std::chrono::seconds total, const std::function<void()>& invariant = {}) {
    for (auto t = 0s; t < total; t += tick) {
      simulation->run_until(clock->now() + tick, *clock);
      settle();
      if (invariant) invariant();
    }
  }
  // Lets the operator, on real threads, catch up with virtual time before the clock moves on
  // (as bench::settle does): the simulation steps at this instant until the store stops
  // changing, every watch has handed over its events and the manager's queues are idle. A
  // fixed real-time pause per step made outcomes depend on the machine's speed: under
  // AddressSanitizer the operator fell a step behind and windows passed phases between looks.
  // Bounded (a manager that never idles is a finding, not a hang).
  void settle() {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    // Quiet means nothing changed for a while, not for one look: an event the server has
    // sent may still be on its way into an informer (on a loaded machine, for milliseconds)
    // while every queue reads idle. A step in which nothing at all happened ends at once.
    bool active = store->resource_version() != settled_rv_;
    auto last_activity = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000 && std::chrono::steady_clock::now() < give_up; ++i) {
      while (store->undelivered_watch_events() > 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const auto rv = store->resource_version();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      simulation->step();
      const bool operator_idle = !manager || manager->idle();
      if (store->resource_version() != rv || !operator_idle || store->undelivered_watch_events() > 0) {
        active = true;
        last_activity = std::chrono::steady_clock::now();
        continue;
      }
      if (!active || std::chrono::steady_clock::now() - last_activity >= std::chrono::milliseconds(15)) break;
    }
    settled_rv_ = store->resource_version();
  }
  uint64_t settled_rv_ = 0;  // the store's version when the last settle() ended

  // Advances (as above) until `done` holds or `budget` of virtual time is spent; the operator
  // runs on real threads, so a loaded machine needs more steps, never a different outcome.
  bool advance_until(const std::function<bool()>& done, std::chrono::seconds budget,
                     const std::function<void()>& invariant = {}) {
    for (auto t = 0s; t < budget; t += tick) {
      if (done()) return true;
      advance(tick, invariant);
    }
    return done();
  }
  std::vector<value> list(const std::string& resource, const std::string& ns = "") { return list_objects(*store, resource, ns); }
  value get(const std::string& resource, const std::string& ns, const std::string& name) {
    return get_object(*store, resource, ns, name);
  }
  value window(const std::string& name) { return get("nonevent.dev/maintenancewindows", "", name); }
  value campaign(const std::string& name) { return get("nonevent.dev/patchcampaigns", "", name); }
  value node(const std::string& name) { return get("/nodes", "", name); }
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
    for (auto& pdb : list("policy/poddisruptionbudgets")) {
      auto sel = selector_of(pdb.at("spec").at("selector"));
      int ready = 0;
      for (auto& p : list("/pods", ns(pdb)))
        if (sel.matches(labels(p)) && pod_ready(p) && !terminating(p)) ++ready;
      const auto desired = num(pdb, {"status", "desiredHealthy"});
      if (ready < desired) ++pdb_violations;
    }
  }
  int pdb_violations = 0;
};

}  // namespace nonevent::testing
