// The pods/eviction subresource with kube-apiserver's rules (1.32,
// pkg/registry/core/pod/storage/eviction.go): PDB budget checked and decremented atomically
// with the pod's deletion, 429 with cause DisruptionBudget when the budget is spent, 500
// when several PDBs select the pod, unhealthyPodEvictionPolicy honoured. The PDBs that may
// select the pod come from pdb_selector_index.h.
#include "sim/api_server.h"

#include "model/json_parse.h"
#include "sim/json_text.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;

using json::str;

namespace {

// Whether a pod is Ready, from its status alone when the store noted where that is.
bool pod_ready(const StoredObject& pod) {
  std::error_code ec;
  const auto where = pod.splice ? pod.splice : json_text::status_splice(pod.json);
  if (!where) return json::pod_ready(model::parse_json(pod.json, ec));
  value holder = value::object();
  holder["status"] = model::parse_json(std::string_view(pod.json).substr(where->status.begin, where->status.end - where->status.begin), ec);
  return json::pod_ready(holder);
}

}  // namespace

ApiResponse ApiServer::evict(const ApiRequest& req, const Target& t) {
  std::error_code ec;
  auto eviction = model::parse_json(req.body.empty() ? "{}" : req.body, ec);
  if (ec || !eviction.is_object()) return error_response(400, "BadRequest", "the request body is not an Eviction");
  if (eviction.has_field("metadata") && !str(eviction.at("metadata"), {"name"}).empty() &&
      str(eviction.at("metadata"), {"name"}) != t.name)
    return error_response(400, "BadRequest", "name in URL does not match name in Eviction object");
  std::string pre_uid, pre_rv;
  if (eviction.has_field("deleteOptions") && eviction.at("deleteOptions").has_field("preconditions")) {
    pre_uid = str(eviction.at("deleteOptions").at("preconditions"), {"uid"});
    pre_rv = str(eviction.at("deleteOptions").at("preconditions"), {"resourceVersion"});
  }
  const auto success = [] {
    static const std::string kSuccess = status_json(201, "", "");  // built once, not per eviction
    ApiResponse r;
    r.status = 201;
    r.body = kSuccess;
    return r;
  };
  // Budget check and decrement retry on conflicts with concurrent evictions.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto pod_stored = store_->get(t.type->key(), t.ns, t.name);
    if (!pod_stored)
      return error_response(404, "NotFound", "pods \"" + t.name + "\" not found", R"({"name":")" + t.name + R"(","kind":"pods"})");
    // What the eviction reads of the pod is kept aside by the store (its phase, whether it is
    // being deleted) or in its status alone: a DOM of the whole pod per eviction was a third
    // of an eviction's cost.
    const auto phase_field = pod_stored->fields.find("status.phase");
    const std::string phase = phase_field == pod_stored->fields.end() ? "" : phase_field->second;
    // Terminal, pending and terminating pods can go without consulting any budget.
    const bool ignore_pdb = phase == "Succeeded" || phase == "Failed" || phase == "Pending" || pod_stored->being_deleted;
    auto del = [&]() -> ApiResponse {
      auto gone = delete_object(*t.type, t.ns, t.name, "", pre_uid, pre_rv);
      if (!gone.ok()) return error_response(gone.error().code, gone.error().reason, gone.error().message);
      return success();
    };
    if (ignore_pdb) return del();
    std::vector<StoredPtr> matching;
    for (const auto& pdb_name : pdbs_->matching(t.ns, *pod_stored->labels))
      if (auto p = store_->get("policy/poddisruptionbudgets", t.ns, pdb_name)) matching.push_back(std::move(p));
    if (matching.empty()) return del();
    if (matching.size() > 1)
      return error_response(500, "InternalError",
                            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    const StoredPtr& pdb_stored = matching[0];
    value pdb = model::parse_json(pdb_stored->json, ec);
    const auto pdb_name = str(pdb.at("metadata"), {"name"});
    static const value kNoStatus = value::object();
    const value* st_at = json::at(pdb, {"status"});
    const value& st = st_at ? *st_at : kNoStatus;  // a reference: `c ? member : value::object()` copied the status
    const auto cause = [&](const std::string& message) {
      return std::string(R"({"causes":[{"reason":"DisruptionBudget","message":)") + value::string(message).serialize() + "}]}";
    };
    if (json::num(st, {"observedGeneration"}) < json::num(pdb.at("metadata"), {"generation"}))
      return error_response(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                            cause("The disruption budget " + pdb_name + " is still being processed by the server."));
    const bool ready = pod_ready(*pod_stored);
    const auto policy = pdb.at("spec").has_field("unhealthyPodEvictionPolicy") ? str(pdb.at("spec"), {"unhealthyPodEvictionPolicy"}) : "IfHealthyBudget";
    if (!ready) {
      if (policy == "AlwaysAllow") return del();
      if (json::num(st, {"currentHealthy"}) >= json::num(st, {"desiredHealthy"}) && json::num(st, {"desiredHealthy"}) > 0) return del();
    }
    if (json::num(st, {"disruptionsAllowed"}) <= 0)
      return error_response(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                            cause("The disruption budget " + pdb_name + " needs " + std::to_string(json::num(st, {"desiredHealthy"})) +
                                  " healthy pods and has " + std::to_string(json::num(st, {"currentHealthy"})) + " currently"));
    // Spend one disruption and remember the pod, so the PDB controller does not count it
    // healthy again before it is gone.
    pdb["status"]["disruptionsAllowed"] = value::number(json::num(st, {"disruptionsAllowed"}) - 1);
    pdb["status"]["disruptedPods"][t.name] = value::string(kube::format_rfc3339(clock_->now()));
    const std::string pdb_rv = str(pdb.at("metadata"), {"resourceVersion"});
    // A write of the PDB's status alone (the text spliced, and the informers see a status
    // change), as the status subresource writes it.
    const auto where = pdb_stored->splice ? pdb_stored->splice : json_text::status_splice(pdb_stored->json);
    value status = std::move(pdb["status"]);
    auto upd = where ? store_->update_status("policy/poddisruptionbudgets", pdb_stored, *where, status, pdb_rv)
                     : store_->update("policy/poddisruptionbudgets", [&] {
                         pdb["status"] = std::move(status);
                         return std::move(pdb);
                       }(), pdb_rv);
    if (!upd.ok()) {
      if (upd.error().is_conflict()) continue;
      return error_response(upd.error().code, upd.error().reason, upd.error().message);
    }
    return del();
  }
  return error_response(409, "Conflict", "the PodDisruptionBudget kept changing; try again");
}

}  // namespace nonevent::sim
