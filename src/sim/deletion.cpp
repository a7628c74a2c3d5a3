// Deletion as kube-apiserver does it (staging/src/k8s.io/apiserver/pkg/registry/generic/
// registry/store.go Delete, pkg/registry/core/pod/strategy.go for graceful pod deletion):
// preconditions, grace periods (a bound pod is marked with deletionTimestamp and removed by
// its kubelet), finalizers (deletionTimestamp set, the object stays until they are gone), and
// owner-reference garbage collection with Background, Foreground and Orphan propagation
// (pkg/controller/garbagecollector, done here at once).
#include "sim/api_server.h"

#include <charconv>

#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/api_request_util.h"
#include "sim/json_text.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using kube::ApiError;
using web::json::value;
using namespace detail;

namespace {
// DeleteOptions from the body and the query (the query wins, as kube-apiserver's decoding does).
struct DeleteOptionsSeen {
  std::string propagation, pre_uid, pre_rv;
  std::optional<long> grace;
  std::string error;
};
DeleteOptionsSeen delete_options(const ApiRequest& req) {
  DeleteOptionsSeen o;
  std::string& propagation = o.propagation;
  std::string& pre_uid = o.pre_uid;
  std::string& pre_rv = o.pre_rv;
  std::optional<long>& grace = o.grace;
  if (!req.body.empty()) {
    std::error_code ec;
    auto opts = value::parse(req.body, ec);
    if (!ec && opts.is_object()) {
      propagation = str(opts, "propagationPolicy");
      if (opts.has_field("gracePeriodSeconds") && opts.at("gracePeriodSeconds").is_number())
        grace = opts.at("gracePeriodSeconds").as_number().to_int64();
      if (opts.has_field("preconditions")) {
        pre_uid = str(opts.at("preconditions"), "uid");
        pre_rv = str(opts.at("preconditions"), "resourceVersion");
      }
    }
  }
  if (auto pp = query(req, "propagationPolicy"); !pp.empty()) propagation = pp;
  if (auto g = query(req, "gracePeriodSeconds"); !g.empty()) {
    try {
      grace = std::stol(g);
    } catch (const std::exception&) {
      o.error = "gracePeriodSeconds must be an integer";
    }
  }
  return o;
}
}  // namespace

ApiResponse ApiServer::remove(const ApiRequest& req, const Target& t) {
  const auto o = delete_options(req);
  if (!o.error.empty()) return error_response(400, "BadRequest", o.error);
  auto res = delete_object(*t.type, t.ns, t.name, o.propagation, o.pre_uid, o.pre_rv, o.grace);
  if (!res.ok()) return from_error(res.error());
  ApiResponse r;
  if (!t.object_unread) r.body = res.value()->json;
  return r;
}

ApiResponse ApiServer::remove_collection(const ApiRequest& req, const Target& t) {
  const auto o = delete_options(req);
  if (!o.error.empty()) return error_response(400, "BadRequest", o.error);
  auto ls = parse_label_selector(query(req, "labelSelector"));
  if (!ls.selector) return error_response(400, "BadRequest", "unable to parse requirement: " + ls.error);
  auto fs = parse_field_selector(query(req, "fieldSelector"));
  if (!fs.selector) return error_response(400, "BadRequest", fs.error);
  auto listed = store_->list(WatchFilter{t.type->key(), t.ns, *ls.selector, *fs.selector}, 0, "");
  if (!listed.ok()) return from_error(listed.error());
  std::string items;
  for (const auto& obj : listed.value().items) {
    auto res = delete_object(*t.type, obj->ns, obj->name, o.propagation, "", "", o.grace);
    if (!res.ok()) {
      if (res.error().code == 404) continue;  // gone meanwhile
      return from_error(res.error());
    }
    items += (items.empty() ? "" : ",") + res.value()->json;
  }
  ApiResponse r;
  r.body = R"({"kind":")" + t.type->list_kind() + R"(","apiVersion":")" + t.type->api_version() + R"(","metadata":{"resourceVersion":")" +
           std::to_string(store_->resource_version()) + R"("},"items":[)" + items + "]}";
  return r;
}

