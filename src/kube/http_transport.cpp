// The only Beast translation unit of the client: everything Beast/Asio/OpenSSL stays here.
#include <utility>  // before asio (Boost 1.74 with C++20 needs std::exchange declared)

#include "kube/http_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <vector>

#include "kube/rate_limiter.h"

namespace nonevent::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

void CancelToken::cancel() {
  cancelled_ = true;
  std::function<void()> fn;
  {
    std::lock_guard g(mu_);
    fn = canceller_;
  }
  if (fn) fn();
}

void CancelToken::set_canceller(std::function<void()> fn) {
  std::lock_guard g(mu_);
  canceller_ = std::move(fn);
}

void CancelToken::clear_canceller() {
  std::lock_guard g(mu_);
  canceller_ = nullptr;
}

namespace {

struct ServerUrl {
  bool tls = true;
  std::string host;
  std::string port;
  std::string base_path;  // e.g. "/k8s/clusters/c-1" behind a proxy; usually empty
};

ServerUrl parse_server(const std::string& server) {
  ServerUrl u;
  std::string rest;
  if (server.rfind("https://", 0) == 0) {
    rest = server.substr(8);
  } else if (server.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = server.substr(7);
  } else {
    throw ConfigError("server \"" + server + "\": must start with https:// or http://");
  }
  const auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) u.base_path = rest.substr(slash);
  while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  if (!hostport.empty() && hostport.front() == '[') {  // [IPv6]:port
    const auto close = hostport.find(']');
    if (close == std::string::npos) throw ConfigError("server \"" + server + "\": bad IPv6 host");
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      u.port = hostport.substr(close + 2);
  } else {
    const auto colon = hostport.rfind(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string::npos) u.port = hostport.substr(colon + 1);
  }
  if (u.host.empty()) throw ConfigError("server \"" + server + "\": no host");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool is_safe(const std::string& method) { return method == "GET" || method == "HEAD"; }

std::optional<std::chrono::seconds> parse_retry_after(beast::string_view v) {
  if (v.empty()) return std::nullopt;
  long secs = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return std::nullopt;  // HTTP-dates are not used by kube-apiserver
    secs = secs * 10 + (ch - '0');
    if (secs > 86400) break;
  }
  return std::chrono::seconds(secs);
}

}  // namespace

// One keep-alive connection, driven by whichever thread holds it. Each has its own
// io_context so async operations (which carry the timeouts) can run to completion on the
// calling thread; another thread may only post() into it (cancellation).
class Connection {
 public:
  Connection(const ServerUrl& url, ssl::context* tls_ctx, const std::string& sni)
      : url_(url), tls_ctx_(tls_ctx), sni_(sni) {}

  ~Connection() { close(); }

  bool open() const { return open_; }
  bool reused() const { return uses_ > 0; }
  asio::io_context& io() { return ioc_; }

