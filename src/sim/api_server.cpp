// The embedded cluster's REST front: a request is routed to its verb (kube-apiserver's
// RequestInfo, staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go) and served
// by the generic registry's verbs (.../pkg/registry/generic/registry/store.go: get, list,
// watch, create, update, patch), with field selectors, Table output and the request record.
// Beside it, each in its own file: api_discovery.cpp, schema_validation.cpp, deletion.cpp,
// crd_registration.cpp, eviction.cpp, binding.cpp, status_patch.cpp.
#include "sim/api_server.h"

#include <algorithm>
#include <charconv>
#include <random>
#include <regex>
#include <thread>
#include <tuple>

#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/aggregated_discovery.h"
#include "sim/cel.h"
#include "sim/json_text.h"
#include "sim/json_util.h"
#include "sim/api_request_util.h"
#include "sim/builtin_defaults.h"
#include "sim/schema_validation.h"
#include "sim/patch.h"
#include "sim/pod_update_rules.h"
#include "sim/proto_schemas.h"
#include "sim/protobuf_body.h"
#include "sim/server_side_apply.h"
#include "sim/table.h"

namespace nonevent::sim {

using kube::ApiError;
using web::json::value;
using namespace detail;

// ---------- responses ----------

// Members in the order Go's encoding/json writes metav1.Status (its struct's field order), so
// the body is byte for byte kube-apiserver's: clients that print it (the Python client's
// FailToCreateError) show the same text.
std::string status_json(int code, const std::string& reason, const std::string& message,
                        const std::string& details_json) {
  auto q = [](const std::string& x) { return value::string(x).serialize(); };
  std::string out = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":)";
  out += code < 400 ? "\"Success\"" : "\"Failure\"";
  if (!message.empty()) out += ",\"message\":" + q(message);
  if (!reason.empty()) out += ",\"reason\":" + q(reason);
  std::error_code ec;
  const value d = details_json.empty() ? value::null() : value::parse(details_json, ec);
  if (d.is_object()) {
    std::string details;
    auto member = [&](const char* k, const std::string& text) { details += (details.empty() ? "" : ",") + q(k) + ":" + text; };
    for (const char* k : {"name", "group", "kind", "uid"})
      if (d.has_field(k)) member(k, d.at(k).serialize());
    if (d.has_field("causes") && d.at("causes").is_array()) {
      std::string causes;
      for (const auto& c : d.at("causes").as_array()) {
        std::string one;
        for (const char* k : {"reason", "message", "field"})
          if (c.has_field(k)) one += (one.empty() ? "" : ",") + q(k) + ":" + c.at(k).serialize();
        causes += (causes.empty() ? "" : ",") + ("{" + one + "}");
      }
      member("causes", "[" + causes + "]");
    }
    if (d.has_field("retryAfterSeconds")) member("retryAfterSeconds", d.at("retryAfterSeconds").serialize());
    out += ",\"details\":{" + details + "}";
  }
  return out + ",\"code\":" + std::to_string(code) + "}";
}

ApiResponse error_response(int code, const std::string& reason, const std::string& message,
                           const std::string& details_json) {
  ApiResponse r;
  r.status = code;
  r.body = status_json(code, reason, message, details_json) + "\n";  // as Go's json.Encoder ends it
  return r;
}

namespace {

void strip_read_only_meta(value& meta) {
  for (const char* k : {"resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation", "selfLink"})
    if (meta.has_field(k)) meta.erase(k);
}

// Whether anything but metadata and status differs: what a generation bump is about.
// (Member by member, without copying or serializing either object.)
bool spec_differs(const value& a, const value& b) {
  if (!a.is_object() || !b.is_object()) return !(a == b);
  auto ignored = [](const std::string& k) { return k == "metadata" || k == "status" || k == "kind" || k == "apiVersion"; };
  size_t na = 0, nb = 0;
  for (const auto& [k, v] : a.as_object()) {
    if (ignored(k)) continue;
    ++na;
    if (!b.has_field(k) || !(b.at(k) == v)) return true;
  }
  for (const auto& [k, v] : b.as_object()) nb += ignored(k) ? 0 : 1;
  return na != nb;
}


// Fields the API server allows in field selectors, by resource.
void extract_fields(const std::string& resource, const value& obj, StringMap& f) {
  auto get = [&](std::initializer_list<const char*> path) -> std::string {
    const value* cur = json::at(obj, path);
    if (!cur) return "";
    if (cur->is_string()) return cur->as_string();
    if (cur->is_boolean()) return cur->as_bool() ? "true" : "false";
    return "";
  };
  if (resource == "/pods") {
    f["spec.nodeName"] = get({"spec", "nodeName"});
    f["spec.schedulerName"] = get({"spec", "schedulerName"});
    f["status.phase"] = get({"status", "phase"});
    f["spec.serviceAccountName"] = get({"spec", "serviceAccountName"});
  } else if (resource == "/events") {
    for (const char* k : {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"})
      f[std::string("involvedObject.") + k] = get({"involvedObject", k});
    f["reason"] = get({"reason"});
    f["type"] = get({"type"});
    f["source"] = get({"source", "component"});
  } else if (resource == "/nodes") {
    f["spec.unschedulable"] = get({"spec", "unschedulable"});
  } else if (resource == "/namespaces") {
    f["status.phase"] = get({"status", "phase"});
  } else if (resource == "/secrets") {
    f["type"] = get({"type"});
  }
}

class StoreWatchSession final : public WatchSession {
 public:
  StoreWatchSession(std::shared_ptr<Watch> w, ResourceType type, bool table, bool bookmarks,
                    std::chrono::milliseconds bookmark_every, std::chrono::steady_clock::time_point deadline,
                    std::shared_ptr<ObjectStore> store, std::shared_ptr<kube::Clock> clock)
      : w_(std::move(w)), type_(std::move(type)), table_(table), bookmarks_(bookmarks),
        bookmark_every_(bookmark_every), deadline_(deadline), store_(std::move(store)), clock_(std::move(clock)),
        last_bookmark_(std::chrono::steady_clock::now()) {}

  std::optional<std::string> next(std::chrono::milliseconds wait) override {
    if (done_) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) {
      done_ = true;
      return std::nullopt;
    }
    if (w_->expired()) {
      done_ = true;
      return R"({"type":"ERROR","object":)" +
             status_json(410, "Expired", "The resourceVersion for the provided watch is too old.") + "}\n";
    }
    auto until_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now);
    auto ev = w_->next(std::min(wait, until_deadline));
    if (!ev) {
      if (w_->expired()) return next(wait);
      if (w_->closed()) {  // dropped (a fault, a restart): the stream ends and the client watches again
        done_ = true;
        return std::nullopt;
      }
      if (bookmarks_ && std::chrono::steady_clock::now() - last_bookmark_ >= bookmark_every_) {
        last_bookmark_ = std::chrono::steady_clock::now();
        auto rv = store_->bookmark_rv(*w_);
        if (rv) {
          return R"({"type":"BOOKMARK","object":{"kind":")" + type_.kind + R"(","apiVersion":")" +
                 type_.api_version() + R"(","metadata":{"resourceVersion":")" + std::to_string(*rv) + "\"}}}\n";
        }
      }
      return std::nullopt;
    }
    const char* type = ev->type == ChangeType::kAdded ? "ADDED" : ev->type == ChangeType::kModified ? "MODIFIED" : "DELETED";
    std::string obj_json = ev->object->json;
    if (table_) {
      std::error_code ec;
      auto obj = value::parse(obj_json, ec);
      auto t = render_table(type_, {obj}, clock_->now(), "", "", "");
      if (!first_) t["columnDefinitions"] = value::array();  // headers only once, as kube-apiserver does
      obj_json = t.serialize();
    }
    first_ = false;
    return std::string(R"({"type":")") + type + R"(","object":)" + obj_json + "}\n";
  }
  bool done() const override { return done_; }

 private:
  std::shared_ptr<Watch> w_;
  ResourceType type_;
  bool table_, bookmarks_;
  std::chrono::milliseconds bookmark_every_;
  std::chrono::steady_clock::time_point deadline_;
  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<kube::Clock> clock_;
  std::chrono::steady_clock::time_point last_bookmark_;
  bool first_ = true;
  bool done_ = false;
};

// A watch with sendInitialEvents=true (the WatchList protocol kubectl 1.35 and client-go's
// informers use): every object as it is now as ADDED, then a BOOKMARK annotated
// k8s.io/initial-events-end at the list's resourceVersion, then the watch from there.
class InitialEventsSession final : public WatchSession {
 public:
  InitialEventsSession(std::vector<std::string> lines, std::shared_ptr<WatchSession> then)
      : lines_(std::move(lines)), then_(std::move(then)) {}
  std::optional<std::string> next(std::chrono::milliseconds wait) override {
    if (sent_ < lines_.size()) return std::move(lines_[sent_++]);
    return then_->next(wait);
  }
  bool done() const override { return sent_ >= lines_.size() && then_->done(); }

 private:
  std::vector<std::string> lines_;
  size_t sent_ = 0;
  std::shared_ptr<WatchSession> then_;
};

// The same events in protobuf's watch framing (protobuf_body.h), for a client that put
// protobuf first in Accept (client-go's controllers, the operator's pod informer). An event
// that cannot be encoded ends the watch: the client watches again, as after any cut.
class ProtobufWatchSession final : public WatchSession {
 public:
  explicit ProtobufWatchSession(std::shared_ptr<WatchSession> json) : json_(std::move(json)) {}
  std::optional<std::string> next(std::chrono::milliseconds wait) override {
    if (failed_) return std::nullopt;
    auto line = json_->next(wait);
    if (!line) return line;
    std::string error;
    auto frame = encode_protobuf_watch_frame(*line, error);
    if (!frame) failed_ = true;
    return frame;
  }
  bool done() const override { return failed_ || json_->done(); }

 private:
  std::shared_ptr<WatchSession> json_;
  bool failed_ = false;
};

}  // namespace

// ---------- ApiServer ----------

void ApiServer::restore_storage(ObjectStore& store, std::istream& saved) {
  store.set_field_extractor(extract_fields);
  store.restore(saved);
}

ApiServer::ApiServer(std::shared_ptr<ObjectStore> store, std::shared_ptr<kube::Clock> clock, ApiServerOptions opts)
    : store_(std::move(store)), clock_(std::move(clock)), opts_(std::move(opts)), authn_(opts_.bearer_token) {
  if (opts_.rbac) authz_ = std::make_unique<RbacAuthorizer>(store_);
  store_->set_field_extractor(extract_fields);
  pdbs_ = PdbSelectorIndex::attach(*store_);
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store_->get("/namespaces", "", ns)) continue;
    value obj = value::object();
    obj["apiVersion"] = value::string("v1");
    obj["kind"] = value::string("Namespace");
    obj["metadata"]["name"] = value::string(ns);
    obj["metadata"]["creationTimestamp"] = value::string(kube::format_rfc3339(clock_->now()));
    obj["spec"]["finalizers"][0] = value::string("kubernetes");
    obj["status"]["phase"] = value::string("Active");
    store_->create("/namespaces", obj);
  }
  // CRDs already in the store (a restarted server keeps its storage) are served again.
  auto crds = store_->list({.resource = "apiextensions.k8s.io/customresourcedefinitions"}, 0, "");
  if (crds.ok())
    for (const auto& c : crds.value().items) {
      std::error_code ec;
      on_crd_change(value::parse(c->json, ec), false);
    }
}

