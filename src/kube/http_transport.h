#pragma once
// HTTP/1.1 to one API server over TCP or TLS, with keep-alive connection reuse, a timeout on
// every operation, client-side QPS/burst limiting, authentication, and Retry-After honoured
// for safe requests. Blocking calls: each caller's thread drives its own connection (as
// client-go's goroutine-per-request does), so a slow request never stalls another.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kube/api_error.h"
#include "kube/clock.h"
#include "kube/credentials.h"
#include "kube/rest_config.h"

namespace nonevent::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string target;        // path and query, e.g. /api/v1/pods?limit=500
  std::string body;
  std::string content_type;  // for bodies
  std::string accept = "application/json";
  std::chrono::milliseconds timeout{0};  // per operation; 0 = the config's request_timeout
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::optional<std::chrono::seconds> retry_after;
};

// Lets another thread stop a stream in progress. Thread-safe; one stream at a time.
class CancelToken {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(); }
  // Used by the transport: `fn` runs (once) when cancel() is called while registered.
  void set_canceller(std::function<void()> fn);
  void clear_canceller();

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::function<void()> canceller_;  // guarded by mu_
};

struct TransportStats {
  std::atomic<long> connections_opened{0};
  std::atomic<long> requests{0};
  std::atomic<long> retries{0};
};

class HttpTransport {
 public:
  // Throws ConfigError for a malformed server URL or unusable TLS material.
  HttpTransport(RestConfig config, std::shared_ptr<Clock> clock = real_clock());
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Thread-safe. Non-2xx answers are returned as responses, not errors: the REST layer turns
  // them into ApiErrors. Errors here are transport failures (connect, TLS, timeout).
  Result<HttpResponse> send(const HttpRequest& req);

  // Thread-safe. Sends the request and, if the answer is 2xx, hands each piece of the body to
  // on_data as it arrives (arbitrary boundaries) until the server ends it, on_data returns
  // false, or `cancel` fires. A non-2xx answer comes back whole as the response.
  Result<HttpResponse> stream(const HttpRequest& req,
                              const std::function<bool(std::string_view)>& on_data,
                              CancelToken* cancel);

  const RestConfig& config() const { return config_; }
  const TransportStats& stats() const { return stats_; }

 private:
  struct Impl;
  RestConfig config_;
  std::shared_ptr<Clock> clock_;
  TransportStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nonevent::kube
