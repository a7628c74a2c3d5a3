#pragma once
// Prometheus' HTTP API (/api/v1/query, /api/v1/alerts) as the health gates ask it
// (controllers/health_checks.h): over HTTP or HTTPS, with a CA bundle or without verification,
// a bearer token file re-read as it rotates (a projected ServiceAccount token, as
// prometheus-operator's and Thanos' frontends take), and a timeout on every request.
#include <chrono>
#include <memory>
#include <string>

#include "controllers/health_checks.h"

namespace nonevent::observe {

struct PrometheusOptions {
  std::string url;                   // http(s)://host:port[/prefix]
  std::string ca_file;               // PEM bundle to verify the server (default: the system's)
  bool insecure_skip_verify = false;
  std::string bearer_token_file;     // "Authorization: Bearer <contents>"
  std::chrono::milliseconds timeout{10'000};
};

// Throws kube::ConfigError naming the flag at fault (a malformed URL, an unreadable file).
std::shared_ptr<controllers::MetricsSource> make_prometheus_api(const PrometheusOptions& opts);

// The API's answers as JSON, decoded (exposed for tests). Errors name what Prometheus said.
kube::Result<std::vector<controllers::PromSample>> decode_query_response(int http_status, const std::string& body);
kube::Result<std::vector<controllers::PromAlert>> decode_alerts_response(int http_status, const std::string& body);

}  // namespace nonevent::observe
