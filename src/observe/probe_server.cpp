#include <utility>  // before asio (Boost 1.74 with C++20)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "observe/probe_server.h"

#include <prometheus/text_serializer.h>

#include <stdexcept>
#include <type_traits>
#include <thread>

namespace nonevent::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One request per connection is all probes and scrapers need; each connection gets a few
// seconds, so a stuck client cannot hold the endpoint. Stream is a plain TCP stream or TLS
// over one.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, const ProbeServer& server, const ProbeServerOptions& opts, asio::thread_pool& gate)
      : stream_(std::move(stream)), server_(server), opts_(opts), gate_(gate) {}
  void start() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->read();
      });
    } else {
      read();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void read() {
    http::async_read(stream_, buffer_, request_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->route();
    });
  }
  void route() {
    std::string target(request_.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    const bool read_only = request_.method() == http::verb::get || request_.method() == http::verb::head;
    if (!read_only) return respond({405, "text/plain", "method not allowed\n"});
    if (target == "/metrics" && !opts_.serve_metrics)
      return respond({404, "text/plain", "not found: /metrics is served on the metrics port\n"});
    if (target != "/metrics" || !opts_.authorize_metrics) return respond(server_.answer(target));
    // The gate may wait on the API server: off this thread, so probes keep answering.
    asio::post(gate_, [self = this->shared_from_this(), target] {
      const auto access = self->opts_.authorize_metrics(std::string(self->request_[http::field::authorization]), "get");
      auto a = access.status == 200 ? self->server_.answer(target)
                                    : ProbeServer::Answer{access.status, "text/plain", access.reason + "\n"};
      asio::post(self->stream_.get_executor(), [self, a = std::move(a)]() mutable { self->respond(std::move(a)); });
    });
  }
  void respond(ProbeServer::Answer a) {
    response_.result(static_cast<unsigned>(a.status));
    response_.set(http::field::content_type, a.content_type);
    if (a.status == 401) response_.set(http::field::www_authenticate, "Bearer");
    response_.keep_alive(false);
    if (request_.method() != http::verb::head) response_.body() = std::move(a.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code, size_t) { self->close(); });
  }
  void close() {
    if constexpr (kTls) {
      // close_notify, so a TLS client reads the end of the answer as an end, not a truncation.
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }
  Stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const ProbeServer& server_;
  const ProbeServerOptions& opts_;
  asio::thread_pool& gate_;
};

}  // namespace

struct ProbeServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<asio::ssl::context> tls;
  asio::thread_pool gate{2};  // the /metrics gate's API calls
  std::thread thread;
  const ProbeServer* owner = nullptr;
  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed
      if (tls)
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls), *owner, owner->opts_, gate)
            ->start();
      else
        std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), *owner, owner->opts_, gate)->start();
      accept();
    });
  }
};

ProbeServer::ProbeServer(ProbeServerOptions opts) : opts_(std::move(opts)), impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
  if (opts_.tls) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                            asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    impl_->tls->use_certificate_chain(asio::buffer(opts_.tls->cert_pem), ec);
    if (ec) throw std::runtime_error("metrics TLS certificate: " + ec.message());
    impl_->tls->use_private_key(asio::buffer(opts_.tls->key_pem), asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("metrics TLS key: " + ec.message());
  }
  const auto colon = opts_.bind_address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("bind address \"" + opts_.bind_address + "\": want host:port, e.g. :8080");
  std::string host = opts_.bind_address.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  int port = -1;
  try {
    port = std::stoi(opts_.bind_address.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (ec || port < 0 || port > 65535) throw std::runtime_error("bind address \"" + opts_.bind_address + "\": not host:port");
  tcp::endpoint ep(address, static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + opts_.bind_address + ": " + ec.message());
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

ProbeServer::~ProbeServer() { stop(); }

int ProbeServer::port() const { return impl_->acceptor.is_open() ? impl_->acceptor.local_endpoint().port() : 0; }

void ProbeServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->ioc.stop();
  impl_->thread.join();
  impl_->gate.join();
}

ProbeServer::Answer ProbeServer::answer(const std::string& path) const {
  if (path == "/metrics") {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& c : opts_.collectables)
      for (auto& f : c->Collect()) families.push_back(std::move(f));
    return {200, "text/plain; version=0.0.4; charset=utf-8", prometheus::TextSerializer().Serialize(families)};
  }
  if (path == "/healthz" || path == "/livez") {
    const bool ok = !opts_.healthy || opts_.healthy();
    return {ok ? 200 : 500, "text/plain", ok ? "ok\n" : "unhealthy\n"};
  }
  if (path == "/readyz") {
    const bool ok = !opts_.ready || opts_.ready();
    return {ok ? 200 : 503, "text/plain", ok ? "ok\n" : "not ready: caches not synced\n"};
  }
  return {404, "text/plain", "not found: try /metrics, /healthz or /readyz\n"};
}

}  // namespace nonevent::observe
