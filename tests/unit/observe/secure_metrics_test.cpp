// Secure metrics (`nonevent operator --metrics-secure`, issue 28.4): /metrics over HTTPS, open
// only to a caller whose token the API server accepts (TokenReview) and whose RBAC allows GET
// /metrics (SubjectAccessReview), here against the embedded cluster enforcing RBAC. The probes
// stay open; the gate never blocks them; an API server that cannot answer never lets anyone in.
#include <gtest/gtest.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <future>

#include "kube/pki.h"
#include "kube/rest_client.h"
#include "kube/rest_config.h"
#include "observe/delegated_access.h"
#include "observe/probe_server.h"
#include "sim/api_server.h"
#include "sim/http_server.h"
#include "sim/json_util.h"
#include "sim/yaml_json.h"

namespace nonevent::observe {
namespace {

using web::json::value;

constexpr const char* kAccounts = R"(
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: prometheus, namespace: monitoring}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: nosy, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: nonevent-metrics-reader}
rules:
- nonResourceURLs: [/metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus-reads-nonevent}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nonevent-metrics-reader}
subjects:
- {kind: ServiceAccount, name: prometheus, namespace: monitoring}
)";

// The embedded cluster enforcing RBAC on a loopback port, with the accounts above.
struct Cluster {
  std::shared_ptr<kube::VirtualClock> clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  std::shared_ptr<sim::ApiServer> api = std::make_shared<sim::ApiServer>(
      std::make_shared<sim::ObjectStore>(), clock, sim::ApiServerOptions{.bearer_token = "admin-token", .rbac = true});
  sim::HttpServer http{api, {}};
  Cluster() {
    for (const auto& d : sim::parse_yaml_documents(kAccounts)) EXPECT_LT(api->create_object(d).status, 300) << d.serialize();
  }
  std::string token_for(const std::string& sa) {
    sim::ApiRequest r{.method = "POST", .path = "/api/v1/namespaces/monitoring/serviceaccounts/" + sa + "/token"};
    r.headers["authorization"] = "Bearer admin-token";
    r.headers["content-type"] = "application/json";
    r.body = R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})";
    std::error_code ec;
    return sim::json::str(value::parse(api->handle(r).body, ec), {"status", "token"});
  }
  // The operator's own client: it may create TokenReviews and SubjectAccessReviews (admin here).
  std::shared_ptr<kube::RestClient> operator_client() {
    kube::RestConfig cfg;
    cfg.server = http.url();
    cfg.token = "admin-token";
    return kube::make_rest_client(cfg);
  }
};

struct Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Metrics() { prometheus::BuildCounter().Name("nonevent_secure_test_total").Help("a counter").Register(*registry).Add({}).Increment(); }
};

// A scraper's view of the endpoint: HTTPS verified against the serving certificate's CA.
kube::Result<std::string> scrape(int port, const std::string& ca_pem, const std::string& token, const std::string& path = "/metrics") {
  kube::RestConfig cfg;
  cfg.server = "https://127.0.0.1:" + std::to_string(port);
  cfg.ca_pem = ca_pem;
  cfg.token = token;
  cfg.request_timeout = std::chrono::milliseconds(5000);
  return kube::make_rest_client(cfg)->raw_get(path, "text/plain");
}

struct SecureEndpoint {
  kube::CertKey ca = kube::make_ca("metrics-ca");
  kube::CertKey leaf = kube::make_leaf(ca, "nonevent-metrics", {"IP:127.0.0.1"});
  Metrics metrics;
  std::shared_ptr<DelegatedAccess> access;
  std::unique_ptr<ProbeServer> server;
  explicit SecureEndpoint(std::shared_ptr<DelegatedAccess> a, std::function<bool()> ready = {}) : access(std::move(a)) {
    ProbeServerOptions o{.bind_address = "127.0.0.1:0", .collectables = {metrics.registry}, .healthy = {}, .ready = std::move(ready)};
    o.tls = ProbeServerTls{leaf.cert_pem, leaf.key_pem};
    o.authorize_metrics = [a = access](const std::string& authorization, const std::string& verb) {
      return a->check(authorization, "/metrics", verb);
    };
    server = std::make_unique<ProbeServer>(o);
  }
};

TEST(SecureMetrics, OnlyACallerWhoseRbacAllowsGetMetricsReadsThem) {
  Cluster cluster;
  SecureEndpoint endpoint(std::make_shared<DelegatedAccess>(cluster.operator_client()));
  const int port = endpoint.server->port();

  auto anonymous = scrape(port, endpoint.ca.cert_pem, "");
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, 401) << anonymous.error().to_string();

  auto forged = scrape(port, endpoint.ca.cert_pem, "forged-token");
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, 401) << forged.error().to_string();

  auto nosy = scrape(port, endpoint.ca.cert_pem, cluster.token_for("nosy"));
  ASSERT_FALSE(nosy.ok());
  EXPECT_EQ(nosy.error().code, 403);
  EXPECT_NE(nosy.error().to_string().find("system:serviceaccount:monitoring:nosy"), std::string::npos) << nosy.error().to_string();

  const std::string prometheus = cluster.token_for("prometheus");
  auto allowed = scrape(port, endpoint.ca.cert_pem, prometheus);
  ASSERT_TRUE(allowed.ok()) << allowed.error().to_string();
  EXPECT_NE(allowed.value().find("nonevent_secure_test_total 1"), std::string::npos) << allowed.value();

  // The probes need no token (a kubelet sends none), over the same TLS.
  auto health = scrape(port, endpoint.ca.cert_pem, "", "/healthz");
  ASSERT_TRUE(health.ok()) << health.error().to_string();
  EXPECT_EQ(health.value(), "ok\n");
}

