// The scale subresource (kube-apiserver's pkg/registry/apps/deployment/storage ScaleREST and
// its ReplicaSet, StatefulSet and ReplicationController twins): an autoscaling/v1 Scale that
// views the object's spec.replicas, status.replicas and selector. Reading it, replacing it
// and patching it (kubectl scale sends a merge patch) change spec.replicas alone, through the
// object's own update path, so generation, validation and watches behave as for any write.
#include <cpprest/json.h>

#include "model/json_parse.h"

#include "sim/api_request_util.h"
#include "sim/api_server.h"
#include "sim/json_util.h"
#include "sim/patch.h"

namespace nonevent::sim {

using web::json::value;
using namespace detail;

namespace {

// metav1.FormatLabelSelector's text ("app=web,tier in (a,b)"); a ReplicationController's
// selector is a plain map.
std::string selector_text(const value& selector) {
  if (!selector.is_object()) return "";
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ",") + s; };
  const value* labels = selector.has_field("matchLabels") ? &selector.at("matchLabels") : nullptr;
  if (!labels && !selector.has_field("matchExpressions")) labels = &selector;  // ReplicationController
  if (labels && labels->is_object())
    for (const auto& [k, v] : labels->as_object())
      if (v.is_string()) add(k + "=" + v.as_string());
  if (selector.has_field("matchExpressions") && selector.at("matchExpressions").is_array())
    for (const auto& e : selector.at("matchExpressions").as_array()) {
      const std::string key = json::str(e, {"key"}), op = json::str(e, {"operator"});
      std::string values;
      if (const value* vs = json::at(e, {"values"}); vs && vs->is_array())
        for (const auto& v : vs->as_array()) values += (values.empty() ? "" : ",") + (v.is_string() ? v.as_string() : "");
      if (op == "In") add(key + " in (" + values + ")");
      else if (op == "NotIn") add(key + " notin (" + values + ")");
      else if (op == "Exists") add(key);
      else if (op == "DoesNotExist") add("!" + key);
    }
  return out;
}

value scale_of(const value& object) {
  value s = value::object();
  s["apiVersion"] = value::string("autoscaling/v1");
  s["kind"] = value::string("Scale");
  value meta = value::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"})
    if (const value* v = json::at(object, {"metadata", k})) meta[k] = *v;
  s["metadata"] = meta;
  s["spec"]["replicas"] = value::number(json::num(object, {"spec", "replicas"}, 1));
  s["status"]["replicas"] = value::number(json::num(object, {"status", "replicas"}));
  if (const value* sel = json::at(object, {"spec", "selector"})) s["status"]["selector"] = value::string(selector_text(*sel));
  return s;
}

}  // namespace

ApiResponse ApiServer::scale(const ApiRequest& req, const Target& t, const std::string& verb) {
  Target parent = t;
  parent.subresource.clear();
  parent.object_unread = false;
  const auto stored = store_->get(t.type->key(), t.ns, t.name);
  if (!stored) return error_response(404, "NotFound", t.type->resource + ".scale \"" + t.name + "\" not found");
  std::error_code ec;
  const value object = model::parse_json(stored->json, ec);
  value current = scale_of(object);
  if (verb == "get") return json_response(200, current);

  value wanted;
  if (verb == "update") {
    auto body = parse_body(req);
    if (!body.ok()) return from_error(body.error());
    wanted = std::move(body.value());
  } else if (verb == "patch") {
    const std::string ct = req.header("content-type");
    const value p = model::parse_json(req.body, ec);
    if (ec) return error_response(400, "BadRequest", "the patch is not valid JSON");
    wanted = current;
    if (ct.starts_with("application/json-patch+json")) {
      auto r = apply_json_patch(wanted, p);
      if (!r.ok) return error_response(r.code, r.code == 422 ? "Invalid" : "BadRequest", r.message);
    } else if (ct.starts_with("application/merge-patch+json")) {
      apply_merge_patch(wanted, p);
    } else if (ct.starts_with("application/strategic-merge-patch+json")) {
      auto r = apply_strategic_merge_patch(wanted, p, SchemaNode::for_kind("autoscaling", "v1", "Scale"));
      if (!r.ok) return error_response(r.code, "BadRequest", r.message);
    } else {
      return error_response(415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media types include: "
                            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
    }
  } else {
    return error_response(405, "MethodNotAllowed", req.method + " is not supported on " + t.type->resource + "/scale");
  }
  const value* replicas = json::at(wanted, {"spec", "replicas"});
  if (!replicas || !replicas->is_number() || !replicas->as_number().is_integral() || replicas->as_number().to_int64() < 0)
    return error_response(422, "Invalid", "Scale.autoscaling \"" + t.name + "\" is invalid: spec.replicas: Invalid value: " +
                                              (replicas ? replicas->serialize() : "null") + ": must be greater than or equal to 0");
  // A resourceVersion in the new Scale is a precondition on the object, as kube-apiserver's.
  value change = value::object();
  change["spec"]["replicas"] = *replicas;
  if (const std::string rv = json::str(wanted, {"metadata", "resourceVersion"}); !rv.empty())
    change["metadata"]["resourceVersion"] = value::string(rv);
  ApiRequest write{.method = "PATCH", .body = change.serialize()};
  write.headers["content-type"] = "application/merge-patch+json";
  auto r = patch(write, parent);
  if (r.status >= 300) return r;
  const value written = model::parse_json(r.body, ec);
  return json_response(200, ec ? current : scale_of(written));
}

}  // namespace nonevent::sim
