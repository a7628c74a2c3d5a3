#pragma once
// A simulated cluster on virtual time for the sim's unit tests: made from a cluster file,
// written to through the API server as clients do, read back from the store.
#include <gtest/gtest.h>

#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/api_server.h"
#include "sim/cluster_spec.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"

namespace nonevent::sim {

using namespace std::chrono_literals;

struct Cluster {
  using value = web::json::value;
  std::shared_ptr<kube::VirtualClock> clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  std::shared_ptr<ObjectStore> store = std::make_shared<ObjectStore>();
  std::shared_ptr<ApiServer> api = std::make_shared<ApiServer>(store, clock);
  std::unique_ptr<Simulation> sim;

  explicit Cluster(const std::string& cluster_yaml =
                       "zones: [a, b, c]\nnodePools: [{name: n, nodesPerZone: 2, cpu: '4', memory: 16Gi}]\n"
                       "timings: {podStartSeconds: 2, podReadySeconds: 3, terminationSeconds: 5, nodeProvisionSeconds: 60}\n") {
    auto spec = parse_cluster_spec(cluster_yaml, "test");
    for (const auto& n : make_nodes(spec, clock->now())) EXPECT_LT(api->create_object(n).status, 300);
    sim = std::make_unique<Simulation>(api, clock, spec);
  }
  void apply(const std::string& yaml) {
    for (const auto& d : parse_yaml_documents(yaml)) {
      auto r = api->create_object(d);
      ASSERT_LT(r.status, 300) << r.body;
    }
  }
  void run(std::chrono::seconds d) { sim->run_until(clock->now() + d, *clock); }
  std::vector<value> list(const std::string& resource, const std::string& ns = "") { return json::list_objects(*store, resource, ns); }
  value get(const std::string& resource, const std::string& ns, const std::string& name) {
    return json::get_object(*store, resource, ns, name);
  }
  std::map<std::string, int> ready_pods_per_zone(const std::string& app) {
    std::map<std::string, int> out;
    for (const auto& p : list("/pods")) {
      if (json::str(p, {"metadata", "labels", "app"}) != app || !json::pod_ready(p) || json::terminating(p)) continue;
      auto node = get("/nodes", "", json::str(p, {"spec", "nodeName"}));
      ++out[json::str(node, {"metadata", "labels", "topology.kubernetes.io/zone"})];
    }
    return out;
  }
  ApiResponse evict(const std::string& ns, const std::string& name) {
    ApiRequest r;
    r.method = "POST";
    r.path = "/api/v1/namespaces/" + ns + "/pods/" + name + "/eviction";
    r.body = R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":")" + name + R"("}})";
    return api->handle(r);
  }
  void patch(const std::string& path, const std::string& body) {
    ApiRequest r;
    r.method = "PATCH";
    r.path = path;
    r.body = body;
    r.headers["content-type"] = "application/merge-patch+json";
    auto resp = api->handle(r);
    ASSERT_LT(resp.status, 300) << resp.body;
  }
};

inline std::string web_yaml(int replicas, const std::string& taints_policy = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
         "      containers: [{name: web, image: nginx, resources: {requests: {cpu: 500m, memory: 256Mi}}}]\n"
         "      topologySpreadConstraints:\n      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, " +
         (taints_policy.empty() ? "" : "nodeTaintsPolicy: " + taints_policy + ", ") +
         "labelSelector: {matchLabels: {app: web}}}\n"
         "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\n"
         "spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}\n";
}

}  // namespace nonevent::sim
