// Server-side apply and managedFields in the embedded cluster (sim/server_side_apply.h), and
// strategic merge patch following the OpenAPI's merge keys (sim/builtin_schemas.h).
#include <gtest/gtest.h>

#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using web::json::value;

ApiResponse send(Cluster& k, const std::string& method, const std::string& path, const std::string& body, const std::string& ct,
                 std::map<std::string, std::string> query = {}) {
  ApiRequest r{.method = method, .path = path, .query = std::move(query), .body = body};
  r.headers["content-type"] = ct;
  return k.api->handle(r);
}
ApiResponse apply(Cluster& k, const std::string& path, const std::string& yaml, const std::string& manager, bool force = false) {
  std::map<std::string, std::string> q{{"fieldManager", manager}};
  if (force) q["force"] = "true";
  return send(k, "PATCH", path, yaml, "application/apply-patch+yaml", q);
}
// The named manager's entry, as "<operation> <fieldsV1>".
std::string managed(const value& obj, const std::string& manager) {
  std::string out;
  if (const value* mf = json::at(obj, {"metadata", "managedFields"}); mf && mf->is_array())
    for (const auto& m : mf->as_array())
      if (json::str(m, {"manager"}) == manager) out += json::str(m, {"operation"}) + " " + m.at("fieldsV1").serialize();
  return out;
}

constexpr const char* kDeployPath = "/apis/apps/v1/namespaces/shop/deployments/api";
std::string deployment(const std::string& containers, const std::string& extra = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n" + extra +
         "  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n" + containers;
}

TEST(ServerSideApply, CreatesAndRecordsWhatTheApplierSet) {
  Cluster k;
  k.apply(web_yaml(1));
  auto r = apply(k, kDeployPath, deployment("      - {name: app, image: 'api:1'}\n", "  replicas: 2\n"), "ci");
  ASSERT_EQ(r.status, 201) << r.body;
  const value d = k.get("apps/deployments", "shop", "api");
  EXPECT_EQ(json::num(d, {"spec", "replicas"}), 2);
  // The selector is an atomic map in the 1.32 schema; containers a map on name; apiVersion,
  // kind, name and namespace are nobody's.
  EXPECT_EQ(managed(d, "ci"),
            R"(Apply {"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},)"
            R"("f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}})");
  // Applying the same again changes nothing (no new resourceVersion).
  const auto rv = json::str(d, {"metadata", "resourceVersion"});
  ASSERT_EQ(apply(k, kDeployPath, deployment("      - {name: app, image: 'api:1'}\n", "  replicas: 2\n"), "ci").status, 200);
  EXPECT_EQ(json::str(k.get("apps/deployments", "shop", "api"), {"metadata", "resourceVersion"}), rv);
}

TEST(ServerSideApply, TwoAppliersShareAListByKeyAndEachRemovesOnlyItsOwn) {
  Cluster k;
  k.apply(web_yaml(1));
  ASSERT_LT(apply(k, kDeployPath, deployment("      - {name: app, image: 'api:1'}\n"), "team").status, 300);
  // A second manager adds a sidecar (and co-owns app's identical fields it also states).
  ASSERT_LT(apply(k, kDeployPath, deployment("      - {name: proxy, image: 'envoy:1'}\n"), "mesh").status, 300);
  auto names = [&] {
    std::string out;
    const value d = k.get("apps/deployments", "shop", "api");
    for (const auto& c : d.at("spec").at("template").at("spec").at("containers").as_array()) out += json::str(c, {"name"}) + " ";
    return out;
  };
  EXPECT_EQ(names(), "app proxy ");
  // The mesh stops sending its sidecar: gone. The team's container stays.
  ASSERT_LT(apply(k, kDeployPath, deployment("      - {name: app, image: 'api:1'}\n"), "mesh").status, 300);
  EXPECT_EQ(names(), "app ");
  // The team drops `app` from its config, but mesh still applies it: kept.
  ASSERT_LT(apply(k, kDeployPath, deployment("      - {name: extra, image: 'x:1'}\n"), "team").status, 300);
  EXPECT_EQ(names(), "app extra ");
}

