#include "observe/delegated_access.h"

#include <cpprest/json.h>

#include "kube/log.h"

namespace nonevent::observe {

namespace {

using web::json::value;

const kube::GroupVersionResource kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews", false, "TokenReview"};
const kube::GroupVersionResource kAccessReviews{"authorization.k8s.io", "v1", "subjectaccessreviews", false, "SubjectAccessReview"};

std::string field(const value& v, std::initializer_list<const char*> path) {
  const value* at = &v;
  for (const char* k : path) {
    if (!at->is_object() || !at->has_field(k)) return {};
    at = &at->at(k);
  }
  return at->is_string() ? at->as_string() : std::string();
}

bool flag(const value& v, const char* a, const char* b) {
  return v.has_field(a) && v.at(a).has_field(b) && v.at(a).at(b).is_boolean() && v.at(a).at(b).as_bool();
}

}  // namespace

// A user's groups are part of who it is to RBAC: the same name in other groups is asked again.
std::string DelegatedAccess::decision_key(const User& user, const std::string& path, const std::string& verb) {
  std::string key = user.name;
  for (const auto& g : user.groups) key += "\n" + g;
  return key + "\n\n" + verb + " " + path;
}

DelegatedAccess::DelegatedAccess(std::shared_ptr<kube::RestClient> client, DelegatedAccessOptions opts)
    : client_(std::move(client)), opts_(opts) {}

int DelegatedAccess::reviews_made() const {
  std::lock_guard lock(mu_);
  return reviews_;
}

// One review: created (it stores nothing), counted, its answer parsed; `failure` says what went wrong.
std::optional<value> DelegatedAccess::ask(const kube::GroupVersionResource& review, const value& body, std::string& failure) {
  auto r = client_->create(review, "", body.serialize());
  {
    std::lock_guard lock(mu_);
    ++reviews_;
  }
  if (!r.ok()) {
    failure = review.kind + ": " + r.error().to_string();
    return std::nullopt;
  }
  std::error_code ec;
  value out = value::parse(r.value(), ec);
  if (ec) {
    failure = review.kind + ": the answer is not JSON";
    return std::nullopt;
  }
  return out;
}

ProbeAccess DelegatedAccess::check(std::string_view authorization, const std::string& path, const std::string& verb) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer)
    return {401, "Unauthorized: a bearer token is required (Authorization: Bearer <token>)"};
  const std::string token(authorization.substr(kBearer.size()));
  const auto now = std::chrono::steady_clock::now();

  std::optional<TokenEntry> who;
  {
    std::lock_guard lock(mu_);
    if (auto it = tokens_.find(token); it != tokens_.end() && it->second.expires > now) who = it->second;
  }
  if (!who) {
    std::string failure;
    who = review_token(token, failure);
    if (!who) return {500, "Authentication failed: " + failure};
  }
  if (!who->authenticated) return {401, "Unauthorized: " + (who->error.empty() ? "the token was not accepted" : who->error)};

  const std::string key = decision_key(who->user, path, verb);
  std::optional<DecisionEntry> decision;
  {
    std::lock_guard lock(mu_);
    if (auto it = decisions_.find(key); it != decisions_.end() && it->second.expires > now) decision = it->second;
  }
  if (!decision) {
    std::string failure;
    decision = review_access(who->user, path, verb, failure);
    if (!decision) return {500, "Authorization failed: " + failure};
  }
  if (!decision->allowed)
    return {403, "Forbidden: user \"" + who->user.name + "\" may not " + verb + " " + path +
                     (decision->reason.empty() ? "" : " (" + decision->reason + ")")};
  return {200, {}};
}

std::optional<DelegatedAccess::TokenEntry> DelegatedAccess::review_token(const std::string& token, std::string& failure) {
  value body = value::object();
  body["apiVersion"] = value::string("authentication.k8s.io/v1");
  body["kind"] = value::string("TokenReview");
  body["spec"]["token"] = value::string(token);
  const auto answer = ask(kTokenReviews, body, failure);
  if (!answer) {
    logging::error("metrics", "cannot review a caller's token: /metrics answers 500 until the API server answers",
                   {{"error", failure}});
    return std::nullopt;
  }
  const value& out = *answer;
  TokenEntry e;
  e.authenticated = flag(out, "status", "authenticated");
  e.error = field(out, {"status", "error"});
  e.user.name = field(out, {"status", "user", "username"});
  e.user.uid = field(out, {"status", "user", "uid"});
  if (out.has_field("status") && out.at("status").has_field("user") && out.at("status").at("user").has_field("groups"))
    for (const auto& g : out.at("status").at("user").at("groups").as_array())
      if (g.is_string()) e.user.groups.push_back(g.as_string());
  e.expires = std::chrono::steady_clock::now() + opts_.token_ttl;
  if (e.authenticated)
    logging::debug("metrics", "reviewed a caller's token", {{"user", e.user.name}});
  else
    logging::info("metrics", "refused /metrics: the token is not valid (401)", {{"error", e.error}});
  std::lock_guard lock(mu_);
  if (tokens_.size() >= opts_.max_cached) tokens_.clear();
  tokens_[token] = e;
  return e;
}

std::optional<DelegatedAccess::DecisionEntry> DelegatedAccess::review_access(const User& user, const std::string& path,
                                                                              const std::string& verb, std::string& failure) {
  value body = value::object();
  body["apiVersion"] = value::string("authorization.k8s.io/v1");
  body["kind"] = value::string("SubjectAccessReview");
  body["spec"]["user"] = value::string(user.name);
  if (!user.uid.empty()) body["spec"]["uid"] = value::string(user.uid);
  value groups = value::array();
  for (size_t i = 0; i < user.groups.size(); ++i) groups[i] = value::string(user.groups[i]);
  body["spec"]["groups"] = groups;
  body["spec"]["nonResourceAttributes"]["path"] = value::string(path);
  body["spec"]["nonResourceAttributes"]["verb"] = value::string(verb);
  const auto answer = ask(kAccessReviews, body, failure);
  if (!answer) {
    logging::error("metrics", "cannot ask whether a caller may read /metrics: it answers 500 until the API server answers",
                   {{"user", user.name}, {"error", failure}});
    return std::nullopt;
  }
  const value& out = *answer;
  DecisionEntry d;
  d.allowed = flag(out, "status", "allowed") && !flag(out, "status", "denied");
  d.reason = field(out, {"status", "reason"});
  d.expires = std::chrono::steady_clock::now() + (d.allowed ? opts_.allow_ttl : opts_.deny_ttl);
  if (d.allowed)
    logging::info("metrics", "allowed a caller to read /metrics", {{"user", user.name}, {"verb", verb}, {"path", path}});
  else
    logging::info("metrics", "refused /metrics: RBAC does not allow it (403)",
                        {{"user", user.name}, {"verb", verb}, {"path", path}, {"reason", d.reason}});
  std::lock_guard lock(mu_);
  if (decisions_.size() >= opts_.max_cached) decisions_.clear();
  decisions_[decision_key(user, path, verb)] = d;
  return d;
}

}  // namespace nonevent::observe
