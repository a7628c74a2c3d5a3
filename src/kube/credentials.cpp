#include "kube/credentials.h"

#include <cpprest/json.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace nonevent::kube {

namespace {

class StaticSource final : public CredentialSource {
 public:
  explicit StaticSource(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> get() override { return c_; }

 private:
  const Credentials c_;
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::shared_ptr<CredentialSource> make_credential_source(const RestConfig& config,
                                                         std::shared_ptr<Clock> clock) {
  if (config.exec)
    return std::make_shared<ExecCredentialSource>(*config.exec, config.server, config.ca_pem,
                                                  std::move(clock));
  if (!config.token_file.empty() && config.token.empty())
    return std::make_shared<TokenFileSource>(config.token_file, std::move(clock));
  Credentials c;
  c.bearer_token = config.token;
  if (!config.username.empty()) c.basic_auth = config.username + ":" + config.password;
  return std::make_shared<StaticSource>(std::move(c));
}

TokenFileSource::TokenFileSource(std::string path, std::shared_ptr<Clock> clock)
    : path_(std::move(path)), clock_(std::move(clock)) {}

Result<Credentials> TokenFileSource::get() {
  std::lock_guard g(mu_);
  const auto now = clock_->now();
  if (!read_at_ || now - *read_at_ >= std::chrono::minutes(1)) {
    std::ifstream in(path_);
    if (!in) {
      if (token_.empty()) return ApiError::transport("cannot read token file " + path_);
      // Keep the last good token while the file is briefly absent during rotation.
    } else {
      std::ostringstream ss;
      ss << in.rdbuf();
      token_ = trim(ss.str());
      read_at_ = now;
    }
  }
  Credentials c;
  c.bearer_token = token_;
  return c;
}

void TokenFileSource::invalidate() {
  std::lock_guard g(mu_);
  read_at_.reset();
}

ExecCredentialSource::ExecCredentialSource(ExecConfig exec, std::string server,
                                           std::string ca_pem, std::shared_ptr<Clock> clock)
    : exec_(std::move(exec)),
      server_(std::move(server)),
      ca_pem_(std::move(ca_pem)),
      clock_(std::move(clock)) {}

Result<Credentials> ExecCredentialSource::get() {
  std::lock_guard g(mu_);
  if (cached_ && (!expires_ || clock_->now() < *expires_)) return *cached_;
  auto r = run_plugin();
  if (r.ok()) cached_ = r.value();
  return r;
}

void ExecCredentialSource::invalidate() {
  std::lock_guard g(mu_);
  cached_.reset();
  expires_.reset();
}

int ExecCredentialSource::runs() const {
  std::lock_guard g(mu_);
  return runs_;
}

// Caller holds mu_.
Result<Credentials> ExecCredentialSource::run_plugin() {
  ++runs_;
  // KUBERNETES_EXEC_INFO tells the plugin which API version to answer in (and the cluster).
  web::json::value info = web::json::value::object();
  info["apiVersion"] = web::json::value::string(exec_.api_version);
  info["kind"] = web::json::value::string("ExecCredential");
  web::json::value spec = web::json::value::object();
  spec["interactive"] = web::json::value::boolean(false);
  if (exec_.provide_cluster_info) {
    web::json::value cluster = web::json::value::object();
    cluster["server"] = web::json::value::string(server_);
    if (!ca_pem_.empty())
      cluster["certificate-authority-data"] = web::json::value::string(base64_encode(ca_pem_));
    spec["cluster"] = cluster;
  }
  info["spec"] = spec;

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& [k, v] : exec_.env) env_store.push_back(k + "=" + v);
  env_store.push_back("KUBERNETES_EXEC_INFO=" + info.serialize());
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_store{exec_.command};
  arg_store.insert(arg_store.end(), exec_.args.begin(), exec_.args.end());
  std::vector<char*> argv;
  for (auto& s : arg_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return ApiError::transport("exec plugin: pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, exec_.command.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    std::string msg = "exec plugin " + exec_.command + ": cannot start: " + std::strerror(rc);
    if (!exec_.install_hint.empty()) msg += " (" + exec_.install_hint + ")";
    return ApiError::transport(msg);
  }
  std::string out;
  char buf[4096];
  // Bounded: a plugin that hangs for more than a minute or floods stdout is an error.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    pollfd p{out_pipe[0], POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    const auto n = read(out_pipe[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1U << 20)) {
      kill(pid, SIGKILL);
      break;
    }
  }
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return ApiError::transport("exec plugin " + exec_.command + " failed (exit status " +
                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  std::error_code ec;
  const auto cred = web::json::value::parse(out, ec);
  if (ec || !cred.is_object() || !cred.has_field("status") || !cred.at("status").is_object())
    return ApiError::transport("exec plugin " + exec_.command +
                               ": output is not an ExecCredential with a status");
  if (cred.has_field("apiVersion") && cred.at("apiVersion").is_string() &&
      cred.at("apiVersion").as_string() != exec_.api_version)
    return ApiError::transport("exec plugin " + exec_.command + ": answered apiVersion " +
                               cred.at("apiVersion").as_string() + ", expected " +
                               exec_.api_version);
  const auto& st = cred.at("status");
  auto field = [&](const char* k) {
    return st.has_field(k) && st.at(k).is_string() ? st.at(k).as_string() : std::string{};
  };
  Credentials c;
  c.bearer_token = field("token");
  c.client_cert_pem = field("clientCertificateData");
  c.client_key_pem = field("clientKeyData");
  if (c.bearer_token.empty() && c.client_cert_pem.empty())
    return ApiError::transport("exec plugin " + exec_.command +
                               ": status has neither token nor clientCertificateData");
  if (auto exp = field("expirationTimestamp"); !exp.empty()) {
    auto t = parse_rfc3339(exp);
    if (!t)
      return ApiError::transport("exec plugin " + exec_.command +
                                 ": status.expirationTimestamp is not RFC 3339: " + exp);
    expires_ = *t;
  } else {
    expires_.reset();
  }
  return c;
}

}  // namespace nonevent::kube