ApiResponse ApiServer::create_object(const value& obj) {
  const auto kind = str(obj, "kind"), api_version = str(obj, "apiVersion");
  if (obj.has_field("items") && obj.at("items").is_array() && kind.size() >= 4 &&
      kind.compare(kind.size() - 4, 4, "List") == 0) {
    ApiResponse last;
    for (const auto& item : obj.at("items").as_array()) {
      last = create_object(item);
      if (last.status >= 300) return last;
    }
    return last;
  }
  auto type = types_.find_kind(api_version, kind);
  if (!type)
    return error_response(400, "BadRequest", "no kind \"" + kind + "\" is registered for version \"" + api_version + "\"");
  Target t;
  t.type = type;
  if (type->namespaced) {
    t.ns = obj.has_field("metadata") ? str(obj.at("metadata"), "namespace") : "";
    if (t.ns.empty()) t.ns = "default";
    if (!store_->get("/namespaces", "", t.ns)) {
      value ns = value::object();
      ns["apiVersion"] = value::string("v1");
      ns["kind"] = value::string("Namespace");
      ns["metadata"]["name"] = value::string(t.ns);
      create_object(ns);
    }
  }
  ApiRequest req;
  req.method = "POST";
  req.body = model::to_json(obj);
  return create(req, t);
}

