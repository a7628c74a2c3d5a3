// PATCH with application/apply-patch+yaml: server-side apply (server_side_apply.h) as
// kube-apiserver's patch handler runs it — fieldManager required, the object created when it
// does not exist, conflicts answered 409 naming each field and its manager, force=true taking
// them — written through the same create and update paths as any other write, and retried
// on a concurrent write as GuaranteedUpdate does.
#include <cpprest/json.h>

#include "kube/clock.h"
#include "model/json_parse.h"
#include "sim/api_request_util.h"
#include "sim/api_server.h"
#include "sim/server_side_apply.h"
#include "sim/yaml_json.h"

namespace nonevent::sim {

using web::json::value;
using namespace detail;

SchemaNode ApiServer::schema_of(const ResourceType& type) const {
  if (!type.custom) return SchemaNode::for_kind(type.group, type.version, type.kind);
  return {};  // a custom resource: structure deduced from the object (lists atomic)
}

ApiResponse ApiServer::apply(const ApiRequest& req, const Target& t) {
  const std::string manager = query(req, "fieldManager");
  if (manager.empty())
    return error_response(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
  if (t.subresource == "status")  // kube-apiserver applies to status too; not needed by any client here
    return error_response(415, "UnsupportedMediaType", "server-side apply to the status subresource is not supported by the embedded cluster");
  value config;
  try {
    const auto docs = parse_yaml_documents(req.body);
    if (docs.size() != 1 || !docs[0].is_object()) return error_response(400, "BadRequest", "an apply patch must be one YAML or JSON object");
    config = docs[0];
  } catch (const std::exception& e) {
    return error_response(400, "BadRequest", std::string("error decoding YAML: ") + e.what());
  }
  const std::string kind = str(config, "kind"), api_version = str(config, "apiVersion");
  if (kind != t.type->kind || api_version != t.type->api_version())
    return error_response(400, "BadRequest", "the apply configuration's apiVersion and kind (" + api_version + " " + kind +
                                                 ") must be " + t.type->api_version() + " " + t.type->kind);
  if (!config.has_field("metadata") || !config.at("metadata").is_object()) config["metadata"] = value::object();
  const std::string name = str(config.at("metadata"), "name");
  if (!name.empty() && name != t.name)
    return error_response(400, "BadRequest", "the name of the object (" + name + ") does not match the name on the URL (" + t.name + ")");
  config["metadata"]["name"] = value::string(t.name);
  if (t.type->namespaced) config["metadata"]["namespace"] = value::string(t.ns);

  Target applying = t;
  applying.apply = true;
  const std::string force = query(req, "force");
  for (int attempt = 0;; ++attempt) {
    const auto current = store_->get(t.type->key(), t.ns, t.name);
    std::error_code ec;
    const value live = current ? model::parse_json(current->json, ec) : value::null();
    ApplyRequest a;
    a.live = current ? &live : nullptr;
    a.config = config;
    a.manager = manager;
    a.now = kube::format_rfc3339(clock_->now());
    a.api_version = t.type->api_version();
    a.force = force == "true" || force == "1";
    a.ignore_status = t.type->status_subresource;
    a.schema = schema_of(*t.type);
    auto outcome = server_side_apply(a);
    if (outcome.code >= 300) return error_response(outcome.code, outcome.reason, outcome.message, outcome.details.serialize());
    if (outcome.unchanged) {
      ApiResponse r;
      r.body = current->json;
      return r;
    }
    ApiRequest write;
    write.body_value = std::move(outcome.object);
    ApiResponse r;
    if (!current) {
      write.method = "POST";
      Target collection = applying;
      collection.name.clear();
      r = create(write, collection);
    } else {
      (*write.body_value)["metadata"]["resourceVersion"] = value::string(std::to_string(current->rv));
      write.method = "PUT";
      r = replace(write, applying);
    }
    // Someone wrote in between (or created it first): apply again to what is there now.
    if (r.status == 409 && attempt < 16) continue;
    return r;
  }
}

}  // namespace nonevent::sim
