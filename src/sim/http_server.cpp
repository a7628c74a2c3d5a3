#include <utility>  // before asio (Boost 1.74 with C++20)

// Boost before anything that pulls in cpprestsdk, whose U() macro breaks Boost headers.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "sim/http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace nonevent::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

ApiRequest to_api_request(const http::request<http::string_body>& req) {
  ApiRequest r;
  r.method = std::string(req.method_string());
  const std::string target(req.target());
  const auto q = target.find('?');
  r.path = url_decode(target.substr(0, q));
  while (r.path.size() > 1 && r.path.back() == '/') r.path.pop_back();
  if (q != std::string::npos) {
    std::string_view qs(target);
    qs.remove_prefix(q + 1);
    while (!qs.empty()) {
      auto amp = qs.find('&');
      auto kv = qs.substr(0, amp);
      auto eq = kv.find('=');
      r.query[url_decode(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      qs.remove_prefix(amp + 1);
    }
  }
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = req.body();
  return r;
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<ApiServer> api;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<ssl::context> tls;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::set<int> fds;                 // guarded by mu: open connections
  std::vector<std::thread> threads;  // guarded by mu

  template <class Stream>
  void serve(Stream& stream) {
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      beast::error_code ec;
      http::read(stream, buf, parser, ec);
      if (ec) return;
      auto req = parser.release();
      ApiResponse resp = api->handle(to_api_request(req));
      if (resp.watch) {
        http::response<http::empty_body> head{http::status::ok, req.version()};
        head.set(http::field::content_type, resp.content_type);  // JSON lines, or protobuf's stream=watch
        head.set(http::field::cache_control, "no-cache, private");
        head.chunked(true);
        http::response_serializer<http::empty_body> sr{head};
        http::write_header(stream, sr, ec);
        if (ec) return;
        while (!resp.watch->done() && !stopping) {
          auto line = resp.watch->next(std::chrono::milliseconds(500));
          if (!line) continue;
          asio::write(stream, http::make_chunk(asio::buffer(*line)), ec);
          if (ec) return;
        }
        asio::write(stream, http::make_chunk_last(), ec);
        if (ec) return;
        continue;
      }
      http::response<http::string_body> res{static_cast<http::status>(resp.status), req.version()};
      res.set(http::field::content_type, resp.content_type);
      res.set(http::field::cache_control, "no-cache, private");
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.body() = std::move(resp.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || !res.keep_alive()) return;
    }
  }

  // stop() wakes every thread by shutting down the sockets in `fds`, so a socket must be in it
  // for as long as its descriptor is open, and a thread that starts after stop() looked must
  // not serve. Both once hung `sim serve` on SIGTERM in the soak: a thread that inserted its
  // fd just after stop() had shut the others down waited forever on an idle keep-alive
  // client; and a socket closed before its fd left the set let a new connection that reused
  // the number be erased with it, so stop() never woke that one.
  void handle(tcp::socket sock) {
    const int fd = sock.native_handle();
    {
      std::lock_guard g(mu);
      fds.insert(fd);
    }
    beast::error_code ec;
    if (!stopping) {
      sock.set_option(tcp::no_delay(true), ec);
      if (tls) {
        beast::ssl_stream<tcp::socket> s(std::move(sock), *tls);
        s.handshake(ssl::stream_base::server, ec);
        if (!ec) serve(s);
        sock = std::move(beast::get_lowest_layer(s));
      } else {
        serve(sock);
      }
    }
    {
      std::lock_guard g(mu);
      fds.erase(fd);
    }
    sock.close(ec);
  }
};

HttpServer::HttpServer(std::shared_ptr<ApiServer> api, HttpServerOptions opts)
    : impl_(std::make_unique<Impl>()), tls_(opts.tls_cert_pem.has_value()), address_(opts.address) {
  impl_->api = std::move(api);
  if (opts.tls_cert_pem) {
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->use_certificate_chain(asio::buffer(*opts.tls_cert_pem));
    impl_->tls->use_private_key(asio::buffer(*opts.tls_key_pem), ssl::context::pem);
  }
  beast::error_code ec;
  auto addr = asio::ip::make_address(opts.address, ec);
  if (ec) throw std::runtime_error("listen address \"" + opts.address + "\" is not an IP address");
  tcp::endpoint ep(addr, static_cast<unsigned short>(opts.port));
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + opts.address + ":" + std::to_string(opts.port) + ": " + ec.message());
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] {
    for (;;) {
      beast::error_code aec;
      tcp::socket sock(impl_->ioc);
      impl_->acceptor.accept(sock, aec);
      if (impl_->stopping) return;
      if (aec) continue;
      std::lock_guard g(impl_->mu);
      impl_->threads.emplace_back([this, s = std::move(sock)]() mutable { impl_->handle(std::move(s)); });
    }
  });
}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://" + address_ + ":" + std::to_string(port_);
}

void HttpServer::drop_connections() {
  std::lock_guard g(impl_->mu);
  for (int fd : impl_->fds) ::shutdown(fd, SHUT_RDWR);
}

void HttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  // shutdown() wakes the blocked accept() (Linux fails it with EINVAL); the acceptor is
  // closed only once that thread is gone, as closing it under a running accept() is a data
  // race on the socket object (ThreadSanitizer reported it in Faults tests).
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
  std::vector<std::thread> threads;
  {
    std::lock_guard g(impl_->mu);
    for (int fd : impl_->fds) ::shutdown(fd, SHUT_RDWR);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

}  // namespace nonevent::sim
