#include "observe/prometheus_api.h"

#include <cpprest/json.h>

#include <cmath>

#include "kube/http_transport.h"
#include "kube/resource.h"

namespace nonevent::observe {

using controllers::PromAlert;
using controllers::PromSample;
using web::json::value;

namespace {

kube::ApiError api_error(std::string message) { return kube::ApiError::transport(std::move(message)); }

// Prometheus writes sample values as strings ("0.5", "NaN", "+Inf").
double sample_value(const value& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair.at(1).is_string()) return std::nan("");
  const std::string& s = pair.at(1).as_string();
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  try {
    return std::stod(s);
  } catch (...) {
    return std::nan("");
  }
}

std::map<std::string, std::string> labels_of(const value& m) {
  std::map<std::string, std::string> out;
  if (m.is_object())
    for (const auto& [k, v] : m.as_object())
      if (v.is_string()) out[k] = v.as_string();
  return out;
}

// The envelope every answer has: {"status": "success"|"error", "data": ..., "error": ...}.
kube::Result<value> data_of(int http_status, const std::string& body) {
  std::error_code ec;
  const value doc = value::parse(body, ec);
  if (ec || !doc.is_object()) {
    std::string head = body.substr(0, 120);
    return api_error("HTTP " + std::to_string(http_status) + ", not a Prometheus API answer: " + head);
  }
  const std::string status = doc.has_field("status") && doc.at("status").is_string() ? doc.at("status").as_string() : "";
  if (status != "success") {
    const std::string type = doc.has_field("errorType") && doc.at("errorType").is_string() ? doc.at("errorType").as_string() : "error";
    const std::string what = doc.has_field("error") && doc.at("error").is_string() ? doc.at("error").as_string() : body.substr(0, 120);
    return api_error("HTTP " + std::to_string(http_status) + ", " + type + ": " + what);
  }
  if (http_status / 100 != 2) return api_error("HTTP " + std::to_string(http_status));
  return doc.has_field("data") ? doc.at("data") : value::null();
}

class PrometheusApi final : public controllers::MetricsSource {
 public:
  explicit PrometheusApi(const PrometheusOptions& o) : url_(o.url), transport_(config(o)) {}

  std::string describe() const override { return "Prometheus at " + url_; }

  kube::Result<std::vector<PromSample>> query(const std::string& promql) override {
    auto r = transport_.send({.method = "GET", .target = "/api/v1/query?query=" + kube::url_encode(promql)});
    if (!r.ok()) return r.error();
    return decode_query_response(r.value().status, r.value().body);
  }

  kube::Result<std::vector<PromAlert>> alerts() override {
    auto r = transport_.send({.method = "GET", .target = "/api/v1/alerts"});
    if (!r.ok()) return r.error();
    return decode_alerts_response(r.value().status, r.value().body);
  }

 private:
  static kube::RestConfig config(const PrometheusOptions& o) {
    kube::RestConfig c;
    c.server = o.url;
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    if (!o.ca_file.empty()) c.ca_pem = kube::read_file_or_throw(o.ca_file, "--prometheus-ca-file");
    c.insecure_skip_tls_verify = o.insecure_skip_verify;
    c.token_file = o.bearer_token_file;
    if (!o.bearer_token_file.empty()) (void)kube::read_file_or_throw(o.bearer_token_file, "--prometheus-bearer-token-file");
    c.request_timeout = o.timeout;
    c.qps = 50;  // a few queries a minute per resource; never the limit
    c.burst = 50;
    c.user_agent = "nonevent-health-checks/0.1";
    return c;
  }

  std::string url_;
  kube::HttpTransport transport_;
};

}  // namespace

kube::Result<std::vector<PromSample>> decode_query_response(int http_status, const std::string& body) {
  auto data = data_of(http_status, body);
  if (!data.ok()) return data.error();
  const value& d = data.value();
  const std::string type = d.has_field("resultType") && d.at("resultType").is_string() ? d.at("resultType").as_string() : "";
  const value result = d.has_field("result") ? d.at("result") : value::null();
  std::vector<PromSample> out;
  if (type == "scalar") {
    out.push_back({{}, sample_value(result)});
  } else if (type == "vector") {
    if (result.is_array())
      for (const auto& s : result.as_array()) out.push_back({labels_of(s.has_field("metric") ? s.at("metric") : value::null()),
                                                             sample_value(s.has_field("value") ? s.at("value") : value::null())});
  } else {
    return api_error("the query's result is a " + (type.empty() ? std::string("nothing") : type) +
                     "; a health check needs an instant vector or a scalar (no range selector [..] at the top)");
  }
  return out;
}

kube::Result<std::vector<PromAlert>> decode_alerts_response(int http_status, const std::string& body) {
  auto data = data_of(http_status, body);
  if (!data.ok()) return data.error();
  const value& d = data.value();
  std::vector<PromAlert> out;
  if (d.has_field("alerts") && d.at("alerts").is_array())
    for (const auto& a : d.at("alerts").as_array())
      out.push_back({labels_of(a.has_field("labels") ? a.at("labels") : value::null()),
                     a.has_field("state") && a.at("state").is_string() ? a.at("state").as_string() : ""});
  return out;
}

std::shared_ptr<controllers::MetricsSource> make_prometheus_api(const PrometheusOptions& opts) {
  try {
    return std::make_shared<PrometheusApi>(opts);
  } catch (const kube::ConfigError& e) {
    if (std::string(e.what()).rfind("--prometheus", 0) == 0) throw;  // names its flag already
    throw kube::ConfigError(std::string("--prometheus-url: ") + e.what());
  }
}

}  // namespace nonevent::observe