std::vector<RequestRecord> ApiServer::requests() const {
  std::lock_guard g(records_mu_);
  std::vector<RequestRecord> out;
  out.reserve(records_.size());
  for (const auto& [k, r] : records_) out.push_back(r);
  auto fields = [](const RequestRecord& r) { return std::tie(r.user_agent, r.verb, r.group, r.resource, r.subresource, r.ns, r.code); };
  std::sort(out.begin(), out.end(), [&](const RequestRecord& a, const RequestRecord& b) { return fields(a) < fields(b); });
  return out;
}

// A client that puts protobuf first in Accept (client-go's typed clients: kubectl's create,
// scale, drain; Helm's release Secrets) gets its answer in protobuf when Kubernetes has a
// message for the object; otherwise JSON, which those clients take too, or 406 for one that
// accepts nothing else. Watches stay JSON: client-go reads the stream's Content-Type.
static void encode_as_accepted(const ApiRequest& req, ApiResponse& resp) {
  bool only = false;
  if (resp.watch || resp.content_type != "application/json" || !prefers_protobuf(req.header("accept"), &only)) return;
  std::error_code ec;
  const value object = model::parse_json(resp.body, ec);
  std::string error;
  if (!ec)
    if (auto body = encode_protobuf_body(object, error)) {
      resp.body = std::move(*body);
      resp.content_type = kProtobufContentType;
      return;
    }
  if (only)
    resp = error_response(406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml, " +
                                                    std::string(kProtobufContentType) + " (" + error + ")");
}

ApiResponse ApiServer::handle(const ApiRequest& req) {
  RequestRecord rec;
  rec.user_agent = req.header("user-agent");
  ApiResponse resp;
  const bool public_path = req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz" || req.path == "/version";
  auto user = public_path ? std::optional<UserInfo>(Authenticator::admin()) : authn_.authenticate(req.header("authorization"));
  if (!user) {
    resp = error_response(401, "Unauthorized", "Unauthorized");
  } else {
    try {
      resp = route(req, rec, *user);
    } catch (const std::exception& e) {
      resp = error_response(500, "InternalError", std::string("Internal error occurred: ") + e.what());
    }
  }
  encode_as_accepted(req, resp);
  rec.code = resp.status;
  if (!rec.verb.empty()) {
    std::lock_guard g(records_mu_);
    // Distinct requests only, counted: the record stays small however long the sim runs.
    const std::string key = rec.user_agent + '\n' + rec.verb + '\n' + rec.group + '\n' + rec.resource + '\n' + rec.subresource +
                            '\n' + rec.ns + '\n' + std::to_string(rec.code);
    auto [it, fresh] = records_.try_emplace(key, rec);
    ++it->second.count;
  }
  return resp;
}


ApiResponse ApiServer::control(const ApiRequest& req) {
  // The embedded cluster's own knobs, for tests driving it from outside the process.
  if (req.method == "POST" && req.path == "/sim/v1/compact") {
    store_->compact();
    return json_response(200, value::object());
  }
  if (req.method == "POST" && req.path == "/sim/v1/drop-watches") {
    drop_watches();
    return json_response(200, value::object());
  }
  if (req.method == "GET" && req.path == "/sim/v1/requests") {
    // Every API request so far (verb, group, resource, subresource, namespace, code,
    // user agent): what the RBAC test holds the chart's rules against.
    value items = value::array();
    size_t i = 0;
    for (const auto& r : requests()) {
      value o = value::object();
      o["userAgent"] = value::string(r.user_agent);
      o["verb"] = value::string(r.verb);
      o["group"] = value::string(r.group);
      o["resource"] = value::string(r.resource);
      o["subresource"] = value::string(r.subresource);
      o["namespace"] = value::string(r.ns);
      o["code"] = value::number(r.code);
      o["count"] = value::number(static_cast<int64_t>(r.count));
      items[i++] = o;
    }
    value out = value::object();
    out["items"] = items;
    return json_response(200, out);
  }
  if (req.path == "/sim/v1/faults") {
    if (req.method == "PUT" || req.method == "POST") {
      std::error_code ec;
      auto body = value::parse(req.body, ec);
      if (ec || !body.has_field("rules") || !body.at("rules").is_array())
        return error_response(400, "BadRequest", "expected {\"rules\": [\"verb=...,resource=...,code=...,rate=...\"]}");
      std::vector<FaultRule> rules;
      for (const auto& r : body.at("rules").as_array()) {
        std::string err;
        auto rule = parse_fault_rule(r.is_string() ? r.as_string() : "", err);
        if (!rule) return error_response(400, "BadRequest", err);
        rules.push_back(*rule);
      }
      faults_.set_rules(rules);
    }
    value out = value::object();
    out["injected"] = value::number(static_cast<int64_t>(faults_.injected()));
    out["rules"] = value::number(static_cast<int64_t>(faults_.rules().size()));
    return json_response(200, out);
  }
  return error_response(404, "NotFound", "no such embedded-cluster control endpoint");
}

