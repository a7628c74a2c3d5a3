#pragma once
// Small request and response helpers the ApiServer's files share (api_server.cpp,
// api_discovery.cpp, deletion.cpp, crd_registration.cpp). Not part of the server's interface.
#include <cpprest/json.h>

#include <string>

#include "kube/api_error.h"
#include "sim/api_server.h"

namespace nonevent::sim::detail {

inline ApiResponse json_response(int code, const web::json::value& v) {
  ApiResponse r;
  r.status = code;
  r.body = v.serialize();
  return r;
}
// With StatusDetails {name, group, kind} when the error names an object, as kube-apiserver's do.
inline ApiResponse from_error(const kube::ApiError& e) {
  if (e.details_name.empty() && e.details_kind.empty()) return error_response(e.code, e.reason, e.message);
  web::json::value d = web::json::value::object();
  d["name"] = web::json::value::string(e.details_name);
  if (!e.details_group.empty()) d["group"] = web::json::value::string(e.details_group);
  d["kind"] = web::json::value::string(e.details_kind);
  return error_response(e.code, e.reason, e.message, d.serialize());
}

// A string member, or "" when absent or not a string.
inline std::string str(const web::json::value& v, const char* k) {
  return v.is_object() && v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : "";
}

// The object a create or update sends: JSON, or protobuf (protobuf_body.h); 400/415 otherwise.
kube::Result<web::json::value> parse_body(const ApiRequest& req);

inline bool wants_table(const ApiRequest& req) { return req.header("accept").find("as=Table") != std::string::npos; }

inline std::string query(const ApiRequest& req, const std::string& k) {
  auto it = req.query.find(k);
  return it == req.query.end() ? "" : it->second;
}

// Booleans in queries parse as Go's strconv.ParseBool does ("true", "True", "1", ...): the
// Python client sends watch=True.
inline bool query_bool(const ApiRequest& req, const std::string& k) {
  const auto v = query(req, k);
  return v == "true" || v == "True" || v == "TRUE" || v == "1" || v == "t" || v == "T";
}

// Whether the object has finalizers left (its deletion waits for them).
inline bool has_finalizers(const web::json::value& obj) {
  return obj.has_field("metadata") && obj.at("metadata").has_field("finalizers") && obj.at("metadata").at("finalizers").is_array() &&
         obj.at("metadata").at("finalizers").size() > 0;
}

}  // namespace nonevent::sim::detail