  std::optional<std::string> connect(std::chrono::milliseconds timeout) {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    tcp::resolver::results_type results;
    resolver.async_resolve(url_.host, url_.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             results = std::move(r);
                           });
    run();
    if (ec) return "cannot resolve " + url_.host + ": " + ec.message();
    if (tls_ctx_) {
      tls_.emplace(ioc_, *tls_ctx_);
    } else {
      tcp_.emplace(ioc_);
    }
    auto& low = lowest();
    low.expires_after(timeout);
    low.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec) return "cannot connect to " + url_.host + ":" + url_.port + ": " + ec.message();
    low.socket().set_option(tcp::no_delay(true));
    if (tls_) {
      const std::string& name = sni_.empty() ? url_.host : sni_;
      SSL* ssl_handle = tls_->native_handle();
      boost::system::error_code addr_ec;
      asio::ip::make_address(name, addr_ec);
      const bool name_is_ip = !addr_ec;
      // SSL_set_tlsext_host_name is a macro with an old-style cast; call what it expands to.
      if (!name_is_ip)
        SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str()));
      // Verify the certificate against the expected name (IP SANs for IP addresses).
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (name_is_ip) X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      else X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      low.expires_after(timeout);
      tls_->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      run();
      if (ec) {
        std::string why = ec.message();
        const long verify = SSL_get_verify_result(ssl_handle);
        if (verify != X509_V_OK) {
          why = std::string("certificate verify failed: ") +
                X509_verify_cert_error_string(verify);
          if (verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
              verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
              verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
              verify == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
            why += " (the server's certificate is not signed by the configured certificate-authority)";
          else if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
            why += " (the certificate does not name " + name + "; set tls-server-name?)";
        } else if (auto more = openssl_errors(); !more.empty()) {
          why += " (" + more + ")";
        }
        return "TLS handshake with " + url_.host + ":" + url_.port + " failed: " + why;
      }
    }
    open_ = true;
    return std::nullopt;
  }

  // Writes the request and reads the whole response.
  beast::error_code round_trip(http::request<http::string_body>& req,
                               http::response<http::string_body>& res,
                               std::chrono::milliseconds timeout) {
    ++uses_;
    beast::error_code ec = write(req, timeout);
    if (ec) return ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{4} << 30);
    lowest().expires_after(timeout);
    with_stream([&](auto& s) {
      http::async_read(s, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    });
    run();
    if (ec) return ec;
    res = parser.release();
    if (!res.keep_alive()) close();
    return ec;
  }

  beast::error_code write(http::request<http::string_body>& req, std::chrono::milliseconds timeout) {
    beast::error_code ec;
    lowest().expires_after(timeout);
    with_stream([&](auto& s) {
      http::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; });
    });
    run();
    return ec;
  }

  // Reads the response head, then the body piece by piece into on_data.
  beast::error_code stream(http::request<http::string_body>& req, int& status,
                           std::string& content_type, std::optional<std::chrono::seconds>& ra,
                           std::string& error_body, const std::function<bool(std::string_view)>& on_data,
                           std::chrono::milliseconds timeout) {
    ++uses_;
    beast::error_code ec = write(req, timeout);
    if (ec) return ec;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // a watch never ends by size
    lowest().expires_after(timeout);
    with_stream([&](auto& s) {
      http::async_read_header(s, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    });
    run();
    if (ec) return ec;
    status = static_cast<int>(parser.get().result_int());
    content_type = std::string(parser.get()[http::field::content_type]);
    ra = parse_retry_after(parser.get()[http::field::retry_after]);
    const bool ok = status >= 200 && status < 300;
    std::vector<char> buf(64 * 1024);
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      lowest().expires_after(timeout);
      // read_some, not read: a watch event must be handed on as soon as it arrives, not
      // when 64 KB have accumulated.
      with_stream([&](auto& s) {
        http::async_read_some(s, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
      });
      run();
      if (ec == http::error::need_buffer) ec = {};
      // Deliver what arrived even when the same read then hit an error (a dropped watch).
      const size_t n = buf.size() - parser.get().body().size;
      if (n > 0) {
        if (!ok) {
          if (error_body.size() < 64 * 1024) error_body.append(buf.data(), n);
        } else if (!on_data(std::string_view(buf.data(), n))) {
          close();
          return {};
        }
      }
      if (ec) break;
    }
    if (!ec && !parser.get().keep_alive()) close();
    if (ec) close();
    return ec;
  }

  void cancel_from_other_thread() {
    asio::post(ioc_, [this] { close(); });
  }

  void close() {
    if (!open_ && !tcp_ && !tls_) return;
    open_ = false;
    beast::error_code ignored;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    if (tcp_) tcp_->socket().close(ignored);
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) f(*tls_);
    else f(*tcp_);
  }

  void run() {
    ioc_.restart();
    ioc_.run();
  }

  const ServerUrl url_;
  ssl::context* tls_ctx_;
  const std::string sni_;
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> tcp_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bool open_ = false;
  int uses_ = 0;
};

