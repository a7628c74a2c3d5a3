// A patch of the status subresource of a built-in kind, applied without a DOM of the whole
// object. The status subresource changes nothing but the status (merge_update), so the merge
// patch is applied to the stored status alone, and a JSON patch that only tests the
// resourceVersion and sets /status (what the simulated controllers send) needs not even that;
// the store writes the new status into the stored text (ObjectStore::update_status). These
// are most of a simulated cluster's writes (every pod's start and readiness, every
// ReplicaSet, Deployment and PDB status), and parsing the whole pod into a DOM and writing
// it out again for each was the biggest part of them.
//
// An in-process caller's status as text (ApiRequest::status_json, the kubelets') is spliced
// in the same way without even a DOM of the status (status_json_in_place).
//
// Anything else (other kinds of patch, a JSON patch with other operations or a test that
// fails, a patch that removes the status, a custom resource whose schema must be applied, an
// object being deleted) is left to patch_once's general path, which also gives any error.
#include "model/json_parse.h"
#include "sim/api_server.h"
#include "sim/json_text.h"
#include "sim/json_util.h"
#include "sim/patch.h"

namespace nonevent::sim {

using web::json::value;

namespace {

// Where in a JSON patch the status it sets is, when all the patch does is test
// metadata.resourceVersion (against `rv`, passing) and add or replace /status with an object;
// nullopt otherwise.
std::optional<size_t> status_set_by_json_patch(const value& patch, const std::string& rv) {
  if (!patch.is_array() || patch.size() == 0) return std::nullopt;
  std::optional<size_t> status;
  for (size_t i = 0; i < patch.size(); ++i) {
    const value& op = patch.at(i);
    const auto kind = json::str(op, {"op"}), path = json::str(op, {"path"});
    const value* v = json::at(op, {"value"});
    if (kind == "test" && path == "/metadata/resourceVersion") {
      if (!v || !v->is_string() || v->as_string() != rv) return std::nullopt;
    } else if ((kind == "add" || kind == "replace") && path == "/status" && v && v->is_object()) {
      status = i;
    } else {
      return std::nullopt;
    }
  }
  return status;
}

// Where the status of `current` is to be written in place, if a write of `subresource` of an
// object of `type` may be (the status subresource of a built-in kind).
std::optional<json_text::StatusSplice> status_in_place(const std::string& subresource, const ResourceType& type,
                                                       const StoredPtr& current) {
  if (subresource != "status" || type.custom || type.kind == "CustomResourceDefinition") return std::nullopt;
  // A write to an object being deleted may complete its deletion (write()): the general path.
  if (current->being_deleted) return std::nullopt;
  return current->splice ? current->splice : json_text::status_splice(current->json);
}

ApiResponse written(const kube::Result<StoredPtr>& res, bool object_unread) {
  if (!res.ok()) return error_response(res.error().code, res.error().reason, res.error().message);
  ApiResponse r;
  r.status = 200;
  if (!object_unread) r.body = res.value()->json;
  return r;
}

}  // namespace

std::optional<ApiResponse> ApiServer::status_json_in_place(const Target& t, const StoredPtr& current,
                                                           const std::string& status_json, bool& retryable) {
  const auto where = status_in_place(t.subresource, *t.type, current);
  if (!where) return std::nullopt;
  retryable = true;
  return written(store_->update_status_text(t.type->key(), current, *where, status_json, std::to_string(current->rv)), t.object_unread);
}

std::optional<ApiResponse> ApiServer::patch_status_in_place(const Target& t, const StoredPtr& current, value& patch,
                                                            const std::string& content_type, bool& retryable) {
  const auto where = status_in_place(t.subresource, *t.type, current);
  if (!where) return std::nullopt;
  const std::string_view text = current->json;
  const std::string current_rv = std::to_string(current->rv);
  std::string expected_rv;
  value merged;
  value* status = &merged;
  if (content_type == "application/merge-patch+json") {
    if (!patch.is_object()) return std::nullopt;
    std::error_code ec;
    value target = value::object();
    target["status"] = model::parse_json(text.substr(where->status.begin, where->status.end - where->status.begin), ec);
    if (ec) return std::nullopt;
    apply_merge_patch(target, patch);
    if (!target.has_field("status") || !target.at("status").is_object()) return std::nullopt;
    merged = std::move(target["status"]);
    expected_rv = patch.has_field("metadata") ? json::str(patch.at("metadata"), {"resourceVersion"}) : "";
  } else if (content_type == "application/json-patch+json") {
    const auto set = status_set_by_json_patch(patch, current_rv);
    if (!set) return std::nullopt;
    status = &patch.at(*set).at("value");  // not copied: update_status gives it back
  } else {
    return std::nullopt;
  }
  const bool caller_rv = !expected_rv.empty();
  retryable = !caller_rv;
  return written(store_->update_status(t.type->key(), current, *where, *status, caller_rv ? expected_rv : current_rv), t.object_unread);
}

}  // namespace nonevent::sim