std::optional<ApiServer::Target> ApiServer::parse_target(const std::string& path, ApiResponse& error) {
  // /api/v1/... or /apis/<group>/<version>/...
  std::vector<std::string> seg;
  size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) seg.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  std::string group, version;
  size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    i = 3;
  } else {
    error = error_response(404, "NotFound", "the server could not find the requested resource");
    return std::nullopt;
  }
  Target t;
  std::vector<std::string> rest(seg.begin() + static_cast<long>(i), seg.end());
  // /namespaces/<ns>/<resource>... unless the path is about a namespace itself.
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    if (const auto named = types_.find(group, version, rest[2]); named && named->namespaced) {
      t.ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  if (rest.empty() || rest.size() > 3) {
    error = error_response(404, "NotFound", "the server could not find the requested resource");
    return std::nullopt;
  }
  t.type = types_.find(group, version, rest[0]);
  if (!t.type) {
    error = error_response(404, "NotFound", "the server could not find the requested resource");
    return std::nullopt;
  }
  if (rest.size() >= 2) t.name = rest[1];
  if (rest.size() == 3) {
    t.subresource = rest[2];
    const bool ok = (t.subresource == "status" && t.type->status_subresource) ||
                    (t.subresource == "eviction" && t.type->eviction_subresource) ||
                    (t.subresource == "binding" && t.type->binding_subresource) ||
                    (t.subresource == "scale" && t.type->scale_subresource) ||
                    (t.subresource == "token" && t.type->group.empty() && t.type->resource == "serviceaccounts");
    if (!ok) {
      error = error_response(404, "NotFound", "the server could not find the requested resource");
      return std::nullopt;
    }
  }
  return t;
}

namespace {

// The verb kube-apiserver's RequestInfo names a request by (staging/src/k8s.io/apiserver/pkg/
// endpoints/request/requestinfo.go), or "" for a method it does not serve.
std::string request_verb(const ApiRequest& req, bool collection) {
  if (req.method == "GET") return collection ? (query_bool(req, "watch") ? "watch" : "list") : "get";
  if (req.method == "POST") return "create";
  if (req.method == "PUT") return "update";
  if (req.method == "PATCH") return "patch";
  if (req.method == "DELETE") return collection ? "deletecollection" : "delete";
  return "";
}

// An injected fault's answer, worded as kube-apiserver words the real one.
ApiResponse injected(int code) {
  if (code == 429) {
    auto r = error_response(429, "TooManyRequests", "injected: too many requests, please try again later", R"({"retryAfterSeconds":1})");
    r.headers["Retry-After"] = "1";
    return r;
  }
  if (code == 409) return error_response(409, "Conflict", "injected: the object has been modified; please apply your changes to the latest version and try again");
  if (code == 503) return error_response(503, "ServiceUnavailable", "injected: the server is currently unable to handle the request");
  return error_response(500, "InternalError", "injected: Internal error occurred");
}

}  // namespace

std::optional<ApiResponse> ApiServer::forbidden(const ApiRequest& req, const Target& t, const std::string& verb, const UserInfo& user) const {
  if (!authz_) return std::nullopt;
  RequestAttributes a{.verb = verb, .group = t.type->group, .resource = t.type->resource, .subresource = t.subresource, .ns = t.ns, .name = t.name};
  // A list or watch of one object by name (fieldSelector metadata.name=x) is authorized for
  // that name, so resourceNames rules allow it, as kube-apiserver's RequestInfo does.
  if ((verb == "list" || verb == "watch") && a.name.empty()) {
    const std::string fs = query(req, "fieldSelector");
    static const std::string kByName = "metadata.name=";
    if (fs.compare(0, kByName.size(), kByName) == 0 && fs.find(',') == std::string::npos) a.name = fs.substr(kByName.size());
  }
  if (authz_->allowed(user, a)) return std::nullopt;
  value d = value::object();
  if (!a.name.empty()) d["name"] = value::string(a.name);
  if (!a.group.empty()) d["group"] = value::string(a.group);
  d["kind"] = value::string(a.resource);
  return error_response(403, "Forbidden", RbacAuthorizer::forbidden_message(user, a), d.serialize());
}

ApiResponse ApiServer::route(const ApiRequest& req, RequestRecord& rec, const UserInfo& user) {
  bool handled = false;
  if (req.path.rfind("/sim/v1/", 0) == 0) {
    // The embedded cluster's own knobs are the admin's.
    if (authz_ && std::find(user.groups.begin(), user.groups.end(), "system:masters") == user.groups.end())
      return error_response(403, "Forbidden", RbacAuthorizer::forbidden_message(user, {.resource_request = false, .verb = "post", .path = req.path}));
    return control(req);
  }
  if (req.method == "GET") {
    auto d = discovery(req, handled);
    if (handled) return d;
  }
  ApiResponse err;
  auto t = parse_target(req.path, err);
  if (!t) return err;
  t->object_unread = req.object_unread;
  t->field_validation = query(req, "fieldValidation");
  t->field_manager = query(req, "fieldManager");
  t->field_manager_asked = !t->field_manager.empty();
  if (!t->field_manager_asked) t->field_manager = rec.user_agent.substr(0, rec.user_agent.find('/'));
  rec.group = t->type->group;
  rec.resource = t->type->resource;
  rec.subresource = t->subresource;
  rec.ns = t->ns;
  const bool collection = t->name.empty();
  const std::string verb = request_verb(req, collection);
  if (verb.empty()) return error_response(405, "MethodNotAllowed", req.method + " is not supported");
  rec.verb = verb;
  if (auto refused = forbidden(req, *t, verb, user)) return *refused;
  // Faults are for the clients under test; the cluster's own simulated components (the
  // "nonevent-sim" agent) are part of the server and are never refused.
  const auto d = rec.user_agent == "nonevent-sim" ? FaultInjector::Decision{}
                                                  : faults_.decide(verb, t->type->resource + (t->subresource.empty() ? "" : "/" + t->subresource));
  if (d.latency.count() > 0) std::this_thread::sleep_for(d.latency);
  if (d.code != 0) return injected(d.code);

  if (t->subresource == "scale") return scale(req, *t, verb);
  if (t->subresource == "token") return verb == "create" ? token_request(req, *t) : error_response(405, "MethodNotAllowed", req.method + " is not supported");
  if (verb == "get") return get(req, *t);
  if (verb == "list") return list(req, *t);
  if (verb == "watch") return watch(req, *t);
  if (verb == "create") {
    if (t->subresource == "eviction") return evict(req, *t);
    if (t->subresource == "binding") return bind(req, *t);
    if (t->type->resource == "tokenreviews" || t->type->resource == "subjectaccessreviews") return review(req, *t);
    if (collection) return create(req, *t);
    return error_response(405, "MethodNotAllowed", "POST is not supported on a named object");
  }
  if (verb == "update") return collection ? error_response(405, "MethodNotAllowed", "PUT needs an object name") : replace(req, *t);
  if (verb == "patch") return collection ? error_response(405, "MethodNotAllowed", "PATCH needs an object name") : patch(req, *t);
  if (verb == "delete") return remove(req, *t);
  return remove_collection(req, *t);
}

