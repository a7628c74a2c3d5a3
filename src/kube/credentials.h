#pragma once
// How each request authenticates. A CredentialSource is asked before every request (cheap:
// it caches) and told when the server answered 401 so that a rotated token or an expired
// exec credential is fetched again.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kube/api_error.h"
#include "kube/clock.h"
#include "kube/rest_config.h"

namespace nonevent::kube {

struct Credentials {
  std::string bearer_token;
  std::string basic_auth;       // "user:password", base64-encoded when sent
  std::string client_cert_pem;  // from an exec plugin; static certs live in RestConfig
  std::string client_key_pem;
};

// Thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  virtual Result<Credentials> get() = 0;
  // The server rejected the credentials: drop any cache so the next get() fetches anew.
  virtual void invalidate() {}
};

// Picks the source a RestConfig describes: exec plugin, token file, static token, basic auth.
std::shared_ptr<CredentialSource> make_credential_source(const RestConfig& config,
                                                         std::shared_ptr<Clock> clock);

// Re-reads the file at most once a minute (client-go's cachingTokenSource period), so a
// rotated projected service-account token is picked up without a restart.
class TokenFileSource final : public CredentialSource {
 public:
  TokenFileSource(std::string path, std::shared_ptr<Clock> clock);
  Result<Credentials> get() override;
  void invalidate() override;

 private:
  const std::string path_;
  const std::shared_ptr<Clock> clock_;
  std::mutex mu_;
  std::string token_;            // guarded by mu_
  std::optional<TimePoint> read_at_;  // guarded by mu_
};

// Runs a client.authentication.k8s.io exec plugin and caches its ExecCredential until
// status.expirationTimestamp (forever when absent, until invalidate()).
class ExecCredentialSource final : public CredentialSource {
 public:
  ExecCredentialSource(ExecConfig exec, std::string server, std::string ca_pem,
                       std::shared_ptr<Clock> clock);
  Result<Credentials> get() override;
  void invalidate() override;
  int runs() const;  // how many times the plugin ran (tests check the cache)

 private:
  Result<Credentials> run_plugin();
  const ExecConfig exec_;
  const std::string server_, ca_pem_;
  const std::shared_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::optional<Credentials> cached_;   // guarded by mu_
  std::optional<TimePoint> expires_;    // guarded by mu_
  int runs_ = 0;                        // guarded by mu_
};

}  // namespace nonevent::kube