TEST(SecureMetrics, ScrapesAfterTheFirstAskTheApiServerNothing) {
  Cluster cluster;
  SecureEndpoint endpoint(std::make_shared<DelegatedAccess>(cluster.operator_client()));
  const std::string prometheus = cluster.token_for("prometheus");
  ASSERT_TRUE(scrape(endpoint.server->port(), endpoint.ca.cert_pem, prometheus).ok());
  const int after_first = endpoint.access->reviews_made();
  EXPECT_EQ(after_first, 2) << "one TokenReview and one SubjectAccessReview";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(scrape(endpoint.server->port(), endpoint.ca.cert_pem, prometheus).ok());
  EXPECT_EQ(endpoint.access->reviews_made(), after_first);
}

TEST(SecureMetrics, ARefusalIsForgottenAfterItsTimeSoANewBindingLetsTheCallerIn) {
  Cluster cluster;
  auto access = std::make_shared<DelegatedAccess>(cluster.operator_client(),
                                                  DelegatedAccessOptions{.deny_ttl = std::chrono::milliseconds(0)});
  const std::string nosy = "Bearer " + cluster.token_for("nosy");
  EXPECT_EQ(access->check(nosy, "/metrics").status, 403);
  for (const auto& d : sim::parse_yaml_documents(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nosy-reads-nonevent}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nonevent-metrics-reader}
subjects:
- {kind: ServiceAccount, name: nosy, namespace: monitoring}
)"))
    ASSERT_LT(cluster.api->create_object(d).status, 300);
  EXPECT_EQ(access->check(nosy, "/metrics").status, 200);
  EXPECT_EQ(access->check(nosy, "/debug/pprof").status, 403) << "the binding is for /metrics only";
}

TEST(SecureMetrics, AnApiServerThatCannotBeAskedLetsNobodyIn) {
  kube::RestConfig cfg;
  {
    Cluster gone;
    cfg.server = gone.http.url();
  }  // the API server is gone: every review fails to connect
  cfg.token = "admin-token";
  cfg.request_timeout = std::chrono::milliseconds(2000);
  DelegatedAccess access(kube::make_rest_client(cfg));
  const auto a = access.check("Bearer anything", "/metrics");
  EXPECT_EQ(a.status, 500);
  EXPECT_NE(a.reason.find("Authentication failed"), std::string::npos) << a.reason;
  EXPECT_EQ(access.check("Bearer anything", "/metrics").status, 500) << "a failure is not cached as an answer";
}

TEST(SecureMetrics, TheProbesAnswerWhileTheGateWaitsOnTheApiServer) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  Metrics metrics;
  auto leaf_ca = kube::make_ca("metrics-ca");
  auto leaf = kube::make_leaf(leaf_ca, "nonevent-metrics", {"IP:127.0.0.1"});
  ProbeServerOptions o{.bind_address = "127.0.0.1:0", .collectables = {metrics.registry}};
  o.tls = ProbeServerTls{leaf.cert_pem, leaf.key_pem};
  o.authorize_metrics = [&](const std::string&, const std::string&) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });  // an API server that takes its time
    return ProbeAccess{200, {}};
  };
  ProbeServer server(o);
  auto stuck = std::async(std::launch::async, [&] { return scrape(server.port(), leaf_ca.cert_pem, "Bearer x"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto health = scrape(server.port(), leaf_ca.cert_pem, "", "/readyz");
  EXPECT_TRUE(health.ok()) << "readiness answered while /metrics waits";
  EXPECT_EQ(stuck.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "the scrape is still waiting";
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  auto scraped = stuck.get();
  EXPECT_TRUE(scraped.ok()) << scraped.error().to_string();
}

TEST(SecureMetrics, ThePlainHealthPortBesideSecureMetricsServesNoMetrics) {
  Metrics metrics;
  ProbeServer health(ProbeServerOptions{.bind_address = "127.0.0.1:0", .collectables = {metrics.registry}, .serve_metrics = false});
  kube::RestConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(health.port());
  auto client = kube::make_rest_client(cfg);
  auto m = client->raw_get("/metrics", "text/plain");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, 404);
  auto h = client->raw_get("/healthz", "text/plain");
  EXPECT_TRUE(h.ok());
}

}  // namespace
}  // namespace nonevent::observe
