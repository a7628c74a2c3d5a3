// Every way a kubeconfig (or the in-cluster environment) can say who we are, checked against
// a real HTTP(S) server: what arrives on the wire is what counts.
#include <gtest/gtest.h>

#include "kube/rest_client.h"
#include "kube/rest_config.h"
#include "kube/pki.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace nonevent::kube {
namespace {

using kube::CertKey;
using testing::ScopedEnv;
using testing::TempDir;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestServer;

TestResponse ok_namespace(const TestRequest&) {
  return {200, R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}})"};
}

std::string kubeconfig(const std::string& server, const std::string& user_yaml,
                       const std::string& cluster_extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
         "clusters:\n- name: k\n  cluster:\n    server: " + server + "\n" + cluster_extra +
         "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
         "users:\n- name: u\n  user:\n" + user_yaml;
}

std::string last_auth(const TestServer& s) { return s.requests().back().headers["authorization"]; }

TEST(ConfigAuth, StaticBearerToken) {
  TestServer server(ok_namespace);
  TempDir dir;
  auto path = dir.write("config", kubeconfig(server.url(), "    token: abc123\n"));
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}));
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer abc123");
}

TEST(ConfigAuth, BasicAuth) {
  TestServer server(ok_namespace);
  TempDir dir;
  auto path = dir.write("config", kubeconfig(server.url(), "    username: admin\n    password: s3cret\n"));
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}));
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Basic " + base64_encode("admin:s3cret"));
}

TEST(ConfigAuth, TokenFileIsReReadAfterRotation) {
  TestServer server(ok_namespace);
  TempDir dir;
  dir.write("token", "first\n");
  auto path = dir.write("config", kubeconfig(server.url(), "    tokenFile: token\n"));  // relative
  auto clock = std::make_shared<VirtualClock>();
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}), clock);
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer first");
  dir.write("token", "second\n");
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer first") << "cached within the minute";
  clock->advance(std::chrono::seconds(61));
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer second");
}

TEST(ConfigAuth, A401MakesTheTokenFileBeReadAgainAndTheRequestRetried) {
  TempDir dir;
  dir.write("token", "old");
  TestServer server([](const TestRequest& r) {
    if (r.headers.at("authorization") != "Bearer new") return TestResponse{401, testing::status_body(401, "Unauthorized", "bad token")};
    return ok_namespace(r);
  });
  auto path = dir.write("config", kubeconfig(server.url(), "    tokenFile: " + dir.file("token") + "\n"));
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}), std::make_shared<VirtualClock>());
  auto first = client->get(resources::namespaces(), "", "default");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, 401);
  dir.write("token", "new");
  EXPECT_TRUE(client->get(resources::namespaces(), "", "default").ok());
}

std::string exec_plugin_script() {
  // Answers in the apiVersion KUBERNETES_EXEC_INFO asks for, numbering its runs so tests can
  // see the cache, and proving args and env arrived.
  return R"(#!/bin/sh
set -e
dir=$(dirname "$0")
echo run >> "$dir/runs"
n=$(wc -l < "$dir/runs" | tr -d ' ')
case "$KUBERNETES_EXEC_INFO" in
  *'"apiVersion":"client.authentication.k8s.io/v1beta1"'*) v=client.authentication.k8s.io/v1beta1 ;;
  *'"apiVersion":"client.authentication.k8s.io/v1"'*) v=client.authentication.k8s.io/v1 ;;
  *) echo "no exec info" >&2; exit 3 ;;
esac
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s-%s-%s","expirationTimestamp":"%s"}}' \
  "$v" "$PREFIX" "$1" "$n" "$EXPIRES"
)";
}

class ExecPlugin : public ::testing::TestWithParam<const char*> {};

TEST_P(ExecPlugin, RunsThePluginAndCachesUntilExpiry) {
  TestServer server(ok_namespace);
  TempDir dir;
  dir.write("plugin.sh", exec_plugin_script(), /*executable=*/true);
  auto path = dir.write("config", kubeconfig(server.url(),
      std::string("    exec:\n      apiVersion: ") + GetParam() +
      "\n      command: ./plugin.sh\n      args: [arg1]\n"
      "      env:\n      - {name: PREFIX, value: tok}\n      - {name: EXPIRES, value: \"2030-01-01T00:10:00Z\"}\n"));
  auto clock = std::make_shared<VirtualClock>(*parse_rfc3339("2030-01-01T00:00:00Z"));
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}), clock);
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer tok-arg1-1");
  clock->advance(std::chrono::minutes(9));
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer tok-arg1-1") << "cached until expirationTimestamp";
  clock->advance(std::chrono::minutes(2));
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer tok-arg1-2") << "expired: the plugin runs again";
}