ApiResponse ApiServer::get(const ApiRequest& req, const Target& t) {
  auto o = store_->get(t.type->key(), t.ns, t.name);
  if (!o) return error_response(404, "NotFound", t.type->resource + " \"" + t.name + "\" not found",
                                R"({"name":")" + t.name + R"(","kind":")" + t.type->resource + "\"}");
  if (wants_table(req)) {
    std::error_code ec;
    return json_response(200, render_table(*t.type, {value::parse(o->json, ec)}, clock_->now(),
                                           query(req, "includeObject"), std::to_string(o->rv), ""));
  }
  ApiResponse r;
  r.body = o->json;
  return r;
}

ApiResponse ApiServer::list(const ApiRequest& req, const Target& t) {
  auto ls = parse_label_selector(query(req, "labelSelector"));
  if (!ls.selector) return error_response(400, "BadRequest", "unable to parse requirement: " + ls.error);
  auto fs = parse_field_selector(query(req, "fieldSelector"));
  if (!fs.selector) return error_response(400, "BadRequest", fs.error);
  for (const auto& r : fs.selector->requirements) {
    StringMap probe;
    probe["metadata.name"] = "";
    probe["metadata.namespace"] = "";
    extract_fields(t.type->key(), value::object(), probe);
    if (!probe.count(r.key))
      return error_response(400, "BadRequest", "field label not supported: " + r.key);
  }
  long limit = 0;
  if (auto l = query(req, "limit"); !l.empty()) {
    try {
      limit = std::stol(l);
    } catch (const std::exception&) {
      return error_response(400, "BadRequest", "limit must be an integer");
    }
  }
  WatchFilter f{t.type->key(), t.ns, *ls.selector, *fs.selector};
  auto res = store_->list(f, limit, query(req, "continue"));
  if (!res.ok()) return from_error(res.error());
  const auto& lr = res.value();
  if (wants_table(req)) {
    std::vector<value> objs;
    std::error_code ec;
    for (const auto& o : lr.items) objs.push_back(value::parse(o->json, ec));
    return json_response(200, render_table(*t.type, objs, clock_->now(), query(req, "includeObject"),
                                           std::to_string(lr.rv), lr.continue_token));
  }
  // Assembled as text: items are stored as JSON already.
  std::string body = R"({"kind":")" + t.type->list_kind() + R"(","apiVersion":")" + t.type->api_version() +
                     R"(","metadata":{"resourceVersion":")" + std::to_string(lr.rv) + "\"";
  if (!lr.continue_token.empty())
    body += R"(,"continue":")" + lr.continue_token + R"(","remainingItemCount":)" + std::to_string(lr.remaining);
  body += R"(},"items":[)";
  for (size_t i = 0; i < lr.items.size(); ++i) {
    if (i) body.push_back(',');
    // List items carry no kind/apiVersion on a real server, but clients accept both; keep
    // stored objects as they are.
    body += lr.items[i]->json;
  }
  body += "]}";
  ApiResponse r;
  r.body = std::move(body);
  return r;
}

ApiResponse ApiServer::watch(const ApiRequest& req, const Target& t) {
  auto ls = parse_label_selector(query(req, "labelSelector"));
  if (!ls.selector) return error_response(400, "BadRequest", "unable to parse requirement: " + ls.error);
  auto fs = parse_field_selector(query(req, "fieldSelector"));
  if (!fs.selector) return error_response(400, "BadRequest", fs.error);
  WatchFilter f{t.type->key(), t.ns, *ls.selector, *fs.selector};
  const bool initial_events = query_bool(req, "sendInitialEvents");
  if (initial_events && query(req, "resourceVersionMatch") != "NotOlderThan")  // kube-apiserver's validation
    return error_response(422, "Invalid", "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
  std::vector<std::string> initial;
  std::string from_rv = query(req, "resourceVersion");
  if (initial_events) {
    auto now = store_->list(f, 0, "");
    if (!now.ok()) return from_error(now.error());
    for (const auto& o : now.value().items) initial.push_back(R"({"type":"ADDED","object":)" + o->json + "}\n");
    from_rv = std::to_string(now.value().rv);
    initial.push_back(R"({"type":"BOOKMARK","object":{"kind":")" + t.type->kind + R"(","apiVersion":")" + t.type->api_version() +
                      R"(","metadata":{"resourceVersion":")" + from_rv + R"(","annotations":{"k8s.io/initial-events-end":"true"}}}})" + "\n");
  }
  auto w = store_->watch(f, from_rv);
  long timeout_s = 1800 + std::uniform_int_distribution<long>(0, 1800)(*std::make_unique<std::mt19937>(std::random_device{}()));
  if (auto ts = query(req, "timeoutSeconds"); !ts.empty()) {
    try {
      timeout_s = std::stol(ts);
    } catch (const std::exception&) {
      return error_response(400, "BadRequest", "timeoutSeconds must be an integer");
    }
  }
  ApiResponse r;
  if (!w.ok()) {
    // A real server answers 200 and then one ERROR event carrying the 410 Status.
    struct Expired final : WatchSession {
      std::string line;
      bool sent = false;
      std::optional<std::string> next(std::chrono::milliseconds) override {
        if (sent) return std::nullopt;
        sent = true;
        return line;
      }
      bool done() const override { return sent; }
    };
    auto e = std::make_shared<Expired>();
    e->line = R"({"type":"ERROR","object":)" + status_json(w.error().code, w.error().reason, w.error().message) + "}\n";
    if (w.error().code != 410) return from_error(w.error());
    r.watch = e;
    as_protobuf_watch_if_asked(req, *t.type, r);
    return r;
  }
  const bool bookmarks = query_bool(req, "allowWatchBookmarks");
  r.watch = std::make_shared<StoreWatchSession>(w.value(), *t.type, wants_table(req), bookmarks, opts_.bookmark_interval,
                                                std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s),
                                                store_, clock_);
  if (initial_events) r.watch = std::make_shared<InitialEventsSession>(std::move(initial), r.watch);
  as_protobuf_watch_if_asked(req, *t.type, r);
  return r;
}