namespace {

// A bound pod's graceful deletion as an edit of its stored text: metadata gains
// deletionGracePeriodSeconds and deletionTimestamp (the end of the grace period). Every
// eviction is one, and a DOM of the whole pod to add two members was most of their cost.
// nullopt when the general path must judge (no grace, a uid precondition the text does not
// plainly meet, a text not of the shape this takes).
struct GracefulDeletion {
  bool already = false;  // the pod is terminating already (and stays as it is)
  json_text::StatusSplice where;
  std::vector<ObjectStore::TextEdit> edits;
};
std::optional<GracefulDeletion> graceful_deletion(const StoredObject& pod, const std::string& pre_uid,
                                                  std::optional<long> grace_seconds, kube::TimePoint now) {
  const std::string_view text = pod.json;
  const auto where = pod.splice ? pod.splice : json_text::status_splice(text);
  const auto obj = json_text::stored_object(text);
  const auto meta = obj ? json_text::member(text, *obj, "metadata") : std::nullopt;
  if (!where || !meta) return std::nullopt;
  if (!pre_uid.empty()) {
    const auto uid = json_text::member(text, *meta, "uid");
    if (!uid || json_text::plain_string(text, *uid) != pre_uid) return std::nullopt;
  }
  long grace = 30;
  if (grace_seconds) {
    grace = *grace_seconds;
  } else if (const auto spec = json_text::member(text, *obj, "spec")) {
    if (const auto g = json_text::member(text, *spec, "terminationGracePeriodSeconds")) {
      const auto digits = text.substr(g->begin, g->end - g->begin);
      const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), grace);
      if (err != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    }
  }
  if (grace <= 0) return std::nullopt;  // deleted now: the general path
  GracefulDeletion out;
  if (pod.being_deleted) {
    out.already = true;
    return out;
  }
  auto inserted = json_text::insert_members(
      text, *meta,
      {{"deletionGracePeriodSeconds", std::to_string(grace)},
       {"deletionTimestamp", model::to_json(value::string(kube::format_rfc3339(now + std::chrono::seconds(grace))))}});
  if (!inserted) return std::nullopt;
  out.where = *where;
  for (auto& i : *inserted) out.edits.push_back({{i.at, i.at}, std::move(i.text)});
  return out;
}

// An object's uid if it has no finalizers (so a deletion removes it at once), from its stored
// text; nullopt when it has finalizers or the text is not of the shape this reads.
std::optional<std::string> uid_if_removable(std::string_view text) {
  const auto obj = json_text::stored_object(text);
  const auto meta = obj ? json_text::member(text, *obj, "metadata") : std::nullopt;
  if (!meta || json_text::member(text, *meta, "finalizers")) return std::nullopt;
  const auto uid = json_text::member(text, *meta, "uid");
  if (!uid) return std::string();
  const auto plain = json_text::plain_string(text, *uid);
  return plain ? std::optional<std::string>(*plain) : std::nullopt;
}

}  // namespace

