#pragma once
// The operator's one HTTP endpoint (design 2.1): /metrics in the Prometheus text format,
// /healthz (the process serves: liveness) and /readyz (caches synced and, with leader
// election, either leading or standing by ready to take over: readiness). Plain HTTP on the
// given address by default; with `tls` it speaks HTTPS, and with `authorize_metrics` a caller
// of /metrics must be let in first (`--metrics-secure`, delegated_access.h). The probes stay
// open to anyone, as kube-apiserver's own /healthz is: they tell nothing and a kubelet sends
// no token.
#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nonevent::observe {

struct ProbeServerTls {
  std::string cert_pem, key_pem;  // the serving certificate (chain) and its key
};

// What the gate says of a request for /metrics: 200 lets it through, anything else is the answer.
struct ProbeAccess {
  int status = 200;
  std::string reason;
};

struct ProbeServerOptions {
  std::string bind_address = ":8080";  // host:port; ":8080" binds every interface, port 0 picks one
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  std::function<bool()> healthy;  // default: always
  std::function<bool()> ready;    // default: always
  bool serve_metrics = true;      // false: probes only (the plain health port beside secure metrics)
  std::optional<ProbeServerTls> tls;
  // Given the request's Authorization header and its RBAC verb (get for GET and HEAD). It may
  // block on the API server, so it runs off the thread that serves the probes.
  std::function<ProbeAccess(const std::string& authorization, const std::string& verb)> authorize_metrics;
};

class ProbeServer {
 public:
  // Binds and serves on its own thread. Throws std::runtime_error naming the address when it cannot bind.
  explicit ProbeServer(ProbeServerOptions opts);
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;
  int port() const;
  void stop();

  // What GET <path> answers: status code, content type, body (also used by tests).
  struct Answer {
    int status;
    std::string content_type, body;
  };
  Answer answer(const std::string& path) const;

 private:
  struct Impl;
  ProbeServerOptions opts_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nonevent::observe
