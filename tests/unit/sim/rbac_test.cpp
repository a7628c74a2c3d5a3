// The embedded cluster's authentication and RBAC (sim serve --tls --rbac): who a token is,
// which rule allows what, and 403s worded as kube-apiserver words them.
#include <gtest/gtest.h>

#include "sim/api_server.h"
#include "sim/json_util.h"
#include "sim/yaml_json.h"

namespace nonevent::sim {
namespace {

using web::json::value;

struct RbacCluster {
  std::shared_ptr<kube::VirtualClock> clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  std::shared_ptr<ObjectStore> store = std::make_shared<ObjectStore>();
  std::shared_ptr<ApiServer> api = std::make_shared<ApiServer>(store, clock, ApiServerOptions{.bearer_token = "admin-token", .rbac = true});

  void apply(const std::string& yaml) {
    for (const auto& d : parse_yaml_documents(yaml)) ASSERT_LT(api->create_object(d).status, 300) << d.serialize();
  }
  ApiResponse call(const std::string& token, const std::string& method, const std::string& path, const std::string& body = "",
                   std::map<std::string, std::string> query = {}) {
    ApiRequest r{.method = method, .path = path};
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    r.headers["content-type"] = method == "PATCH" ? "application/merge-patch+json" : "application/json";
    r.body = body;
    r.query = std::move(query);
    return api->handle(r);
  }
  std::string token_for(const std::string& ns, const std::string& sa) {
    auto r = call("admin-token", "POST", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + sa + "/token",
                  R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})");
    EXPECT_EQ(r.status, 201) << r.body;
    std::error_code ec;
    return json::str(value::parse(r.body, ec), {"status", "token"});
  }
};

constexpr const char* kOperatorAccount = R"(
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: op, namespace: ops}
)";

TEST(SimRbac, ATokenIsNeededAndTheAdminMayDoAnything) {
  RbacCluster c;
  EXPECT_EQ(c.call("", "GET", "/api/v1/pods").status, 401);
  EXPECT_EQ(c.call("nonsense", "GET", "/api/v1/pods").status, 401);
  EXPECT_EQ(c.call("admin-token", "GET", "/api/v1/pods").status, 200);
  EXPECT_EQ(c.call("", "GET", "/healthz").status, 200) << "health is public";
}

TEST(SimRbac, AServiceAccountWithoutBindingsIsRefusedInKubeApiserversWords) {
  RbacCluster c;
  c.apply(kOperatorAccount);
  const std::string token = c.token_for("ops", "op");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(c.call("admin-token", "POST", "/api/v1/namespaces/ops/serviceaccounts/nobody/token", "{}").status, 404);
  auto r = c.call(token, "GET", "/api/v1/namespaces/other/pods");
  EXPECT_EQ(r.status, 403);
  std::error_code ec;
  const value body = value::parse(r.body, ec);
  EXPECT_EQ(json::str(body, {"message"}),
            "pods is forbidden: User \"system:serviceaccount:ops:op\" cannot list resource \"pods\" in API group \"\" in the namespace \"other\"");
  EXPECT_EQ(json::str(body, {"reason"}), "Forbidden");
  r = c.call(token, "DELETE", "/apis/apps/v1/namespaces/other/deployments/web");
  EXPECT_EQ(json::str(value::parse(r.body, ec), {"message"}),
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ops:op\" cannot delete resource \"deployments\" in API "
            "group \"apps\" in the namespace \"other\"");
  EXPECT_EQ(json::str(value::parse(r.body, ec), {"details", "group"}), "apps");
  r = c.call(token, "PATCH", "/api/v1/nodes/n1", "{}");
  EXPECT_EQ(json::str(value::parse(r.body, ec), {"message"}),
            "nodes \"n1\" is forbidden: User \"system:serviceaccount:ops:op\" cannot patch resource \"nodes\" in API group \"\" at the cluster scope");
  EXPECT_EQ(c.call(token, "GET", "/api").status, 200) << "discovery is every authenticated user's";
  EXPECT_EQ(c.call(token, "POST", "/sim/v1/compact").status, 403) << "the embedded cluster's knobs are the admin's";
}

TEST(SimRbac, RulesMatchVerbsGroupsSubresourcesNamesAndNamespaces) {
  RbacCluster c;
  c.apply(kOperatorAccount);
  c.apply(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list, watch]}
