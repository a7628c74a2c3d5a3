// The authentication and authorization APIs of the embedded cluster (authentication.h,
// rbac_authorizer.h): TokenRequest (`kubectl create token SA`, how a test runs the operator
// as the chart's ServiceAccount), TokenReview and SubjectAccessReview (what a secure metrics
// endpoint asks about its callers). Each is a create that stores nothing.
#include "kube/clock.h"
#include "sim/api_request_util.h"
#include "sim/api_server.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace detail;

ApiResponse ApiServer::token_request(const ApiRequest& req, const Target& t) {
  auto sa = store_->get(t.type->key(), t.ns, t.name);
  if (!sa) return error_response(404, "NotFound", "serviceaccounts \"" + t.name + "\" not found", R"({"name":")" + t.name + R"(","kind":"serviceaccounts"})");
  auto body = parse_body(req);
  if (!body.ok()) return from_error(body.error());
  value in = std::move(body.value());
  std::error_code ec;
  const value account = value::parse(sa->json, ec);
  int64_t seconds = 3600;
  if (const value* e = json::at(in, {"spec", "expirationSeconds"}); e && e->is_number()) seconds = e->as_number().to_int64();
  if (seconds < 600)
    return error_response(422, "Invalid", "TokenRequest.authentication.k8s.io \"" + t.name +
                                              "\" is invalid: spec.expirationSeconds: Invalid value: " + std::to_string(seconds) +
                                              ": may not specify a duration less than 10 minutes");
  value out = value::object();
  out["kind"] = value::string("TokenRequest");
  out["apiVersion"] = value::string("authentication.k8s.io/v1");
  out["metadata"]["name"] = value::string(t.name);
  out["metadata"]["namespace"] = value::string(t.ns);
  out["metadata"]["creationTimestamp"] = value::string(kube::format_rfc3339(clock_->now()));
  out["spec"] = in.has_field("spec") ? in.at("spec") : value::object();
  out["spec"]["expirationSeconds"] = value::number(seconds);
  if (!out["spec"].has_field("audiences")) out["spec"]["audiences"] = value::array();
  out["status"]["token"] = value::string(authn_.issue(t.ns, t.name, json::str(account, {"metadata", "uid"})));
  out["status"]["expirationTimestamp"] = value::string(kube::format_rfc3339(clock_->now() + std::chrono::seconds(seconds)));
  return json_response(201, out);
}

ApiResponse ApiServer::review(const ApiRequest& req, const Target& t) {
  auto body = parse_body(req);
  if (!body.ok()) return from_error(body.error());
  value out = std::move(body.value());
  out["kind"] = value::string(t.type->kind);
  out["apiVersion"] = value::string(t.type->api_version());
  if (!out.has_field("metadata")) out["metadata"] = value::object();
  out["metadata"]["creationTimestamp"] = value::null();
  value status = value::object();
  if (t.type->resource == "tokenreviews") {
    const auto user = authn_.user_of(json::str(out, {"spec", "token"}));
    status["authenticated"] = value::boolean(user.has_value());
    if (user) {
      status["user"]["username"] = value::string(user->name);
      if (!user->uid.empty()) status["user"]["uid"] = value::string(user->uid);
      value groups = value::array();
      for (size_t i = 0; i < user->groups.size(); ++i) groups[i] = value::string(user->groups[i]);
      status["user"]["groups"] = groups;
    } else {
      status["error"] = value::string("invalid bearer token");
    }
    if (const value* a = json::at(out, {"spec", "audiences"})) status["audiences"] = *a;
  } else {  // subjectaccessreviews
    UserInfo user{json::str(out, {"spec", "user"}), {}, json::str(out, {"spec", "uid"})};
    if (const value* g = json::at(out, {"spec", "groups"}); g && g->is_array())
      for (const auto& x : g->as_array())
        if (x.is_string()) user.groups.push_back(x.as_string());
    RequestAttributes a;
    if (const value* r = json::at(out, {"spec", "resourceAttributes"}); r && r->is_object()) {
      a = {.verb = json::str(*r, {"verb"}), .group = json::str(*r, {"group"}), .resource = json::str(*r, {"resource"}),
           .subresource = json::str(*r, {"subresource"}), .ns = json::str(*r, {"namespace"}), .name = json::str(*r, {"name"})};
    } else {
      a = {.resource_request = false, .verb = json::str(out, {"spec", "nonResourceAttributes", "verb"}),
           .path = json::str(out, {"spec", "nonResourceAttributes", "path"})};
    }
    const bool allowed = !authz_ || authz_->allowed(user, a);
    status["allowed"] = value::boolean(allowed);
    if (!allowed) status["reason"] = value::string(RbacAuthorizer::forbidden_message(user, a));
  }
  out["status"] = status;
  return json_response(201, out);
}

}  // namespace nonevent::sim