// kube-apiserver streams a watch in protobuf when the client puts it first and the kind has
// a message (custom resources have none; a Table is JSON).
void ApiServer::as_protobuf_watch_if_asked(const ApiRequest& req, const ResourceType& type, ApiResponse& r) {
  if (wants_table(req) || !prefers_protobuf(req.header("accept")) || !proto::message_for(type.api_version(), type.kind)) return;
  r.watch = std::make_shared<ProtobufWatchSession>(r.watch);
  r.content_type = kProtobufWatchContentType;
}

// The object a create or update sends: JSON, or protobuf for the kinds client-go's typed
// clients send that way (protobuf_body.h).
// An in-process caller's body DOM, taken out of the request.
static value take_body_value(const ApiRequest& req) {
  value v = std::move(*req.body_value);
  req.body_value.reset();
  return v;
}

kube::Result<value> detail::parse_body(const ApiRequest& req) {
  ApiError e;
  e.code = 400;
  e.reason = "BadRequest";
  if (is_protobuf_content_type(req.header("content-type"))) {
    std::string error;
    if (auto o = decode_protobuf_body(req.body, error)) return *o;
    e.code = 415;
    e.reason = "UnsupportedMediaType";
    e.message = error;
    return e;
  }
  std::error_code ec;
  value obj = req.body_value ? take_body_value(req) : model::parse_json(req.body, ec);
  if (ec || !obj.is_object()) {
    e.message = "the request body is not a JSON object";
    return e;
  }
  return obj;
}

