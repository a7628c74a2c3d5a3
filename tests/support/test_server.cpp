#include <utility>  // before asio (Boost 1.74 with C++20)

#include "support/test_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <set>

namespace nonevent::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string status_body(int code, const std::string& reason, const std::string& message,
                        const std::string& extra_details_json) {
  std::string details = extra_details_json.empty() ? "" : ",\"details\":" + extra_details_json;
  return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
         "\"message\":\"" + message + "\",\"reason\":\"" + reason + "\"" + details +
         ",\"code\":" + std::to_string(code) + "}";
}

namespace {

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

template <class Stream>
class Writer final : public StreamWriter {
 public:
  explicit Writer(Stream& s) : s_(s) {}
  bool write(const std::string& piece) override {
    if (dropped_) return false;
    beast::error_code ec;
    asio::write(s_, http::make_chunk(asio::buffer(piece)), ec);
    return !ec;
  }
  void drop() override {
    dropped_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(s_).shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(s_).close(ec);
  }
  bool dropped() const { return dropped_; }

 private:
  Stream& s_;
  bool dropped_ = false;
};

}  // namespace

struct TestServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<ssl::context> tls;
  std::thread accept_thread;
  std::mutex mu;
  TestHandler handler;                 // guarded by mu
  std::vector<TestRequest> requests;   // guarded by mu
  std::set<int> open_fds;              // guarded by mu
  std::vector<std::thread> conn_threads;  // guarded by mu
  std::atomic<bool> stopping{false};
  std::atomic<long> next_conn{0};

  template <class Stream>
  void serve(Stream& stream, long conn_id, const std::string& client_cn) {
    beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(stream, buf, req, ec);
      if (ec) return;
      TestRequest tr;
      tr.method = std::string(req.method_string());
      tr.target = std::string(req.target());
      const auto q = tr.target.find('?');
      tr.path = tr.target.substr(0, q);
      if (q != std::string::npos) {
        std::string qs = tr.target.substr(q + 1);
        size_t start = 0;
        while (start < qs.size()) {
          auto amp = qs.find('&', start);
          if (amp == std::string::npos) amp = qs.size();
          auto kv = qs.substr(start, amp - start);
          auto eq = kv.find('=');
          tr.query[url_decode(kv.substr(0, eq))] = eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1));
          start = amp + 1;
        }
      }
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(ch));
        tr.headers[name] = std::string(f.value());
      }
      tr.body = req.body();
      tr.client_cert_cn = client_cn;
      tr.connection_id = conn_id;
      TestHandler h;
      {
        std::lock_guard g(mu);
        requests.push_back(tr);
        h = handler;
      }
      TestResponse resp = h ? h(tr) : TestResponse{404, "{}"};
      if (resp.stream) {
        http::response<http::empty_body> head{static_cast<http::status>(resp.status), 11};
        head.set(http::field::content_type, resp.content_type);
        for (const auto& [k, v] : resp.headers) head.set(k, v);
        head.chunked(true);
        http::response_serializer<http::empty_body> sr{head};
        http::write_header(stream, sr, ec);
        if (ec) return;
        Writer<Stream> w(stream);
        resp.stream(w);
        if (w.dropped()) return;
        asio::write(stream, http::make_chunk_last(), ec);
        if (ec) return;
        continue;
      }
      http::response<http::string_body> res{static_cast<http::status>(resp.status), 11};
      res.set(http::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.body() = resp.body;
      res.keep_alive(!resp.close && req.keep_alive());
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || !res.keep_alive()) return;
    }
  }

  void handle(tcp::socket sock) {
    const long id = ++next_conn;
    const int fd = sock.native_handle();
    {
      std::lock_guard g(mu);
      open_fds.insert(fd);
    }
    if (tls) {
      beast::ssl_stream<tcp::socket> s(std::move(sock), *tls);
      beast::error_code ec;
      s.handshake(ssl::stream_base::server, ec);
      if (!ec) {
        std::string cn;
        if (X509* peer = SSL_get1_peer_certificate(s.native_handle())) {
          char buf[256] = {};
          X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof buf);
          cn = buf;
          X509_free(peer);
        }
        serve(s, id, cn);
      }
      beast::get_lowest_layer(s).close(ec);
    } else {
      serve(sock, id, "");
      beast::error_code ec;
      sock.close(ec);
    }
    std::lock_guard g(mu);
    open_fds.erase(fd);
  }
};

TestServer::TestServer(TestHandler handler, std::optional<TlsOptions> tls)
    : impl_(std::make_unique<Impl>()), tls_(tls.has_value()) {
  impl_->handler = std::move(handler);
  if (tls) {
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->use_certificate_chain(asio::buffer(tls->cert_pem));
    impl_->tls->use_private_key(asio::buffer(tls->key_pem), ssl::context::pem);
    if (!tls->client_ca_pem.empty()) {
      impl_->tls->add_certificate_authority(asio::buffer(tls->client_ca_pem));
      impl_->tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] {
    for (;;) {
      beast::error_code ec;
      tcp::socket sock(impl_->ioc);
      impl_->acceptor.accept(sock, ec);
      if (ec || impl_->stopping) return;
      ++connections_;
      std::lock_guard g(impl_->mu);
      impl_->conn_threads.emplace_back([this, s = std::move(sock)]() mutable { impl_->handle(std::move(s)); });
    }
  });
}

TestServer::~TestServer() { stop(); }

void TestServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  beast::error_code ec;
  // shutdown() wakes the blocked accept(); the acceptor is closed only once its thread is gone
  // (closing it while accept() runs on the other thread was a data race ThreadSanitizer saw).
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->acceptor.close(ec);
  std::vector<std::thread> threads;
  {
    std::lock_guard g(impl_->mu);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
    threads.swap(impl_->conn_threads);
  }
  for (auto& t : threads) t.join();
}

std::string TestServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<TestRequest> TestServer::requests() const {
  std::lock_guard g(impl_->mu);
  return impl_->requests;
}

void TestServer::set_handler(TestHandler h) {
  std::lock_guard g(impl_->mu);
  impl_->handler = std::move(h);
}

}  // namespace nonevent::testing