- {apiGroups: [""], resources: [pods/eviction], verbs: [create]}
- {apiGroups: [apps], resources: [daemonsets], resourceNames: [kured], verbs: [list, watch, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: jobs, namespace: ops}
rules: [{apiGroups: [batch], resources: [jobs], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: jobs, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: jobs}
subjects: [{kind: Group, name: "system:serviceaccounts:ops"}]
)");
  const std::string t = c.token_for("ops", "op");
  EXPECT_EQ(c.call(t, "GET", "/api/v1/pods").status, 200);
  EXPECT_EQ(c.call(t, "DELETE", "/api/v1/namespaces/other/pods/x").status, 403) << "list and watch, not delete";
  EXPECT_NE(c.call(t, "POST", "/api/v1/namespaces/other/pods/x/eviction", "{}").status, 403) << "the subresource rule";
  EXPECT_EQ(c.call(t, "PATCH", "/api/v1/namespaces/other/pods/x", "{}").status, 403) << "pods/eviction grants nothing on pods";
  EXPECT_NE(c.call(t, "PATCH", "/apis/apps/v1/namespaces/kube-system/daemonsets/kured", "{}").status, 403);
  EXPECT_EQ(c.call(t, "PATCH", "/apis/apps/v1/namespaces/kube-system/daemonsets/other", "{}").status, 403) << "resourceNames";
  EXPECT_EQ(c.call(t, "GET", "/apis/apps/v1/daemonsets", "", {{"fieldSelector", "metadata.name=kured"}}).status, 200)
      << "a list of the one named object is allowed by resourceNames";
  EXPECT_EQ(c.call(t, "GET", "/apis/apps/v1/daemonsets").status, 403);
  EXPECT_NE(c.call(t, "POST", "/apis/batch/v1/namespaces/ops/jobs", R"({"metadata":{"name":"j"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}})").status, 403)
      << "a Role bound to the ServiceAccount's group, in its namespace";
  EXPECT_EQ(c.call(t, "GET", "/apis/batch/v1/namespaces/other/jobs").status, 403) << "a RoleBinding grants in its namespace only";
  // A binding removed takes its grant with it.
  ASSERT_EQ(c.call("admin-token", "DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/op").status, 200);
  EXPECT_EQ(c.call(t, "GET", "/api/v1/pods").status, 403);
}

TEST(SimRbac, TokenReviewAndSubjectAccessReviewAnswerFromTheSameTokensAndRules) {
  RbacCluster c;
  c.apply(kOperatorAccount);
  c.apply(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader}
rules: [{nonResourceURLs: [/metrics], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
)");
  const std::string t = c.token_for("ops", "op");
  std::error_code ec;
  auto r = c.call("admin-token", "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                  R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":")" + t + "\"}}");
  ASSERT_EQ(r.status, 201) << r.body;
  value review = value::parse(r.body, ec);
  EXPECT_TRUE(review.at("status").at("authenticated").as_bool());
  EXPECT_EQ(json::str(review, {"status", "user", "username"}), "system:serviceaccount:ops:op");
  r = c.call("admin-token", "POST", "/apis/authentication.k8s.io/v1/tokenreviews", R"({"spec":{"token":"forged"}})");
  EXPECT_FALSE(value::parse(r.body, ec).at("status").at("authenticated").as_bool());
  auto sar = [&](const std::string& path) {
    auto a = c.call("admin-token", "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                    R"({"spec":{"user":"system:serviceaccount:ops:op","groups":["system:authenticated"],"nonResourceAttributes":{"path":")" + path +
                        R"(","verb":"get"}}})");
    EXPECT_EQ(a.status, 201) << a.body;
    return value::parse(a.body, ec).at("status").at("allowed").as_bool();
  };
  EXPECT_TRUE(sar("/metrics"));
  // Without the binding only kube-apiserver's bootstrap paths (system:discovery,
  // system:public-info-viewer): a component's /metrics is not one of them.
  auto sar_unbound = [&](const std::string& path) {
    auto a = c.call("admin-token", "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                    R"({"spec":{"user":"system:serviceaccount:ops:other","groups":["system:authenticated"],"nonResourceAttributes":{"path":")" +
                        path + R"(","verb":"get"}}})");
    EXPECT_EQ(a.status, 201) << a.body;
    return value::parse(a.body, ec).at("status").at("allowed").as_bool();
  };
  EXPECT_FALSE(sar_unbound("/metrics"));
  EXPECT_FALSE(sar_unbound("/debug/pprof/profile"));
  for (const char* path : {"/healthz", "/readyz", "/version", "/api", "/apis/apps/v1", "/openapi/v2"}) EXPECT_TRUE(sar_unbound(path)) << path;
  r = c.call("admin-token", "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
             R"({"spec":{"user":"system:serviceaccount:ops:op","resourceAttributes":{"verb":"delete","resource":"pods","namespace":"x"}}})");
  EXPECT_FALSE(value::parse(r.body, ec).at("status").at("allowed").as_bool()) << r.body;
}

}  // namespace
}  // namespace nonevent::sim