ApiResponse ApiServer::create(const ApiRequest& req, const Target& t) {
  if (!terminating_crd_of(*t.type).empty())  // kube-apiserver's words (customresource_handler.go)
    return error_response(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating");
  auto body = parse_body(req);
  if (!body.ok()) return from_error(body.error());
  value obj = std::move(body.value());
  std::error_code ec;
  const auto kind = str(obj, "kind"), api_version = str(obj, "apiVersion");
  if (!kind.empty() && kind != t.type->kind)
    return error_response(400, "BadRequest", "the kind \"" + kind + "\" does not match the resource " + t.type->resource + " (" + t.type->kind + ")");
  if (!api_version.empty() && api_version != t.type->api_version())
    return error_response(400, "BadRequest", "the API version in the data (" + api_version + ") does not match the expected API version (" + t.type->api_version() + ")");
  obj["kind"] = value::string(t.type->kind);
  obj["apiVersion"] = value::string(t.type->api_version());
  auto& meta = obj["metadata"];
  if (!meta.is_object()) meta = value::object();
  strip_read_only_meta(meta);
  if (!meta.has_field("name") || str(meta, "name").empty()) {
    const auto gen = str(meta, "generateName");
    if (gen.empty())
      return error_response(422, "Invalid", t.type->kind + " \"\" is invalid: metadata.name: Required value: name or generateName is required",
                            R"({"kind":")" + t.type->resource + R"(","causes":[{"reason":"FieldValueRequired","message":"Required value: name or generateName is required","field":"metadata.name"}]})");
    static std::mt19937 rng(std::random_device{}());
    static std::mutex rng_mu;  // creates come from every serving thread and both of the sim's
    static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string suffix;
    {
      std::lock_guard g(rng_mu);
      for (int i = 0; i < 5; ++i) suffix.push_back(alphabet[rng() % 27]);
    }
    meta["name"] = value::string(gen + suffix);
  }
  const auto body_ns = str(meta, "namespace");
  if (t.type->namespaced) {
    if (!body_ns.empty() && !t.ns.empty() && body_ns != t.ns)
      return error_response(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
    const auto ns = t.ns.empty() ? body_ns : t.ns;
    if (ns.empty()) return error_response(400, "BadRequest", "a namespace is required for " + t.type->resource);
    if (!store_->get("/namespaces", "", ns))
      return error_response(404, "NotFound", "namespaces \"" + ns + "\" not found", R"({"name":")" + ns + R"(","kind":"namespaces"})");
    meta["namespace"] = value::string(ns);
  } else if (meta.has_field("namespace")) {
    meta.erase("namespace");
  }
  meta["creationTimestamp"] = value::string(kube::format_rfc3339(clock_->now()));
  meta["generation"] = value::number(1);
  if (t.type->custom && t.type->status_subresource && obj.has_field("status")) obj.erase("status");
  apply_builtin_create_defaults(obj, *t.type, *store_);
  return write(t, std::move(obj), nullptr, "", 201);
}

ApiResponse ApiServer::write(const Target& t, value obj, const StoredPtr& current, const std::string& expected_rv, int ok_code) {
  const auto& type = *t.type;
  std::vector<std::string> warnings;  // sent as Warning headers (RFC 7234 code 299), as kube-apiserver does
  if (type.custom && !type.crd_schema_json.empty()) {
    std::error_code ec;
    auto schema = value::parse(type.crd_schema_json, ec);
    // Structural pruning as kube-apiserver does it: fields the schema does not declare are
    // dropped, refused with fieldValidation=Strict (kubectl's default), warned about with
    // Warn (the server's default).
    if (auto unknown = prune_unknown_fields(obj, schema); !unknown.empty()) {
      std::string list;
      for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + ("unknown field \"" + u + "\"");
      if (t.field_validation == "Strict")
        return error_response(400, "BadRequest", type.kind + " in version \"" + type.version + "\" cannot be handled as a " + type.kind +
                                                     ": strict decoding error: " + list);
      if (t.field_validation != "Ignore")
        for (const auto& u : unknown) warnings.push_back("unknown field \"" + u + "\"");
    }
    apply_defaults(obj, schema);
    std::vector<std::string> errs;
    validate(obj, schema, "", errs);
    if (!errs.empty()) {
      std::string msg = type.kind + ".nonevent.dev \"" + str(obj.at("metadata"), "name") + "\" is invalid: ";
      std::string causes;
      for (size_t i = 0; i < errs.size(); ++i) {
        std::string e = errs[i].rfind('.', 0) == 0 ? errs[i].substr(1) : errs[i];
        msg += (i ? ", " : "") + e;
        auto colon = e.find(": ");
        value c = value::object();
        c["reason"] = value::string("FieldValueInvalid");
        c["message"] = value::string(colon == std::string::npos ? e : e.substr(colon + 2));
        c["field"] = value::string(colon == std::string::npos ? "" : e.substr(0, colon));
        causes += (causes.empty() ? "" : ",") + c.serialize();
      }
      if (!type.group.empty()) msg.replace(msg.find(".nonevent.dev"), 13, "." + type.group);
      return error_response(422, "Invalid", msg, R"({"name":")" + str(obj.at("metadata"), "name") + R"(","group":")" + type.group +
                                                     R"(","kind":")" + type.kind + R"(","causes":[)" + causes + "]}");
    }
  }
  // managedFields, for an object a client that names itself writes or one already tracked
  // (the embedded cluster's own components write untracked objects untracked: at 150,000
  // pods the bookkeeping would be most of the work, and no apply ever meets it).
  if (!t.apply && (t.field_manager_asked || (current && current->json.find("\"managedFields\"") != std::string::npos))) {
    std::error_code ec;
    const value before = current ? model::parse_json(current->json, ec) : value::null();
    record_update(current ? &before : nullptr, obj, t.field_manager.empty() ? "unknown" : t.field_manager, t.subresource,
                  type.status_subresource, type.api_version(), kube::format_rfc3339(clock_->now()), schema_of(type));
  }
  // What is needed of the object after it is stored (the store only adds resourceVersion and,
  // on create, uid): read now, so the object can be moved in rather than parsed back.
  const bool finalized = obj.has_field("metadata") && obj.at("metadata").has_field("deletionTimestamp") && !has_finalizers(obj);
  const bool crd = type.kind == "CustomResourceDefinition";
  kube::Result<StoredPtr> res = current ? store_->update(type.key(), std::move(obj), expected_rv) : store_->create(type.key(), std::move(obj));
  if (!res.ok()) return from_error(res.error());
  StoredPtr stored = res.value();
  // A terminating object whose last finalizer went away is deleted now.
  if (finalized || crd) {
    std::error_code ec;
    auto written = model::parse_json(stored->json, ec);
    if (finalized) {
      auto gone = store_->remove(type.key(), stored->ns, stored->name);
      if (gone.ok()) collect_garbage(str(written["metadata"], "uid"), "Background");
      if (auto crd_name = terminating_crd_of(type); gone.ok() && !crd_name.empty()) delete_custom_resources(crd_name);
    }
    if (crd) on_crd_change(written, /*deleted=*/finalized);
  }
  ApiResponse r;
  r.status = ok_code;
  for (const auto& w : warnings) {
    auto& h = r.headers["Warning"];
    value text = value::string(w);
    h += (h.empty() ? "" : ", ") + ("299 - " + text.serialize());
  }
  if (!t.object_unread) r.body = stored->json;
  return r;
}

ApiResponse ApiServer::replace(const ApiRequest& req, const Target& t) {
  auto current = store_->get(t.type->key(), t.ns, t.name);
  if (!current) return error_response(404, "NotFound", t.type->resource + " \"" + t.name + "\" not found");
  auto body = parse_body(req);
  if (!body.ok()) return from_error(body.error());
  value obj = std::move(body.value());
  std::error_code ec;
  if (str(obj["metadata"], "name") != t.name)
    return error_response(400, "BadRequest", "the name of the object (" + str(obj["metadata"], "name") + ") does not match the name on the URL (" + t.name + ")");
  const auto expected_rv = str(obj["metadata"], "resourceVersion");
  auto cur = model::parse_json(current->json, ec);
  if (auto refused = pod_update_refused(t, cur, obj)) return *refused;
  return write(t, merge_update(t, cur, std::move(obj)), current, expected_rv, 200);
}

std::optional<ApiResponse> ApiServer::pod_update_refused(const Target& t, const value& cur, const value& obj) {
  // Only the pod itself: its status subresource changes status only (merge_update).
  if (!t.type->group.empty() || t.type->resource != "pods" || !t.subresource.empty()) return std::nullopt;
  const auto why = pod_update_error(cur, obj);
  if (why.empty()) return std::nullopt;
  const auto colon = why.find(": ");
  value cause = value::object();
  cause["reason"] = value::string(why.find("Forbidden") != std::string::npos ? "FieldValueForbidden" : "FieldValueInvalid");
  cause["message"] = value::string(why.substr(colon + 2));
  cause["field"] = value::string(why.substr(0, colon));
  return error_response(422, "Invalid", "Pod \"" + t.name + "\" is invalid: " + why,
                        R"({"name":")" + t.name + R"(","kind":"Pod","causes":[)" + cause.serialize() + "]}");
}

