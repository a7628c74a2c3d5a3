#pragma once
// Who may read the operator's /metrics when it is served securely (`--metrics-secure`): the
// caller's bearer token is reviewed by the API server (TokenReview), then the user it names is
// asked about (SubjectAccessReview: may it GET this non-resource path?), as controller-runtime's
// secure metrics filter and kube-rbac-proxy do. The cluster's own RBAC decides, so a Prometheus
// is let in by binding its ServiceAccount to the chart's metrics-reader ClusterRole.
//
// Answers are cached as controller-runtime caches them (a reviewed token for a minute, an
// allowed user for five, a refusal for thirty seconds), so a scrape every few seconds costs
// the API server nothing after the first. A failure to reach the API server is never a pass:
// it answers 500 and is not cached.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cpprest/json.h>

#include "kube/rest_client.h"
#include "observe/probe_server.h"

namespace nonevent::observe {

struct DelegatedAccessOptions {
  std::chrono::steady_clock::duration token_ttl = std::chrono::minutes(1);
  std::chrono::steady_clock::duration allow_ttl = std::chrono::minutes(5);
  std::chrono::steady_clock::duration deny_ttl = std::chrono::seconds(30);
  size_t max_cached = 4096;  // past this the caches start again (a flood of made-up tokens)
};

class DelegatedAccess {
 public:
  DelegatedAccess(std::shared_ptr<kube::RestClient> client, DelegatedAccessOptions opts = {});
  // `authorization` is the request's Authorization header ("Bearer <token>"); verb is the
  // HTTP method's RBAC verb (get for GET and HEAD). Blocks while it asks the API server.
  // 200 allowed; 401 no token or one the API server does not know; 403 RBAC says no; 500 the
  // API server could not be asked. The reason is said to the caller.
  ProbeAccess check(std::string_view authorization, const std::string& path, const std::string& verb = "get");

  // API calls made (what the caches save; tests read it).
  int reviews_made() const;

 private:
  struct User {
    std::string name, uid;
    std::vector<std::string> groups;
  };
  struct TokenEntry {
    bool authenticated = false;
    User user;
    std::string error;
    std::chrono::steady_clock::time_point expires;
  };
  struct DecisionEntry {
    bool allowed = false;
    std::string reason;
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<web::json::value> ask(const kube::GroupVersionResource& review, const web::json::value& body, std::string& failure);
  static std::string decision_key(const User& user, const std::string& path, const std::string& verb);
  std::optional<TokenEntry> review_token(const std::string& token, std::string& failure);
  std::optional<DecisionEntry> review_access(const User& user, const std::string& path, const std::string& verb,
                                             std::string& failure);

  std::shared_ptr<kube::RestClient> client_;
  DelegatedAccessOptions opts_;
  mutable std::mutex mu_;
  std::map<std::string, TokenEntry> tokens_;
  std::map<std::string, DecisionEntry> decisions_;
  int reviews_ = 0;
};

}  // namespace nonevent::observe