kube::Result<StoredPtr> ApiServer::delete_object(const ResourceType& type, const std::string& ns, const std::string& name,
                                                 const std::string& propagation, const std::string& pre_uid,
                                                 const std::string& pre_rv, std::optional<long> grace_seconds) {
  auto current = store_->get(type.key(), ns, name);
  if (!current) {
    ApiError e;
    e.code = 404;
    e.reason = "NotFound";
    e.message = type.resource + " \"" + name + "\" not found";
    return e;
  }
  const bool graceful = graceful_pods_ && type.kind == "Pod" && type.group.empty();
  const auto node = current->fields.find("spec.nodeName");
  const bool bound = node != current->fields.end() && !node->second.empty();
  if (graceful && bound) {
    if (auto d = graceful_deletion(*current, pre_uid, grace_seconds, clock_->now()))
      return d->already ? current : store_->update_text(type.key(), current, d->where, std::move(d->edits), current->fields, true, pre_rv);
  }
  const std::string policy = propagation.empty() ? "Background" : propagation;
  // Removed now, with no finalizers to wait for: only the uid is needed (for the garbage
  // collector), read from the text rather than a DOM of the whole object. A kubelet removes
  // every pod so once its grace period is over.
  if ((!(graceful && bound) || (grace_seconds && *grace_seconds <= 0)) && policy != "Foreground" &&
      type.kind != "CustomResourceDefinition" && !(type.kind == "Namespace" && type.group.empty())) {
    if (const auto uid = uid_if_removable(current->json)) {
      auto gone = store_->remove(type.key(), ns, name, pre_uid, pre_rv);
      if (gone.ok()) collect_garbage(*uid, policy);
      return gone;
    }
  }
  std::error_code ec;
  auto obj = model::parse_json(current->json, ec);
  const std::string uid = str(obj["metadata"], "uid");
  if (!pre_uid.empty() && pre_uid != uid) {
    ApiError e;
    e.code = 409;
    e.reason = "Conflict";
    e.message = "Precondition failed: UID in precondition: " + pre_uid + ", UID in object meta: " + uid;
    return e;
  }
  // A running pod is deleted gracefully: marked terminating, removed by its kubelet.
  if (graceful && !str(obj["spec"], "nodeName").empty()) {
    const long grace = grace_seconds.value_or(obj["spec"].has_field("terminationGracePeriodSeconds")
                                                  ? obj["spec"]["terminationGracePeriodSeconds"].as_number().to_int64()
                                                  : 30);
    if (grace > 0) {
      if (obj["metadata"].has_field("deletionTimestamp")) return current;  // already terminating
      obj["metadata"]["deletionTimestamp"] = value::string(kube::format_rfc3339(clock_->now() + std::chrono::seconds(grace)));
      obj["metadata"]["deletionGracePeriodSeconds"] = value::number(static_cast<int64_t>(grace));
      return store_->update(type.key(), std::move(obj), pre_rv);  // moved: a copy of the pod was most of a graceful delete
    }
  }
  if (type.kind == "CustomResourceDefinition" && type.group == "apiextensions.k8s.io") {
    // Its custom resources go first (crd_registration.cpp), as apiextensions-apiserver's
    // finalizer does.
    auto& fins = obj["metadata"]["finalizers"];
    bool has = false;
    if (fins.is_array())
      for (const auto& f : fins.as_array()) has = has || f.as_string() == "customresourcecleanup.apiextensions.k8s.io";
    if (!has) fins[fins.is_array() ? fins.size() : 0] = value::string("customresourcecleanup.apiextensions.k8s.io");
  }
  if (policy == "Foreground") {
    auto& fins = obj["metadata"]["finalizers"];
    bool has = false;
    if (fins.is_array())
      for (const auto& f : fins.as_array()) has = has || f.as_string() == "foregroundDeletion";
    if (!has) fins[fins.is_array() ? fins.size() : 0] = value::string("foregroundDeletion");
  }
  if (has_finalizers(obj)) {
    // Terminating: the object stays until its finalizers are removed.
    if (!obj["metadata"].has_field("deletionTimestamp")) {
      obj["metadata"]["deletionTimestamp"] = value::string(kube::format_rfc3339(clock_->now()));
      obj["metadata"]["deletionGracePeriodSeconds"] = value::number(0);
    }
    auto upd = store_->update(type.key(), obj, pre_rv);
    if (!upd.ok()) return upd.error();
    if (type.kind == "CustomResourceDefinition") {
      delete_custom_resources(name);
      if (auto still = store_->get(type.key(), ns, name)) return still;
      return upd;
    }
    if (policy == "Foreground") {
      collect_garbage(uid, "Background");
      // All dependents are gone: drop the foreground finalizer (and delete if it was the last).
      auto again = model::parse_json(store_->get(type.key(), ns, name)->json, ec);
      value kept = value::array();
      size_t j = 0;
      for (const auto& f : again["metadata"]["finalizers"].as_array())
        if (f.as_string() != "foregroundDeletion") kept[j++] = f;
      again["metadata"]["finalizers"] = kept;
      if (j == 0) {
        auto gone = store_->remove(type.key(), ns, name);
        return gone;
      }
      return store_->update(type.key(), again);
    }
    return upd;
  }
  auto gone = store_->remove(type.key(), ns, name, pre_uid, pre_rv);
  if (!gone.ok()) return gone;
  if (type.kind == "CustomResourceDefinition") on_crd_change(obj, true);
  if (type.kind == "Namespace" && type.group.empty()) {
    for (const auto& rt : types_.all()) {
      if (!rt.namespaced) continue;
      auto items = store_->list({.resource = rt.key(), .ns = name}, 0, "");
      if (items.ok())
        for (const auto& o : items.value().items) store_->remove(rt.key(), o->ns, o->name);
    }
  }
  collect_garbage(uid, policy);
  return gone;
}

void ApiServer::collect_garbage(const std::string& owner_uid, const std::string& propagation) {
  if (owner_uid.empty()) return;
  for (const auto& [resource, o] : store_->dependents(owner_uid)) {
    const auto rt = types_.find_key(resource);
    if (!rt) continue;
    std::error_code ec;
    auto obj = model::parse_json(o->json, ec);
    const auto& meta = obj["metadata"];
    if (!meta.has_field("ownerReferences") || !meta.at("ownerReferences").is_array()) continue;
    bool owned = false;
    value kept = value::array();
    size_t j = 0;
    for (const auto& ref : meta.at("ownerReferences").as_array()) {
      if (str(ref, "uid") == owner_uid) owned = true;
      else kept[j++] = ref;
    }
    if (!owned) continue;
    if (propagation == "Orphan") {
      obj["metadata"]["ownerReferences"] = kept;
      store_->update(resource, obj);
    } else if (j > 0) {
      obj["metadata"]["ownerReferences"] = kept;  // other owners keep it alive
      store_->update(resource, obj);
    } else {
      delete_object(*rt, o->ns, o->name, "Background", "", "");
    }
  }
}

}  // namespace nonevent::sim
