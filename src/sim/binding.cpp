// The pods/binding subresource with kube-apiserver's rules (1.32,
// pkg/registry/core/pod/storage/storage.go, BindingREST): how a scheduler assigns a pod. One
// write sets spec.nodeName, adds the Binding's annotations and sets PodScheduled=True, so a
// watcher never sees a pod bound without its condition (and the scheduler spends one write,
// not two). 409 when the pod is already assigned; refused while the pod is being deleted or
// still has scheduling gates.
#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/api_server.h"
#include "sim/json_text.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;

namespace {

// A binding written as edits of the pod's stored text: spec.nodeName added, and the status
// with PodScheduled=True in place of the old one. A scheduler's binding is a fifth of a
// simulated cluster's writes, and parsing the whole pod, changing two members and writing
// it all out again was most of their cost. Only for a pod the binding may assign as it is
// (not being deleted, not assigned, no scheduling gates, the preconditions met); nullopt
// otherwise, and the general path decides and answers any refusal.
struct BindingEdits {
  json_text::StatusSplice where;
  std::vector<ObjectStore::TextEdit> edits;
  StringMap fields;
};
std::optional<BindingEdits> binding_edits(const StoredObject& pod, const std::string& node, const std::string& since,
                                          const std::string& pre_uid, const std::string& pre_rv) {
  if (pod.being_deleted || (!pre_rv.empty() && pre_rv != std::to_string(pod.rv))) return std::nullopt;
  if (auto assigned = pod.fields.find("spec.nodeName"); assigned == pod.fields.end() || !assigned->second.empty())
    return std::nullopt;
  const std::string_view text = pod.json;
  const auto where = pod.splice ? pod.splice : json_text::status_splice(text);
  const auto obj = json_text::stored_object(text);
  if (!where || !obj) return std::nullopt;
  const auto spec = json_text::member(text, *obj, "spec");
  if (!spec || json_text::member(text, *spec, "schedulingGates")) return std::nullopt;
  if (!pre_uid.empty()) {
    const auto meta = json_text::member(text, *obj, "metadata");
    const auto uid = meta ? json_text::member(text, *meta, "uid") : std::nullopt;
    if (!uid || json_text::plain_string(text, *uid) != pre_uid) return std::nullopt;
  }
  auto inserted = json_text::insert_members(text, *spec, {{"nodeName", model::to_json(value::string(node))}});
  if (!inserted) return std::nullopt;
  std::error_code ec;
  value pod_status = value::object();
  pod_status["status"] = model::parse_json(text.substr(where->status.begin, where->status.end - where->status.begin), ec);
  if (ec || !pod_status.at("status").is_object()) return std::nullopt;
  value conditions = json::conditions_with(pod_status, "PodScheduled", "True", "", "", since);
  pod_status["status"]["conditions"] = std::move(conditions);
  BindingEdits out;
  out.where = *where;
  for (auto& i : *inserted) out.edits.push_back({{i.at, i.at}, std::move(i.text)});
  out.edits.push_back({where->status, model::to_json(pod_status.at("status"))});
  out.fields = pod.fields;
  out.fields["spec.nodeName"] = node;
  return out;
}

}  // namespace