value ApiServer::merge_update(const Target& t, value cur, value obj) {
  // The rules of an update: identity and system metadata come from the stored object; the
  // main resource cannot change status and the status subresource can change nothing else.
  value out;
  if (t.subresource == "status") {
    out = std::move(cur);
    if (obj.has_field("status")) out["status"] = std::move(obj["status"]);
    else if (out.has_field("status")) out.erase("status");
  } else {
    out = std::move(obj);
    if (t.type->status_subresource) {
      if (cur.has_field("status")) out["status"] = cur.at("status");
      else if (out.has_field("status")) out.erase("status");
    }
    out["kind"] = value::string(t.type->kind);
    out["apiVersion"] = value::string(t.type->api_version());
    auto& meta = out["metadata"];
    const auto& cmeta = cur.at("metadata");
    for (const char* k : {"uid", "creationTimestamp", "namespace", "name", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      if (cmeta.has_field(k)) meta[k] = cmeta.at(k);
      else if (meta.has_field(k)) meta.erase(k);
    }
    int64_t gen = cmeta.has_field("generation") ? cmeta.at("generation").as_number().to_int64() : 1;
    if (spec_differs(out, cur)) ++gen;
    meta["generation"] = value::number(gen);
  }
  return out;
}

ApiResponse ApiServer::patch(const ApiRequest& req, const Target& t) {
  if (req.header("content-type").starts_with("application/apply-patch")) return apply(req, t);
  // As the real storage layer's GuaranteedUpdate: the patch is applied to the object as read
  // and written only if nobody wrote in between; otherwise it is applied again to the newer
  // object. (A patch that names a resourceVersion itself gets the 409 instead.) Without this
  // two concurrent patches of different fields could lose one of them.
  // The body once, for every attempt; an invalid one is answered after the object is found
  // (a missing object is a 404 whatever the patch).
  std::optional<value> body;
  if (req.status_json) {
    // Parsed only if the status cannot be spliced in as it is (patch_once).
  } else if (req.body_value) {
    body = take_body_value(req);
  } else {
    std::error_code ec;
    body = model::parse_json(req.body, ec);
    if (ec) body.reset();
  }
  // A patch without a resourceVersion of its own never answers 409 in kube-apiserver: its
  // GuaranteedUpdate reads again and retries until the write lands. Here too, bounded only
  // against a livelock (a test's patch used to lose 16 races in a row to a busy operator).
  for (int attempt = 0;; ++attempt) {
    bool retryable = false;
    auto r = patch_once(req, t, body, retryable);
    if (r.status != 409 || !retryable || attempt >= 1000) return r;
    if (attempt >= 16) std::this_thread::yield();
  }
}

ApiResponse ApiServer::patch_once(const ApiRequest& req, const Target& t, std::optional<value>& patch_body, bool& retryable) {
  auto current = store_->get(t.type->key(), t.ns, t.name);
  if (!current) return error_response(404, "NotFound", t.type->resource + " \"" + t.name + "\" not found",
                                      R"({"name":")" + t.name + R"(","kind":")" + t.type->resource + "\"}");
  if (req.status_json && !patch_body) {
    if (auto done = status_json_in_place(t, current, *req.status_json, retryable)) return std::move(*done);
    std::error_code ec;
    value status = model::parse_json(*req.status_json, ec);
    if (!ec) {
      patch_body = value::array(1);
      (*patch_body)[0]["op"] = value::string("add");
      (*patch_body)[0]["path"] = value::string("/status");
      (*patch_body)[0]["value"] = std::move(status);
    }
  }
  if (!patch_body) return error_response(400, "BadRequest", "the patch is not valid JSON");
  std::string ct = req.status_json ? "application/json-patch+json" : req.header("content-type");
  if (auto semi = ct.find(';'); semi != std::string::npos) ct = ct.substr(0, semi);
  if (auto done = patch_status_in_place(t, current, *patch_body, ct, retryable)) return std::move(*done);
  const value& p = *patch_body;
  std::error_code ec;
  auto cur = model::parse_json(current->json, ec);
  // A merge patch of the status subresource keeps only the patched status (merge_update), so
  // the status alone is patched, taken out of `cur` rather than copied with the whole object:
  // status writes are most of a simulated cluster's writes, and copying the pod for each was
  // a twentieth of them. A JSON patch may test or move any path: it gets a whole copy.
  value target;
  if (t.subresource == "status" && ct != "application/json-patch+json") {
    target = value::object();
    if (cur.has_field("status")) {
      target["status"] = std::move(cur["status"]);  // a swap: cur's status is left null
      cur.erase("status");
    }
  } else {
    target = cur;
  }
  std::string expected_rv;
  if (ct == "application/json-patch+json") {
    auto r = apply_json_patch(target, p);
    if (!r.ok) return error_response(r.code, r.code == 422 ? "Invalid" : "BadRequest", r.message);
  } else if (ct == "application/merge-patch+json") {
    apply_merge_patch(target, p);
    expected_rv = p.has_field("metadata") ? str(p.at("metadata"), "resourceVersion") : "";
  } else if (ct == "application/strategic-merge-patch+json") {
    if (t.type->custom)
      return error_response(415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media types include: "
                            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    auto r = apply_strategic_merge_patch(target, p, SchemaNode::for_kind(t.type->group, t.type->version, t.type->kind));
    if (!r.ok) return error_response(r.code, "BadRequest", r.message);
    expected_rv = p.has_field("metadata") ? str(p.at("metadata"), "resourceVersion") : "";
  } else {
    return error_response(415, "UnsupportedMediaType",
                          "the body of the request was in an unknown format - accepted media types include: "
                          "application/json-patch+json, application/merge-patch+json" +
                              std::string(t.type->custom ? "" : ", application/strategic-merge-patch+json"));
  }
  if (!target.is_object()) return error_response(422, "Invalid", "the patch produced something that is not an object");
  const bool caller_rv = !expected_rv.empty();
  if (!caller_rv) expected_rv = std::to_string(current->rv);
  retryable = !caller_rv;
  if (auto refused = pod_update_refused(t, cur, target)) return *refused;
  return write(t, merge_update(t, std::move(cur), std::move(target)), current, expected_rv, 200);
}



}  // namespace nonevent::sim
