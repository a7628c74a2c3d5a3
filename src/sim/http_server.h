#pragma once
// Puts an ApiServer on the wire: HTTP/1.1 over TCP or TLS on a loopback port, one thread per
// connection (kubectl and client-go keep a handful open), watches streamed as chunked
// newline-delimited JSON. The only Beast translation unit of the embedded cluster.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sim/api_server.h"

namespace nonevent::sim {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::optional<std::string> tls_cert_pem, tls_key_pem;
};

class HttpServer {
 public:
  // Binds and starts serving. Throws std::runtime_error naming the address when it cannot bind.
  HttpServer(std::shared_ptr<ApiServer> api, HttpServerOptions opts);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string url() const;
  int port() const { return port_; }
  // Closes the listener and every connection (watches end); waits for the threads.
  void stop();
  // Drops every open connection but keeps listening (fault injection: dropped watches).
  void drop_connections();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  bool tls_ = false;
  std::string address_;
};

}  // namespace nonevent::sim