ApiResponse ApiServer::bind(const ApiRequest& req, const Target& t) {
  std::error_code ec;
  const auto binding = model::parse_json(req.body.empty() ? "{}" : req.body, ec);
  if (ec || !binding.is_object()) return error_response(400, "BadRequest", "the request body is not a Binding");
  const value* meta = json::at(binding, {"metadata"});
  if (meta && !json::str(*meta, {"name"}).empty() && json::str(*meta, {"name"}) != t.name)
    return error_response(400, "BadRequest", "name in URL does not match name in Binding object");
  const auto node = json::str(binding, {"target", "name"});
  const auto kind = json::str(binding, {"target", "kind"});
  const auto invalid = [&](const std::string& field, const std::string& why) {
    return error_response(422, "Invalid", "Binding.core \"" + t.name + "\" is invalid: " + field + ": " + why,
                          R"({"name":")" + t.name + R"(","kind":"Binding","causes":[{"reason":"FieldValueInvalid","message":)" +
                              value::string(why).serialize() + R"(,"field":")" + field + R"("}]})");
  };
  if (!kind.empty() && kind != "Node") return invalid("target.kind", "must be empty or 'Node'");
  if (node.empty()) return invalid("target.name", "Required value");
  const auto pre_uid = meta ? json::str(*meta, {"uid"}) : "";
  const auto pre_rv = meta ? json::str(*meta, {"resourceVersion"}) : "";
  const value* annotations = meta ? json::at(*meta, {"annotations"}) : nullptr;
  const auto bound = [] {
    static const std::string kSuccess = status_json(201, "", "");  // built once, not per binding
    ApiResponse r;
    r.status = 201;
    r.body = kSuccess;
    return r;
  };
  // Retried on a conflict with another writer, as GuaranteedUpdate does; the checks run
  // again against the fresh pod each time.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto stored = store_->get(t.type->key(), t.ns, t.name);
    if (!stored) return error_response(404, "NotFound", "pods \"" + t.name + "\" not found", R"({"name":")" + t.name + R"(","kind":"pods"})");
    if (!annotations || !annotations->is_object() || annotations->size() == 0) {
      if (auto edits = binding_edits(*stored, node, kube::format_rfc3339(clock_->now()), pre_uid, pre_rv)) {
        auto written = store_->update_text(t.type->key(), stored, edits->where, std::move(edits->edits),
                                           std::move(edits->fields), false, std::to_string(stored->rv));
        if (!written.ok()) {
          if (written.error().is_conflict() && pre_rv.empty()) continue;
          return error_response(written.error().code, written.error().reason, written.error().message);
        }
        return bound();
      }
    }
    auto pod = model::parse_json(stored->json, ec);
    if (!pre_uid.empty() && json::uid(pod) != pre_uid)
      return error_response(409, "Conflict", "Precondition failed: UID in precondition: " + pre_uid + ", UID in object meta: " + json::uid(pod));
    if (!pre_rv.empty() && std::to_string(stored->rv) != pre_rv)
      return error_response(409, "Conflict", "Precondition failed: ResourceVersion in precondition: " + pre_rv +
                                                 ", ResourceVersion in object meta: " + std::to_string(stored->rv));
    if (json::terminating(pod))
      return error_response(500, "InternalError", "pod " + t.name + " is being deleted, cannot be assigned to a host");
    if (const auto assigned = json::str(pod, {"spec", "nodeName"}); !assigned.empty())
      return error_response(409, "Conflict", "Operation cannot be fulfilled on pods/binding \"" + t.name + "\": pod " + t.name +
                                                 " is already assigned to node \"" + assigned + "\"");
    if (const value* gates = json::at(pod, {"spec", "schedulingGates"}); gates && gates->is_array() && gates->size() > 0)
      return error_response(500, "InternalError", "pod " + t.name + " has non-empty .spec.schedulingGates");
    pod["spec"]["nodeName"] = value::string(node);
    if (annotations && annotations->is_object())
      for (const auto& [k, v] : annotations->as_object()) pod["metadata"]["annotations"][k] = v;
    pod["status"]["conditions"] =
        json::conditions_with(pod, "PodScheduled", "True", "", "", kube::format_rfc3339(clock_->now()));
    auto written = store_->update(t.type->key(), std::move(pod), std::to_string(stored->rv));
    if (!written.ok()) {
      if (written.error().is_conflict() && pre_rv.empty()) continue;
      return error_response(written.error().code, written.error().reason, written.error().message);
    }
    return bound();
  }
  return error_response(409, "Conflict", "the pod kept changing; try again");
}

}  // namespace nonevent::sim