struct HttpTransport::Impl {
  ServerUrl url;
  std::shared_ptr<CredentialSource> creds;
  TokenBucket limiter;
  std::mutex mu;
  std::unique_ptr<ssl::context> tls_ctx;              // guarded by mu
  std::string tls_client_cert;                        // guarded by mu: cert tls_ctx was built with
  std::vector<std::unique_ptr<Connection>> idle;      // guarded by mu
  static constexpr size_t kMaxIdle = 16;

  Impl(const RestConfig& c, std::shared_ptr<Clock> clock)
      : url(parse_server(c.server)),
        creds(make_credential_source(c, clock)),
        limiter(c.qps, c.burst, std::move(clock)) {}

  // Builds (or rebuilds when an exec plugin hands out a new client certificate) the context.
  ssl::context* tls_context(const RestConfig& c, const Credentials& cr) {
    if (!url.tls) return nullptr;
    const std::string& cert = cr.client_cert_pem.empty() ? c.client_cert_pem : cr.client_cert_pem;
    const std::string& key = cr.client_key_pem.empty() ? c.client_key_pem : cr.client_key_pem;
    std::lock_guard g(mu);
    if (tls_ctx && tls_client_cert == cert) return tls_ctx.get();
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    try {
      if (c.insecure_skip_tls_verify) {
        ctx->set_verify_mode(ssl::verify_none);
      } else {
        ctx->set_verify_mode(ssl::verify_peer);
        if (!c.ca_pem.empty()) ctx->add_certificate_authority(asio::buffer(c.ca_pem));
        else ctx->set_default_verify_paths();
      }
      if (!cert.empty()) {
        ctx->use_certificate_chain(asio::buffer(cert));
        ctx->use_private_key(asio::buffer(key), ssl::context::pem);
      }
    } catch (const boost::system::system_error& e) {
      throw ConfigError("TLS configuration for " + c.server + ": " + e.what());
    }
    tls_ctx = std::move(ctx);
    tls_client_cert = cert;
    idle.clear();  // old connections carry the old client certificate
    return tls_ctx.get();
  }

  std::unique_ptr<Connection> take_idle() {
    std::lock_guard g(mu);
    if (idle.empty()) return nullptr;
    auto c = std::move(idle.back());
    idle.pop_back();
    return c;
  }

  void give_back(std::unique_ptr<Connection> c) {
    if (!c || !c->open()) return;
    std::lock_guard g(mu);
    if (idle.size() < kMaxIdle) idle.push_back(std::move(c));
  }
};

HttpTransport::HttpTransport(RestConfig config, std::shared_ptr<Clock> clock)
    : config_(std::move(config)), clock_(std::move(clock)),
      impl_(std::make_unique<Impl>(config_, clock_)) {
  // Build the TLS context now so bad CA or client key material fails at start-up.
  if (impl_->url.tls) impl_->tls_context(config_, Credentials{});
}

HttpTransport::~HttpTransport() = default;

namespace {

http::request<http::string_body> build_request(const HttpRequest& r, const std::string& host,
                                               const std::string& base_path,
                                               const std::string& user_agent,
                                               const Credentials& cr) {
  http::request<http::string_body> req;
  req.method_string(r.method);
  req.target(base_path + r.target);
  req.version(11);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, user_agent);
  req.set(http::field::accept, r.accept);
  if (!cr.bearer_token.empty()) req.set(http::field::authorization, "Bearer " + cr.bearer_token);
  else if (!cr.basic_auth.empty())
    req.set(http::field::authorization, "Basic " + base64_encode(cr.basic_auth));
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    req.set(http::field::content_type, r.content_type.empty() ? "application/json" : r.content_type);
    req.body() = r.body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

}  // namespace