TEST(ServerSideApply, ConflictsNameFieldAndManagerAndForceTakesOwnership) {
  Cluster k;
  k.apply(web_yaml(1));
  ASSERT_LT(apply(k, kDeployPath, deployment("      - {name: app, image: 'api:1'}\n", "  replicas: 2\n"), "ci").status, 300);
  // Someone scales it by hand (an Update, kubectl's field manager named).
  ASSERT_LT(send(k, "PATCH", kDeployPath, R"({"spec":{"replicas":5}})", "application/merge-patch+json", {{"fieldManager", "kubectl-scale"}}).status, 300);
  const value d = k.get("apps/deployments", "shop", "api");
  EXPECT_EQ(managed(d, "kubectl-scale"), R"(Update {"f:spec":{"f:replicas":{}}})");
  EXPECT_EQ(managed(d, "ci").find("f:replicas"), std::string::npos) << "the update took replicas from ci";
  // ci applies its 2 again: a conflict naming the field and the manager.
  auto c = apply(k, kDeployPath, deployment("      - {name: app, image: 'api:1'}\n", "  replicas: 2\n"), "ci");
  ASSERT_EQ(c.status, 409) << c.body;
  const value st = value::parse(c.body);
  EXPECT_EQ(json::str(st, {"message"}), R"(Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas)");
  EXPECT_EQ(json::str(st.at("details").at("causes").at(0), {"field"}), ".spec.replicas");
  EXPECT_EQ(json::num(k.get("apps/deployments", "shop", "api"), {"spec", "replicas"}), 5) << "a refused apply changed nothing";
  // Without the replicas field there is nothing to conflict on.
  EXPECT_LT(apply(k, kDeployPath, deployment("      - {name: app, image: 'api:2'}\n"), "ci").status, 300);
  // Forced, the field is ci's and the scaler's entry is gone.
  auto f = apply(k, kDeployPath, deployment("      - {name: app, image: 'api:2'}\n", "  replicas: 2\n"), "ci", true);
  ASSERT_LT(f.status, 300) << f.body;
  const value after = k.get("apps/deployments", "shop", "api");
  EXPECT_EQ(json::num(after, {"spec", "replicas"}), 2);
  EXPECT_EQ(managed(after, "kubectl-scale"), "");
  EXPECT_NE(managed(after, "ci").find("f:replicas"), std::string::npos);
}

TEST(ServerSideApply, RefusesWhatKubeApiserverRefuses) {
  Cluster k;
  k.apply(web_yaml(1));
  auto no_manager = send(k, "PATCH", kDeployPath, deployment("      - {name: app, image: 'a'}\n"), "application/apply-patch+yaml");
  EXPECT_EQ(no_manager.status, 422);
  EXPECT_NE(no_manager.body.find("fieldManager: Required value"), std::string::npos) << no_manager.body;
  auto wrong_name = apply(k, "/apis/apps/v1/namespaces/shop/deployments/other", deployment("      - {name: app, image: 'a'}\n"), "ci");
  EXPECT_EQ(wrong_name.status, 400) << wrong_name.body;
  auto wrong_kind = apply(k, kDeployPath, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api}\n", "ci");
  EXPECT_EQ(wrong_kind.status, 400) << wrong_kind.body;
}

// The strategic merge patch takes its merge keys from the schema: a Service's ports merge on
// port and a container's on containerPort (the same field name, two keys), tolerations (no
// key) are replaced whole.
TEST(StrategicMergePatch, FollowsTheOpenApiMergeKeys) {
  Cluster k;
  k.apply(web_yaml(1));
  ASSERT_EQ(send(k, "POST", "/api/v1/namespaces/shop/services",
                 R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"a","port":80},{"name":"b","port":81}]}})",
                 "application/json")
                .status,
            201);
  auto p = send(k, "PATCH", "/api/v1/namespaces/shop/services/s", R"({"spec":{"ports":[{"port":81,"targetPort":9091}]}})",
                "application/strategic-merge-patch+json");
  ASSERT_EQ(p.status, 200) << p.body;
  const value s = k.get("/services", "shop", "s");
  ASSERT_EQ(s.at("spec").at("ports").size(), 2u);
  EXPECT_EQ(json::num(s.at("spec").at("ports").at(1), {"targetPort"}), 9091);
  EXPECT_EQ(json::str(s.at("spec").at("ports").at(1), {"name"}), "b");

  ASSERT_LT(apply(k, kDeployPath, deployment("      - {name: app, image: 'a', ports: [{containerPort: 80}]}\n",
                                             "  replicas: 1\n"),
                  "ci")
                .status,
            300);
  auto q = send(k, "PATCH", kDeployPath,
                R"({"spec":{"template":{"spec":{"containers":[{"name":"app","ports":[{"containerPort":8080}]}],)"
                R"("tolerations":[{"key":"x","operator":"Exists"}]}}}})",
                "application/strategic-merge-patch+json");
  ASSERT_EQ(q.status, 200) << q.body;
  auto q2 = send(k, "PATCH", kDeployPath, R"({"spec":{"template":{"spec":{"tolerations":[{"key":"y","operator":"Exists"}]}}}})",
                 "application/strategic-merge-patch+json");
  ASSERT_EQ(q2.status, 200) << q2.body;
  const value d = k.get("apps/deployments", "shop", "api");
  const value& pod = d.at("spec").at("template").at("spec");
  EXPECT_EQ(pod.at("containers").at(0).at("ports").size(), 2u) << "container ports merge on containerPort";
  EXPECT_EQ(pod.at("tolerations").serialize(), R"([{"key":"y","operator":"Exists"}])") << "tolerations have no merge key: replaced";
}

}  // namespace
}  // namespace nonevent::sim
