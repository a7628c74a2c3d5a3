#pragma once
// A real HTTP/1.1 (and HTTPS) server on 127.0.0.1:0 for client tests: each test scripts its
// answers with a handler; streaming answers control exactly where chunk boundaries fall and
// can drop the connection mid-stream. It records every request it received.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace nonevent::testing {

struct TestRequest {
  std::string method;
  std::string target;  // path and query
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string client_cert_cn;  // when the client presented a certificate
  long connection_id = 0;
};

// Streaming answers write raw body pieces; each write() is sent as its own HTTP chunk.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual bool write(const std::string& piece) = 0;
  // Ends the connection without the terminating chunk (a dropped watch).
  virtual void drop() = 0;
};

struct TestResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::function<void(StreamWriter&)> stream;  // set: chunked streaming body
  bool close = false;                          // Connection: close
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

struct TlsOptions {
  std::string cert_pem, key_pem;
  std::string client_ca_pem;  // set: require a client certificate signed by it
};

class TestServer {
 public:
  explicit TestServer(TestHandler handler, std::optional<TlsOptions> tls = std::nullopt);
  ~TestServer();
  std::string url() const;  // http(s)://127.0.0.1:<port>
  int port() const { return port_; }
  std::vector<TestRequest> requests() const;
  long connections() const { return connections_.load(); }
  void set_handler(TestHandler h);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  bool tls_ = false;
  std::atomic<long> connections_{0};
};

// A JSON metav1.Status body.
std::string status_body(int code, const std::string& reason, const std::string& message,
                        const std::string& extra_details_json = "");

}  // namespace nonevent::testing
