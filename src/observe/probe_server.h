#pragma once
// The operator's one HTTP endpoint (design 2.1): /metrics in the Prometheus text format,
// /healthz (the process serves: liveness) and /readyz (caches synced and, with leader
// election, either leading or standing by ready to take over: readiness). Plain HTTP on the
// given address; a kubelet or Prometheus reaches it inside the cluster.
#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nonevent::observe {

struct ProbeServerOptions {
  std::string bind_address = ":8080";  // host:port; ":8080" binds every interface, port 0 picks one
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  std::function<bool()> healthy;  // default: always
  std::function<bool()> ready;    // default: always
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
