// The health gates' Prometheus client (observe/prometheus_api.h) against a real HTTP(S)
// server: the query as Prometheus reads it, a path prefix, the bearer token read from its file,
// TLS verified against --prometheus-ca-file (and refused without it), the timeout, an address
// nobody answers, and Prometheus' own error answers.
#include "observe/prometheus_api.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube/pki.h"
#include "kube/rest_config.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace nonevent::observe {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestServer;

constexpr const char* kVector =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"shop"},"value":[1764583200.5,"0.034"]}]}})";
constexpr const char* kAlerts = R"({"status":"success","data":{"alerts":[{"labels":{"alertname":"APIDown","severity":"critical"},
    "annotations":{},"state":"firing","activeAt":"2026-12-01T10:00:00Z","value":"1e+00"}]}})";

TestResponse answer(const TestRequest& r) {
  if (r.path.size() >= 14 && r.path.substr(r.path.size() - 14) == "/api/v1/alerts") return {.body = kAlerts};
  return {.body = kVector};
}

TEST(PrometheusApi, AsksAnInstantQueryUnderThePathPrefixWithTheBearerToken) {
  TempDir dir;
  TestServer server(answer);
  auto prom = make_prometheus_api({.url = server.url() + "/prometheus/", .bearer_token_file = dir.write("token", "s3cret\n")});
  EXPECT_EQ(prom->describe(), "Prometheus at " + server.url() + "/prometheus/");
  const std::string q = R"(sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])))";
  auto r = prom->query(q);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_DOUBLE_EQ(r.value()[0].value, 0.034);
  EXPECT_EQ(r.value()[0].labels.at("job"), "shop");
  auto a = prom->alerts();
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a.value().size(), 1u);
  EXPECT_EQ(a.value()[0].state, "firing");
  EXPECT_EQ(a.value()[0].labels.at("severity"), "critical");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/prometheus/api/v1/query");
  EXPECT_EQ(reqs[0].query.at("query"), q);
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer s3cret");
  EXPECT_EQ(reqs[1].path, "/prometheus/api/v1/alerts");
}

TEST(PrometheusApi, VerifiesTlsAgainstTheGivenCaAndRefusesAnUnknownOne) {
  TempDir dir;
  const auto ca = kube::make_ca("prometheus-ca");
  const auto leaf = kube::make_leaf(ca, "prometheus", {"IP:127.0.0.1", "DNS:localhost"});
  TestServer server(answer, testing::TlsOptions{leaf.cert_pem, leaf.key_pem, ""});
  auto trusted = make_prometheus_api({.url = server.url(), .ca_file = dir.write("ca.crt", ca.cert_pem)});
  auto r = trusted->query("up");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto other_ca = make_prometheus_api({.url = server.url(), .ca_file = dir.write("other.crt", kube::make_ca("someone-else").cert_pem)});
  auto refused = other_ca->query("up");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("certificate"), std::string::npos) << refused.error().message;
  auto skip = make_prometheus_api({.url = server.url(), .insecure_skip_verify = true});
  EXPECT_TRUE(skip->query("up").ok());
}

TEST(PrometheusApi, ATimeoutOrNobodyListeningIsAnError) {
  TestServer slow([](const TestRequest&) {
    std::this_thread::sleep_for(800ms);
    return TestResponse{.body = kVector};
  });
  auto prom = make_prometheus_api({.url = slow.url(), .timeout = 100ms});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = prom->query("up");
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 700ms);  // it did not wait for the answer
  std::string closed_url;
  {
    TestServer gone(answer);
    closed_url = gone.url();
  }
  auto nobody = make_prometheus_api({.url = closed_url, .timeout = 1s});
  EXPECT_FALSE(nobody->query("up").ok());
  EXPECT_FALSE(nobody->alerts().ok());
}

TEST(PrometheusApi, ConfigurationMistakesNameTheirFlag) {
  try {
    make_prometheus_api({.url = "prometheus:9090"});
    FAIL() << "a URL without a scheme was accepted";
  } catch (const kube::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--prometheus-url: "), std::string::npos) << e.what();
  }
  try {
    make_prometheus_api({.url = "http://127.0.0.1:9090", .ca_file = "/nonexistent/ca.crt"});
    FAIL() << "an unreadable CA file was accepted";
  } catch (const kube::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--prometheus-ca-file"), std::string::npos) << e.what();
  }
}

TEST(PrometheusApi, DecodesScalarsAndRefusesRangesAndErrors) {
  auto scalar = decode_query_response(200, R"({"status":"success","data":{"resultType":"scalar","result":[1764583200,"+Inf"]}})");
  ASSERT_TRUE(scalar.ok());
  EXPECT_TRUE(std::isinf(scalar.value().at(0).value));
  auto empty = decode_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().empty());
  auto matrix = decode_query_response(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  ASSERT_FALSE(matrix.ok());
  EXPECT_NE(matrix.error().message.find("needs an instant vector or a scalar"), std::string::npos);
  auto bad = decode_query_response(400, R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "HTTP 400, bad_data: 1:5: parse error: unexpected end of input");
  auto html = decode_query_response(502, "<html>Bad Gateway</html>");
  ASSERT_FALSE(html.ok());
  EXPECT_NE(html.error().message.find("HTTP 502, not a Prometheus API answer"), std::string::npos);
}

}  // namespace
}  // namespace nonevent::observe