INSTANTIATE_TEST_SUITE_P(ApiVersions, ExecPlugin,
                         ::testing::Values("client.authentication.k8s.io/v1",
                                           "client.authentication.k8s.io/v1beta1"));

TEST(ConfigAuth, ExecPluginFailureIsAClearError) {
  TestServer server(ok_namespace);
  TempDir dir;
  auto path = dir.write("config", kubeconfig(server.url(),
      "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /nonexistent/plugin\n"
      "      installHint: install the plugin\n"));
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}));
  auto r = client->get(resources::namespaces(), "", "default");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/plugin"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().message.find("install the plugin"), std::string::npos) << r.error().to_string();
  EXPECT_TRUE(server.requests().empty()) << "nothing is sent without credentials";
}

struct Pki {
  CertKey ca = kube::make_ca("test-ca");
  CertKey server = kube::make_leaf(ca, "apiserver", {"IP:127.0.0.1", "DNS:kube.test"});
  CertKey client = kube::make_leaf(ca, "alice", {}, /*client_auth=*/true);
};

TEST(ConfigAuth, ClientCertificateFilesAndData) {
  Pki pki;
  TestServer server(ok_namespace, testing::TlsOptions{pki.server.cert_pem, pki.server.key_pem, pki.ca.cert_pem});
  TempDir dir;
  dir.write("ca.crt", pki.ca.cert_pem);
  dir.write("client.crt", pki.client.cert_pem);
  dir.write("client.key", pki.client.key_pem);
  // Files, relative to the kubeconfig.
  auto files = dir.write("files", kubeconfig(server.url(),
      "    client-certificate: client.crt\n    client-key: client.key\n",
      "    certificate-authority: ca.crt\n"));
  auto c1 = make_rest_client(load_kubeconfig({.kubeconfig_path = files}));
  ASSERT_TRUE(c1->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(server.requests().back().client_cert_cn, "alice");
  // Inline data.
  auto data = dir.write("data", kubeconfig(server.url(),
      "    client-certificate-data: " + base64_encode(pki.client.cert_pem) +
      "\n    client-key-data: " + base64_encode(pki.client.key_pem) + "\n",
      "    certificate-authority-data: " + base64_encode(pki.ca.cert_pem) + "\n"));
  auto c2 = make_rest_client(load_kubeconfig({.kubeconfig_path = data}));
  auto r = c2->get(resources::namespaces(), "", "default");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(server.requests().back().client_cert_cn, "alice");
}

TEST(ConfigAuth, WrongCertificateAuthorityIsAClearError) {
  Pki pki;
  CertKey other_ca = kube::make_ca("someone-else");
  TestServer server(ok_namespace, testing::TlsOptions{pki.server.cert_pem, pki.server.key_pem, ""});
  TempDir dir;
  auto path = dir.write("config", kubeconfig(server.url(), "    token: t\n",
      "    certificate-authority-data: " + base64_encode(other_ca.cert_pem) + "\n"));
  auto client = make_rest_client(load_kubeconfig({.kubeconfig_path = path}));
  auto r = client->get(resources::namespaces(), "", "default");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is_transport());
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("not signed by the configured certificate-authority"), std::string::npos)
      << r.error().message;
}

TEST(ConfigAuth, InsecureSkipVerifyAndTlsServerName) {
  Pki pki;
  CertKey dns_only = kube::make_leaf(pki.ca, "apiserver", {"DNS:kube.test"});
  TestServer server(ok_namespace, testing::TlsOptions{dns_only.cert_pem, dns_only.key_pem, ""});
  TempDir dir;
  const std::string ca = "    certificate-authority-data: " + base64_encode(pki.ca.cert_pem) + "\n";
  // The certificate does not name 127.0.0.1: verification must fail...
  auto plain = make_rest_client(load_kubeconfig({.kubeconfig_path = dir.write("a", kubeconfig(server.url(), "    token: t\n", ca))}));
  auto r = plain->get(resources::namespaces(), "", "default");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not name 127.0.0.1"), std::string::npos) << r.error().message;
  // ...unless tls-server-name says which name to expect...
  auto named = make_rest_client(load_kubeconfig({.kubeconfig_path = dir.write("b", kubeconfig(server.url(), "    token: t\n", ca + "    tls-server-name: kube.test\n"))}));
  EXPECT_TRUE(named->get(resources::namespaces(), "", "default").ok());
  // ...or verification is switched off.
  auto insecure = make_rest_client(load_kubeconfig({.kubeconfig_path = dir.write("c", kubeconfig(server.url(), "    token: t\n", "    insecure-skip-tls-verify: true\n"))}));
  EXPECT_TRUE(insecure->get(resources::namespaces(), "", "default").ok());
}

