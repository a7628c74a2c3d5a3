// Discovery, and the built `nonevent kube get` run as a user would run it.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "kube/discovery.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace nonevent::kube {
namespace {

using testing::TestRequest;
using testing::TestResponse;

TestResponse discovery_server(const TestRequest& r) {
  if (r.path == "/api/v1")
    return {200, R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
      {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"],"shortNames":["po"]},
      {"name":"pods/eviction","singularName":"","namespaced":true,"group":"policy","version":"v1","kind":"Eviction","verbs":["create"]},
      {"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","verbs":["get","list"],"shortNames":["no"]}]})"};
  if (r.path == "/apis")
    return {200, R"({"kind":"APIGroupList","apiVersion":"v1","groups":[
      {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
      {"name":"nonevent.dev","versions":[{"groupVersion":"nonevent.dev/v1alpha1","version":"v1alpha1"}],"preferredVersion":{"groupVersion":"nonevent.dev/v1alpha1","version":"v1alpha1"}}]})"};
  if (r.path == "/apis/apps/v1")
    return {200, R"({"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
      {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["get","list"],"shortNames":["deploy"]}]})"};
  if (r.path == "/apis/nonevent.dev/v1alpha1")
    return {200, R"({"kind":"APIResourceList","groupVersion":"nonevent.dev/v1alpha1","resources":[
      {"name":"maintenancewindows","singularName":"maintenancewindow","namespaced":false,"kind":"MaintenanceWindow","verbs":["get","list"],"shortNames":["mw"],"categories":["nonevent"]}]})"};
  if (r.path == "/apis/apps/v1/namespaces/shop/deployments")
    return {200, R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"7"},"items":[]})"};
  if (r.path == "/api/v1/nodes/node-1")
    return {200, R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"node-1"}})"};
  return {404, testing::status_body(404, "NotFound", "the server could not find the requested resource")};
}

TEST(Discovery, ResolvesWhatUsersType) {
  testing::TestServer server(discovery_server);
  RestConfig c;
  c.server = server.url();
  auto client = make_rest_client(c);
  auto all = discover(*client);
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  EXPECT_EQ(all.value().size(), 4u) << "subresources are not resources";
  for (const auto& [typed, resource] : std::vector<std::pair<std::string, std::string>>{
           {"po", "pods"}, {"Pod", "pods"}, {"pod", "pods"}, {"deploy", "deployments"},
           {"deployments.apps", "deployments"}, {"mw", "maintenancewindows"}, {"no", "nodes"}}) {
    auto r = find_resource(all.value(), typed);
    ASSERT_TRUE(r) << typed;
    EXPECT_EQ(r->gvr.resource, resource) << typed;
  }
  EXPECT_FALSE(find_resource(all.value(), "deployments.batch"));
  EXPECT_FALSE(find_resource(all.value(), "pc"));
  auto mw = find_resource(all.value(), "mw");
  EXPECT_FALSE(mw->gvr.namespaced);
  EXPECT_EQ(mw->gvr.api_version(), "nonevent.dev/v1alpha1");
}

struct RunResult {
  int code;
  std::string out;
};

RunResult run(const std::string& cmd) {
  RunResult r{0, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WEXITSTATUS(status);
  return r;
}

TEST(NoneventKubeGet, AgainstAServer) {
  testing::TestServer server(discovery_server);
  testing::TempDir dir;
  auto kc = dir.write("config", "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                                "clusters:\n- name: k\n  cluster: {server: " + server.url() + "}\n"
                                "contexts:\n- name: c\n  context: {cluster: k, user: u, namespace: shop}\n"
                                "users:\n- name: u\n  user: {token: t}\n");
  const std::string bin = NONEVENT_BINARY;
  auto list = run(bin + " kube get deploy --kubeconfig " + kc);
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("\"DeploymentList\""), std::string::npos) << list.out;
  auto one = run(bin + " kube get no node-1 --kubeconfig=" + kc);
  EXPECT_EQ(one.code, 0) << one.out;
  EXPECT_NE(one.out.find("\"name\":\"node-1\""), std::string::npos) << one.out;
  auto unknown = run(bin + " kube get widgets --kubeconfig " + kc);
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.out.find("doesn't have a resource type \"widgets\""), std::string::npos) << unknown.out;
  auto missing = run(bin + " kube get no nope --kubeconfig " + kc);
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("404 NotFound"), std::string::npos) << missing.out;
  auto bad_flag = run(bin + " kube get no --kubeconfg " + kc);
  EXPECT_EQ(bad_flag.code, 2);
  EXPECT_NE(bad_flag.out.find("--kubeconfg"), std::string::npos) << bad_flag.out;
  auto version = run(bin + " version");
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.out.find("nonevent "), std::string::npos);
}

}  // namespace
}  // namespace nonevent::kube
