#include "sim/authentication.h"

#include <random>

namespace nonevent::sim {

UserInfo Authenticator::admin() { return {"system:admin", {"system:masters", "system:authenticated"}, ""}; }

UserInfo Authenticator::service_account(const std::string& ns, const std::string& name, const std::string& uid) {
  return {"system:serviceaccount:" + ns + ":" + name, {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}, uid};
}

std::string Authenticator::issue(const std::string& ns, const std::string& service_account_name, const std::string& sa_uid) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string token = "sa.";
  for (int i = 0; i < 40; ++i) token += hex[rng() % 16];
  std::lock_guard g(mu_);
  issued_[token] = service_account(ns, service_account_name, sa_uid);
  return token;
}

std::optional<UserInfo> Authenticator::user_of(const std::string& token) const {
  if (token.empty()) return std::nullopt;
  if (token == admin_token_) return admin();
  std::lock_guard g(mu_);
  auto it = issued_.find(token);
  if (it == issued_.end()) return std::nullopt;
  return it->second;
}

std::optional<UserInfo> Authenticator::authenticate(const std::string& authorization) const {
  if (!enabled()) return admin();
  static const std::string kBearer = "Bearer ";
  if (authorization.compare(0, kBearer.size(), kBearer) != 0) return std::nullopt;
  return user_of(authorization.substr(kBearer.size()));
}

}  // namespace nonevent::sim