TEST(ConfigAuth, MergedKubeconfigFirstFileWins) {
  TestServer a(ok_namespace), b(ok_namespace);
  TempDir dir;
  auto f1 = dir.write("one/config",
      "apiVersion: v1\nkind: Config\ncurrent-context: ctx-a\n"
      "clusters:\n- name: shared\n  cluster: {server: " + a.url() + "}\n"
      "contexts:\n- name: ctx-a\n  context: {cluster: shared, user: ua, namespace: team-a}\n"
      "users:\n- name: ua\n  user: {tokenFile: token}\n");
  dir.write("one/token", "token-from-dir-one");
  auto f2 = dir.write("two/config",
      "apiVersion: v1\nkind: Config\ncurrent-context: ctx-b\n"
      "clusters:\n- name: shared\n  cluster: {server: http://127.0.0.1:1}\n"
      "- name: other\n  cluster: {server: " + b.url() + "}\n"
      "contexts:\n- name: ctx-b\n  context: {cluster: other, user: ub}\n"
      "users:\n- name: ub\n  user: {token: token-b}\n- name: ua\n  user: {token: ignored}\n");
  ScopedEnv env("KUBECONFIG", f1 + ":" + dir.file("missing") + ":" + f2);
  // current-context from the first file; its cluster "shared" from the first file too.
  auto ca = load_kubeconfig({});
  EXPECT_EQ(ca.server, a.url());
  EXPECT_EQ(ca.default_namespace, "team-a");
  EXPECT_EQ(ca.token_file, dir.file("one/token")) << "relative to the file that named it";
  auto client_a = make_rest_client(ca);
  ASSERT_TRUE(client_a->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(a), "Bearer token-from-dir-one");
  // --context picks a context defined only in the second file.
  auto cb = load_kubeconfig({.context = "ctx-b"});
  EXPECT_EQ(cb.server, b.url());
  EXPECT_EQ(cb.token, "token-b");
}

TEST(ConfigAuth, BadKubeconfigsSayWhatIsWrong) {
  TempDir dir;
  auto expect_error = [&](const std::string& yaml, const std::string& needle, const std::string& context = "") {
    auto p = dir.write("bad", yaml);
    try {
      load_kubeconfig({.kubeconfig_path = p, .context = context});
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(kubeconfig("http://x", "    token: t\n"), "context \"nope\" not found", "nope");
  expect_error("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n", "cluster \"k\" not found");
  expect_error(kubeconfig("", "    token: t\n"), "server is empty");
  expect_error(kubeconfig("http://x", "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n"),
               "v1alpha1\" is not supported");
  expect_error(kubeconfig("http://x", "    client-certificate-data: " + base64_encode("x") + "\n"),
               "client-certificate and client-key must be given together");
}

TEST(ConfigAuth, InClusterConfig) {
  Pki pki;
  TestServer server(ok_namespace, testing::TlsOptions{pki.server.cert_pem, pki.server.key_pem, ""});
  TempDir sa;
  sa.write("token", "sa-token-1\n");
  sa.write("ca.crt", pki.ca.cert_pem);
  sa.write("namespace", "nonevent-system");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "127.0.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", std::to_string(server.port()));
  ASSERT_TRUE(in_cluster_available(sa.path()));
  auto config = load_in_cluster(sa.path());
  EXPECT_EQ(config.default_namespace, "nonevent-system");
  auto clock = std::make_shared<VirtualClock>();
  auto client = make_rest_client(config, clock);
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer sa-token-1");
  sa.write("token", "sa-token-2\n");  // the kubelet rotates projected tokens
  clock->advance(std::chrono::minutes(2));
  ASSERT_TRUE(client->get(resources::namespaces(), "", "default").ok());
  EXPECT_EQ(last_auth(server), "Bearer sa-token-2");
}

}  // namespace
}  // namespace nonevent::kube