Result<HttpResponse> HttpTransport::send(const HttpRequest& r) {
  const auto timeout = r.timeout.count() > 0 ? r.timeout : config_.request_timeout;
  bool reauthed = false;
  int retry_after_attempts = 0;
  for (int attempt = 0;; ++attempt) {
    impl_->limiter.acquire();
    auto cr = impl_->creds->get();
    if (!cr.ok()) return cr.error();
    ssl::context* ctx = impl_->tls_context(config_, cr.value());
    auto conn = impl_->take_idle();
    const bool pooled = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<Connection>(impl_->url, ctx, config_.tls_server_name);
      if (auto err = conn->connect(timeout)) return ApiError::transport(*err);
      ++stats_.connections_opened;
    }
    ++stats_.requests;
    auto req = build_request(r, impl_->url.host, impl_->url.base_path, config_.user_agent, cr.value());
    http::response<http::string_body> res;
    const auto ec = conn->round_trip(req, res, timeout);
    if (ec) {
      // A pooled keep-alive connection the server already closed: retry once on a new one
      // when that cannot repeat a side effect (safe method, or nothing was answered at all).
      if (pooled && attempt == 0 && (is_safe(r.method) || ec == http::error::end_of_stream ||
                                     ec == asio::error::connection_reset ||
                                     ec == asio::error::eof)) {
        ++stats_.retries;
        continue;
      }
      if (ec == beast::error::timeout)
        return ApiError::transport(r.method + " " + r.target + ": timed out after " +
                                   std::to_string(timeout.count()) + "ms");
      return ApiError::transport(r.method + " " + r.target + ": " + ec.message());
    }
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.retry_after = parse_retry_after(res[http::field::retry_after]);
    out.body = std::move(res.body());
    impl_->give_back(std::move(conn));
    if (out.status == 401 && !reauthed) {
      // Rotated token or expired exec credential: fetch anew and try once more.
      impl_->creds->invalidate();
      reauthed = true;
      ++stats_.retries;
      continue;
    }
    if ((out.status == 429 || out.status >= 500) && out.retry_after && is_safe(r.method) &&
        retry_after_attempts < 10) {
      ++retry_after_attempts;
      ++stats_.retries;
      clock_->sleep_for(std::min<Duration>(*out.retry_after, std::chrono::seconds(60)));
      continue;
    }
    return out;
  }
}

Result<HttpResponse> HttpTransport::stream(const HttpRequest& r,
                                           const std::function<bool(std::string_view)>& on_data,
                                           CancelToken* cancel) {
  const auto timeout = r.timeout.count() > 0 ? r.timeout : config_.request_timeout;
  impl_->limiter.acquire();
  auto cr = impl_->creds->get();
  if (!cr.ok()) return cr.error();
  ssl::context* ctx = impl_->tls_context(config_, cr.value());
  // Streams get their own connection: it is held for minutes and closed at the end.
  auto conn = std::make_unique<Connection>(impl_->url, ctx, config_.tls_server_name);
  if (cancel && cancel->cancelled()) return ApiError::transport("cancelled");
  if (auto err = conn->connect(timeout)) return ApiError::transport(*err);
  ++stats_.connections_opened;
  ++stats_.requests;
  if (cancel) cancel->set_canceller([c = conn.get()] { c->cancel_from_other_thread(); });
  auto req = build_request(r, impl_->url.host, impl_->url.base_path, config_.user_agent, cr.value());
  HttpResponse out;
  std::string error_body;
  const auto ec = conn->stream(req, out.status, out.content_type, out.retry_after, error_body,
                               on_data, timeout);
  if (cancel) cancel->clear_canceller();
  if (out.status == 401) impl_->creds->invalidate();
  if (cancel && cancel->cancelled()) return ApiError::transport("cancelled");
  if (ec) {
    if (ec == beast::error::timeout)
      return ApiError::transport(r.method + " " + r.target + ": stream idle for " +
                                 std::to_string(timeout.count()) + "ms");
    return ApiError::transport(r.method + " " + r.target + ": " + ec.message());
  }
  out.body = std::move(error_body);
  return out;
}

}  // namespace nonevent::kube
