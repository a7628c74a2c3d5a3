#pragma once
// Who is asking: bearer tokens to users, as kube-apiserver's token authenticators do. The
// cluster's own token (the one `sim serve` writes into its kubeconfig, and the simulated
// components present) is the cluster admin, in group system:masters; tokens issued through
// the TokenRequest API (`kubectl create token SA`) are that ServiceAccount's. Thread-safe.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace nonevent::sim {

struct UserInfo {
  std::string name;  // "system:admin", "system:serviceaccount:<ns>:<name>"
  std::vector<std::string> groups;
  std::string uid;
};

class Authenticator {
 public:
  explicit Authenticator(std::string admin_token = "") : admin_token_(std::move(admin_token)) {}
  // Empty: authentication is off and every request is the admin's.
  const std::string& admin_token() const { return admin_token_; }
  bool enabled() const { return !admin_token_.empty(); }

  // A new token for a ServiceAccount (a random opaque string; clients never look inside).
  std::string issue(const std::string& ns, const std::string& service_account, const std::string& sa_uid);
  // The user a token is, or nothing (401). `authorization` is the header as sent.
  std::optional<UserInfo> authenticate(const std::string& authorization) const;
  // By token alone (TokenReview).
  std::optional<UserInfo> user_of(const std::string& token) const;

  static UserInfo admin();
  static UserInfo service_account(const std::string& ns, const std::string& name, const std::string& uid = "");

 private:
  std::string admin_token_;
  mutable std::mutex mu_;
  std::map<std::string, UserInfo> issued_;  // guarded by mu_
};

}  // namespace nonevent::sim
