#include <utility>  // before asio (Boost 1.74 with C++20)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "observe/probe_server.h"

#include <prometheus/text_serializer.h>

#include <stdexcept>
#include <thread>

namespace nonevent::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One request per connection is all probes and scrapers need; each connection gets a few
// seconds, so a stuck client cannot hold the endpoint.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ProbeServer& server) : stream_(std::move(socket)), server_(server) {}
  void start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->respond();
    });
  }

 private:
  void respond() {
    std::string target(request_.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    auto a = request_.method() == http::verb::get || request_.method() == http::verb::head
                 ? server_.answer(target)
                 : ProbeServer::Answer{405, "text/plain", "method not allowed\n"};
    response_.result(static_cast<unsigned>(a.status));
    response_.set(http::field::content_type, a.content_type);
    response_.keep_alive(false);
    if (request_.method() != http::verb::head) response_.body() = std::move(a.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const ProbeServer& server_;
};

}  // namespace

struct ProbeServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  const ProbeServer* owner = nullptr;
  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed
      std::make_shared<Session>(std::move(socket), *owner)->start();
      accept();
    });
  }
};

ProbeServer::ProbeServer(ProbeServerOptions opts) : opts_(std::move(opts)), impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
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
