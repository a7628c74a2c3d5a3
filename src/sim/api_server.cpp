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
#include "sim/patch.h"
#include "sim/pod_update_rules.h"
#include "sim/protobuf_body.h"
#include "sim/table.h"

namespace nonevent::sim {

using kube::ApiError;
using web::json::value;

// ---------- responses ----------

std::string status_json(int code, const std::string& reason, const std::string& message,
                        const std::string& details_json) {
  value st = value::object();
  st["kind"] = value::string("Status");
  st["apiVersion"] = value::string("v1");
  st["metadata"] = value::object();
  st["status"] = value::string(code < 400 ? "Success" : "Failure");
  if (!message.empty()) st["message"] = value::string(message);
  if (!reason.empty()) st["reason"] = value::string(reason);
  if (!details_json.empty()) {
    std::error_code ec;
    st["details"] = value::parse(details_json, ec);
  }
  st["code"] = value::number(code);
  return st.serialize();
}

ApiResponse error_response(int code, const std::string& reason, const std::string& message,
                           const std::string& details_json) {
  ApiResponse r;
  r.status = code;
  r.body = status_json(code, reason, message, details_json);
  return r;
}

namespace {

ApiResponse json_response(int code, const value& v) {
  ApiResponse r;
  r.status = code;
  r.body = v.serialize();
  return r;
}
ApiResponse from_error(const ApiError& e) { return error_response(e.code, e.reason, e.message); }

std::string str(const value& v, const char* k) {
  return v.is_object() && v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : "";
}

bool wants_table(const ApiRequest& req) {
  return req.header("accept").find("as=Table") != std::string::npos;
}

std::string query(const ApiRequest& req, const std::string& k) {
  auto it = req.query.find(k);
  return it == req.query.end() ? "" : it->second;
}

// Booleans in queries parse as Go's strconv.ParseBool does ("true", "True", "1", ...): the
// Python client sends watch=True.
bool query_bool(const ApiRequest& req, const std::string& k) {
  const auto v = query(req, k);
  return v == "true" || v == "True" || v == "TRUE" || v == "1" || v == "t" || v == "T";
}

value resource_list_entry(const ResourceType& t) {
  value r = value::object();
  r["name"] = value::string(t.resource);
  r["singularName"] = value::string(t.singular);
  r["namespaced"] = value::boolean(t.namespaced);
  r["kind"] = value::string(t.kind);
  value verbs = value::array();
  for (size_t i = 0; i < t.verbs.size(); ++i) verbs[i] = value::string(t.verbs[i]);
  r["verbs"] = verbs;
  if (!t.short_names.empty()) {
    value sn = value::array();
    for (size_t i = 0; i < t.short_names.size(); ++i) sn[i] = value::string(t.short_names[i]);
    r["shortNames"] = sn;
  }
  if (!t.categories.empty()) {
    value c = value::array();
    for (size_t i = 0; i < t.categories.size(); ++i) c[i] = value::string(t.categories[i]);
    r["categories"] = c;
  }
  return r;
}

void strip_read_only_meta(value& meta) {
  for (const char* k : {"resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation", "selfLink"})
    if (meta.has_field(k)) meta.erase(k);
}

// Everything but metadata and status: what a generation bump is about.
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

bool has_finalizers(const value& obj) {
  return obj.has_field("metadata") && obj.at("metadata").has_field("finalizers") &&
         obj.at("metadata").at("finalizers").is_array() && obj.at("metadata").at("finalizers").size() > 0;
}

// Applies a CRD's structural-schema defaults to an object (recursively, where absent).
void apply_defaults(value& obj, const value& schema) {
  if (!schema.is_object()) return;
  if (obj.is_object() && schema.has_field("properties") && schema.at("properties").is_object()) {
    for (const auto& [k, sub] : schema.at("properties").as_object()) {
      if (!obj.has_field(k) && sub.has_field("default")) obj[k] = sub.at("default");
      if (obj.has_field(k)) apply_defaults(obj[k], sub);
    }
  }
  if (obj.is_array() && schema.has_field("items"))
    for (size_t i = 0; i < obj.size(); ++i) apply_defaults(obj[i], schema.at("items"));
}

// x-kubernetes-validations: each CEL rule with `self` = the value at `path`; a false rule or an
// evaluation error is the rule's message at the path (or the rule's fieldPath under it), as
// kube-apiserver words it. A rule outside the CEL subset sim/cel.h evaluates is skipped.
void validate_rules(const value& obj, const value& schema, const std::string& path, std::vector<std::string>& errs) {
  if (!schema.has_field("x-kubernetes-validations") || !schema.at("x-kubernetes-validations").is_array()) return;
  const char* kind = obj.is_object() ? "object" : obj.is_array() ? "array" : obj.is_string() ? "string" : obj.is_boolean() ? "boolean"
                                                                                                          : obj.is_integer() ? "integer" : "number";
  for (const auto& r : schema.at("x-kubernetes-validations").as_array()) {
    const std::string rule = str(r, "rule");
    std::string err;
    auto program = cel::Program::compile(rule, err);
    if (!program) continue;
    auto ok = program->evaluate(obj, err);
    if (ok && *ok) continue;
    std::string message = str(r, "message");
    if (message.empty()) message = "failed rule: " + rule;
    if (!ok) message = err + " evaluating rule: " + rule;
    errs.push_back(path + str(r, "fieldPath") + ": Invalid value: \"" + kind + "\": " + message);
  }
}

// Structural validation of the schema subset CRDs use most: types, required, enum, minimum,
// maximum, minItems, maxItems, minLength, pattern; then the CEL rules. Errors are "field: message".
void validate(const value& obj, const value& schema, const std::string& path, std::vector<std::string>& errs) {
  if (!schema.is_object()) return;
  if (schema.has_field("x-kubernetes-int-or-string") && schema.at("x-kubernetes-int-or-string").as_bool()) {
    if (!obj.is_string() && !obj.is_integer()) errs.push_back(path + ": Invalid value: must be an integer or a string");
    else validate_rules(obj, schema, path, errs);
    return;
  }
  const size_t errs_before = errs.size();
  const std::string type = str(schema, "type");
  auto bad_type = [&](const char* want) { errs.push_back(path + ": Invalid value: \"" + obj.serialize() + "\": " + path + " in body must be of type " + want); };
  if (type == "object" && !obj.is_object()) return bad_type("object");
  if (type == "array" && !obj.is_array()) return bad_type("array");
  if (type == "string" && !obj.is_string()) return bad_type("string");
  if (type == "integer" && !obj.is_integer()) return bad_type("integer");
  if (type == "number" && !obj.is_number()) return bad_type("number");
  if (type == "boolean" && !obj.is_boolean()) return bad_type("boolean");
  if (schema.has_field("enum") && schema.at("enum").is_array()) {
    bool found = false;
    for (const auto& e : schema.at("enum").as_array()) found = found || e.serialize() == obj.serialize();
    if (!found) {
      std::string allowed;
      for (const auto& e : schema.at("enum").as_array()) allowed += (allowed.empty() ? "" : ", ") + e.serialize();
      errs.push_back(path + ": Unsupported value: " + obj.serialize() + ": supported values: " + allowed);
    }
  }
  if (obj.is_number()) {
    if (schema.has_field("minimum") && obj.as_double() < schema.at("minimum").as_double())
      errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should be greater than or equal to " + schema.at("minimum").serialize());
    if (schema.has_field("maximum") && obj.as_double() > schema.at("maximum").as_double())
      errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should be less than or equal to " + schema.at("maximum").serialize());
  }
  if (obj.is_array()) {
    if (schema.has_field("minItems") && obj.size() < static_cast<size_t>(schema.at("minItems").as_integer()))
      errs.push_back(path + ": Invalid value: " + std::to_string(obj.size()) + ": " + path + " in body should have at least " + schema.at("minItems").serialize() + " items");
    if (schema.has_field("maxItems") && obj.size() > static_cast<size_t>(schema.at("maxItems").as_integer()))
      errs.push_back(path + ": Too many: " + std::to_string(obj.size()) + ": must have at most " + schema.at("maxItems").serialize() + " items");
    if (schema.has_field("items"))
      for (size_t i = 0; i < obj.size(); ++i) validate(obj.at(i), schema.at("items"), path + "[" + std::to_string(i) + "]", errs);
  }
  if (obj.is_string() && schema.has_field("pattern")) {
    try {
      if (!std::regex_search(obj.as_string(), std::regex(schema.at("pattern").as_string())))
        errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should match '" +
                       schema.at("pattern").as_string() + "'");
    } catch (const std::regex_error&) {
      // A pattern std::regex cannot compile (RE2-only syntax) is not enforced here.
    }
  }
  if (obj.is_string() && str(schema, "format") == "date-time" && !kube::parse_rfc3339(obj.as_string()))
    errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body must be of type date-time");
  if (obj.is_string() && schema.has_field("minLength") &&
      obj.as_string().size() < static_cast<size_t>(schema.at("minLength").as_integer()))
    errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should be at least " + schema.at("minLength").serialize() + " chars long");
  if (obj.is_object()) {
    if (schema.has_field("required") && schema.at("required").is_array())
      for (const auto& r : schema.at("required").as_array())
        if (!obj.has_field(r.as_string())) errs.push_back(path + "." + r.as_string() + ": Required value");
    if (schema.has_field("properties") && schema.at("properties").is_object()) {
      const auto& props = schema.at("properties");
      for (const auto& [k, v] : obj.as_object()) {
        if (props.has_field(k)) validate(v, props.at(k), path + "." + k, errs);
      }
    }
    if (schema.has_field("additionalProperties") && schema.at("additionalProperties").is_object())
      for (const auto& [k, v] : obj.as_object()) validate(v, schema.at("additionalProperties"), path + "." + k, errs);
  }
  // Rules judge a value that is well-formed (as the API server does, they would only add noise).
  if (errs.size() == errs_before) validate_rules(obj, schema, path, errs);
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

}  // namespace

// ---------- ApiServer ----------

ApiServer::ApiServer(std::shared_ptr<ObjectStore> store, std::shared_ptr<kube::Clock> clock, ApiServerOptions opts)
    : store_(std::move(store)), clock_(std::move(clock)), opts_(std::move(opts)) {
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

ApiResponse ApiServer::handle(const ApiRequest& req) {
  RequestRecord rec;
  rec.user_agent = req.header("user-agent");
  ApiResponse resp;
  const bool public_path = req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz" || req.path == "/version";
  if (!opts_.bearer_token.empty() && !public_path && req.header("authorization") != "Bearer " + opts_.bearer_token) {
    resp = error_response(401, "Unauthorized", "Unauthorized");
  } else {
    try {
      resp = route(req, rec);
    } catch (const std::exception& e) {
      resp = error_response(500, "InternalError", std::string("Internal error occurred: ") + e.what());
    }
  }
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

ApiResponse ApiServer::discovery(const ApiRequest& req, bool& handled) {
  handled = true;
  const auto& p = req.path;
  if (p == "/version") {
    value v = value::object();
    v["major"] = value::string("1");
    v["minor"] = value::string("32");
    v["gitVersion"] = value::string(opts_.server_version);
    v["gitCommit"] = value::string("nonevent");
    v["gitTreeState"] = value::string("clean");
    v["buildDate"] = value::string("2026-11-26T00:00:00Z");
    v["goVersion"] = value::string("n/a (C++)");
    v["compiler"] = value::string("gcc");
    v["platform"] = value::string("linux/amd64");
    return json_response(200, v);
  }
  if (p == "/healthz" || p == "/livez" || p == "/readyz") {
    ApiResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if ((p == "/api" || p == "/apis") && wants_aggregated_discovery(req.header("accept"))) {
    auto r = json_response(200, aggregated_discovery(types_.all(), types_.groups(), p == "/api"));
    r.content_type = kAggregatedDiscoveryType;
    return r;
  }
  if (p == "/api") {
    value v = value::object();
    v["kind"] = value::string("APIVersions");
    v["versions"][0] = value::string("v1");
    v["serverAddressByClientCIDRs"][0]["clientCIDR"] = value::string("0.0.0.0/0");
    v["serverAddressByClientCIDRs"][0]["serverAddress"] = value::string("127.0.0.1");
    return json_response(200, v);
  }
  auto group_json = [&](const std::string& g, const std::vector<std::string>& versions) {
    value grp = value::object();
    grp["name"] = value::string(g);
    value vs = value::array();
    for (size_t i = 0; i < versions.size(); ++i) {
      vs[i]["groupVersion"] = value::string(g + "/" + versions[i]);
      vs[i]["version"] = value::string(versions[i]);
    }
    grp["versions"] = vs;
    grp["preferredVersion"] = vs[0];
    return grp;
  };
  if (p == "/apis") {
    value v = value::object();
    v["kind"] = value::string("APIGroupList");
    v["apiVersion"] = value::string("v1");
    value groups = value::array();
    size_t i = 0;
    for (const auto& [g, versions] : types_.groups()) groups[i++] = group_json(g, versions);
    v["groups"] = groups;
    return json_response(200, v);
  }
  auto resource_list = [&](const std::string& group, const std::string& version) {
    value v = value::object();
    v["kind"] = value::string("APIResourceList");
    v["apiVersion"] = value::string("v1");
    v["groupVersion"] = value::string(group.empty() ? version : group + "/" + version);
    value rs = value::array();
    size_t i = 0;
    for (const auto& t : types_.all()) {
      if (t.group != group || t.version != version) continue;
      rs[i++] = resource_list_entry(t);
      // Subresources are listed as "<resource>/<sub>" entries of their own.
      auto subresource = [&](const std::string& name, const std::string& kind, std::vector<const char*> verbs,
                             const char* other_group = nullptr) {
        value e = value::object();
        e["name"] = value::string(name);
        e["singularName"] = value::string("");
        e["namespaced"] = value::boolean(t.namespaced);
        e["kind"] = value::string(kind);
        if (other_group) {  // a kind of another API group (the Eviction is policy/v1)
          e["group"] = value::string(other_group);
          e["version"] = value::string("v1");
        }
        for (size_t j = 0; j < verbs.size(); ++j) e["verbs"][j] = value::string(verbs[j]);
        rs[i++] = e;
      };
      if (t.status_subresource) subresource(t.resource + "/status", t.kind, {"get", "patch", "update"});
      // kubectl drain uses eviction only when legacy discovery lists this.
      if (t.eviction_subresource) subresource("pods/eviction", "Eviction", {"create"}, "policy");
      if (t.binding_subresource) subresource("pods/binding", "Binding", {"create"});
    }
    v["resources"] = rs;
    return v;
  };
  if (p == "/api/v1") return json_response(200, resource_list("", "v1"));
  if (p.rfind("/apis/", 0) == 0) {
    std::string rest = p.substr(6);
    auto slash = rest.find('/');
    if (slash == std::string::npos) {
      for (const auto& [g, versions] : types_.groups())
        if (g == rest) {
          auto grp = group_json(g, versions);
          grp["kind"] = value::string("APIGroup");
          grp["apiVersion"] = value::string("v1");
          return json_response(200, grp);
        }
      return error_response(404, "NotFound", "the server could not find the requested resource");
    }
    const std::string g = rest.substr(0, slash), v = rest.substr(slash + 1);
    if (v.find('/') == std::string::npos) {
      for (const auto& [gg, versions] : types_.groups())
        if (gg == g && std::find(versions.begin(), versions.end(), v) != versions.end())
          return json_response(200, resource_list(g, v));
      return error_response(404, "NotFound", "the server could not find the requested resource");
    }
  }
  if (p == "/openapi/v3" || p.rfind("/openapi/v3/", 0) == 0) return openapi_v3(p);
  handled = false;
  return {};
}

ApiResponse ApiServer::openapi_v3(const std::string& path) {
  // The index lists one document per group-version; each document has, for every kind, a
  // PATCH operation carrying the fieldValidation parameter (kubectl's test for server-side
  // validation) and a schema tagged with its group-version-kind (kubectl explain). Built-in
  // kinds get an open schema; custom resources get their CRD's openAPIV3Schema.
  auto gv_path = [](const std::string& g, const std::string& v) { return g.empty() ? "api/" + v : "apis/" + g + "/" + v; };
  if (path == "/openapi/v3") {
    value idx = value::object();
    value paths = value::object();
    std::vector<std::pair<std::string, std::string>> gvs = {{"", "v1"}};
    for (const auto& [g, versions] : types_.groups())
      for (const auto& v : versions) gvs.emplace_back(g, v);
    for (const auto& [g, v] : gvs) {
      const auto rel = gv_path(g, v);
      paths[rel]["serverRelativeURL"] = value::string("/openapi/v3/" + rel + "?hash=" + std::to_string(store_->resource_version()));
    }
    idx["paths"] = paths;
    return json_response(200, idx);
  }
  std::string rel = path.substr(std::string("/openapi/v3/").size());
  std::string group, version;
  if (rel.rfind("api/", 0) == 0) {
    version = rel.substr(4);
  } else if (rel.rfind("apis/", 0) == 0) {
    auto r = rel.substr(5);
    auto s = r.find('/');
    if (s == std::string::npos) return error_response(404, "NotFound", "no OpenAPI document for " + rel);
    group = r.substr(0, s);
    version = r.substr(s + 1);
  }
  value doc = value::object();
  doc["openapi"] = value::string("3.0.0");
  doc["info"]["title"] = value::string("Kubernetes");
  doc["info"]["version"] = value::string(opts_.server_version);
  value paths = value::object();
  value schemas = value::object();
  bool any = false;
  for (const auto& t : types_.all()) {
    if (t.group != group || t.version != version) continue;
    any = true;
    std::string rev_group = t.group.empty() ? "io.k8s.api.core" : t.group;
    const std::string schema_name = rev_group + "." + t.version + "." + t.kind;
    value gvk = value::object();
    gvk["group"] = value::string(t.group);
    gvk["version"] = value::string(t.version);
    gvk["kind"] = value::string(t.kind);
    value schema = value::object();
    if (t.custom && !t.crd_schema_json.empty()) {
      std::error_code ec;
      schema = value::parse(t.crd_schema_json, ec);
    } else {
      schema["type"] = value::string("object");
      schema["description"] = value::string(t.kind + " (schema not published by the embedded cluster)");
      schema["x-kubernetes-preserve-unknown-fields"] = value::boolean(true);
    }
    schema["x-kubernetes-group-version-kind"][0] = gvk;
    schemas[schema_name] = schema;
    const std::string base = "/" + gv_path(t.group, t.version) + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource + "/{name}";
    value op = value::object();
    op["x-kubernetes-group-version-kind"] = gvk;
    op["x-kubernetes-action"] = value::string("patch");
    value param = value::object();
    param["name"] = value::string("fieldValidation");
    param["in"] = value::string("query");
    param["schema"]["type"] = value::string("string");
    param["schema"]["uniqueItems"] = value::boolean(true);
    op["parameters"][0] = param;
    op["responses"]["200"]["description"] = value::string("OK");
    op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] = value::string("#/components/schemas/" + schema_name);
    paths[base]["patch"] = op;
  }
  if (!any) return error_response(404, "NotFound", "no OpenAPI document for " + rel);
  doc["paths"] = paths;
  doc["components"]["schemas"] = schemas;
  return json_response(200, doc);
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
                    (t.subresource == "binding" && t.type->binding_subresource);
    if (!ok) {
      error = error_response(404, "NotFound", "the server could not find the requested resource");
      return std::nullopt;
    }
  }
  return t;
}

ApiResponse ApiServer::route(const ApiRequest& req, RequestRecord& rec) {
  bool handled = false;
  if (req.path.rfind("/sim/v1/", 0) == 0) return control(req);
  if (req.method == "GET") {
    auto d = discovery(req, handled);
    if (handled) return d;
  }
  ApiResponse err;
  auto t = parse_target(req.path, err);
  if (!t) return err;
  t->object_unread = req.object_unread;
  rec.group = t->type->group;
  rec.resource = t->type->resource;
  rec.subresource = t->subresource;
  rec.ns = t->ns;
  const bool collection = t->name.empty();
  {
    const bool watching = req.method == "GET" && collection && query_bool(req, "watch");
    const std::string verb = req.method == "GET" ? (collection ? (watching ? "watch" : "list") : "get")
                             : req.method == "POST" ? "create" : req.method == "PUT" ? "update"
                             : req.method == "PATCH" ? "patch" : "delete";
    // Faults are for the clients under test; the cluster's own simulated components (the
    // "nonevent-sim" agent) are part of the server and are never refused.
    const auto d = rec.user_agent == "nonevent-sim" ? FaultInjector::Decision{}
                                                    : faults_.decide(verb, t->type->resource + (t->subresource.empty() ? "" : "/" + t->subresource));
    if (d.latency.count() > 0) std::this_thread::sleep_for(d.latency);
    if (d.code != 0) {
      rec.verb = verb;
      if (d.code == 429) {
        auto r = error_response(429, "TooManyRequests", "injected: too many requests, please try again later", R"({"retryAfterSeconds":1})");
        r.headers["Retry-After"] = "1";
        return r;
      }
      if (d.code == 409) return error_response(409, "Conflict", "injected: the object has been modified; please apply your changes to the latest version and try again");
      if (d.code == 503) return error_response(503, "ServiceUnavailable", "injected: the server is currently unable to handle the request");
      return error_response(500, "InternalError", "injected: Internal error occurred");
    }
  }
  if (req.method == "GET") {
    const bool is_watch = query_bool(req, "watch");
    rec.verb = collection ? (is_watch ? "watch" : "list") : "get";
    if (collection) return is_watch ? watch(req, *t) : list(req, *t);
    return get(req, *t);
  }
  if (req.method == "POST") {
    rec.verb = "create";
    if (t->subresource == "eviction") return evict(req, *t);
    if (t->subresource == "binding") return bind(req, *t);
    if (!collection) return error_response(405, "MethodNotAllowed", "POST is not supported on a named object");
    return create(req, *t);
  }
  if (req.method == "PUT") {
    rec.verb = "update";
    if (collection) return error_response(405, "MethodNotAllowed", "PUT needs an object name");
    return replace(req, *t);
  }
  if (req.method == "PATCH") {
    rec.verb = "patch";
    if (collection) return error_response(405, "MethodNotAllowed", "PATCH needs an object name");
    return patch(req, *t);
  }
  if (req.method == "DELETE") {
    rec.verb = collection ? "deletecollection" : "delete";
    if (collection) return error_response(405, "MethodNotAllowed", "deletecollection is not supported by the embedded cluster");
    return remove(req, *t);
  }
  return error_response(405, "MethodNotAllowed", req.method + " is not supported");
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
  auto w = store_->watch(f, query(req, "resourceVersion"));
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
    return r;
  }
  const bool bookmarks = query_bool(req, "allowWatchBookmarks");
  r.watch = std::make_shared<StoreWatchSession>(w.value(), *t.type, wants_table(req), bookmarks, opts_.bookmark_interval,
                                                std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s),
                                                store_, clock_);
  return r;
}

// The object a create or update sends: JSON, or protobuf for the kinds client-go's typed
// clients send that way (protobuf_body.h).
// An in-process caller's body DOM, taken out of the request.
static value take_body_value(const ApiRequest& req) {
  value v = std::move(*req.body_value);
  req.body_value.reset();
  return v;
}

static kube::Result<value> parse_body(const ApiRequest& req) {
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
  if (t.type->kind == "Pod" && t.type->group.empty()) {
    auto& spec = obj["spec"];
    if (!spec.has_field("schedulerName")) spec["schedulerName"] = value::string("default-scheduler");
    if (!spec.has_field("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = value::number(30);
    if (!spec.has_field("restartPolicy")) spec["restartPolicy"] = value::string("Always");
    if (!obj.has_field("status") || !obj.at("status").has_field("phase")) obj["status"]["phase"] = value::string("Pending");
  }
  if (t.type->kind == "Namespace" && t.type->group.empty()) obj["status"]["phase"] = value::string("Active");
  return write(t, std::move(obj), nullptr, "", 201);
}

ApiResponse ApiServer::write(const Target& t, value obj, const StoredPtr& current, const std::string& expected_rv, int ok_code) {
  const auto& type = *t.type;
  if (type.custom && !type.crd_schema_json.empty()) {
    std::error_code ec;
    auto schema = value::parse(type.crd_schema_json, ec);
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
    }
    if (crd) on_crd_change(written, false);
  }
  ApiResponse r;
  r.status = ok_code;
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
  for (int attempt = 0;; ++attempt) {
    bool retryable = false;
    auto r = patch_once(req, t, body, retryable);
    if (r.status != 409 || !retryable || attempt >= 16) return r;
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
    auto r = apply_strategic_merge_patch(target, p);
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

ApiResponse ApiServer::remove(const ApiRequest& req, const Target& t) {
  std::string propagation, pre_uid, pre_rv;
  std::optional<long> grace;
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
      return error_response(400, "BadRequest", "gracePeriodSeconds must be an integer");
    }
  }
  auto res = delete_object(*t.type, t.ns, t.name, propagation, pre_uid, pre_rv, grace);
  if (!res.ok()) return from_error(res.error());
  ApiResponse r;
  if (!t.object_unread) r.body = res.value()->json;
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

void ApiServer::on_crd_change(const value& crd, bool deleted) {
  const auto& spec = crd.has_field("spec") ? crd.at("spec") : value::object();
  const auto group = str(spec, "group");
  const auto& names = spec.has_field("names") ? spec.at("names") : value::object();
  const auto plural = str(names, "plural");
  if (group.empty() || plural.empty()) return;
  if (deleted) {
    // Deleting a CRD deletes its objects.
    for (const auto& t : types_.all()) {
      if (!(t.custom && t.group == group && t.resource == plural)) continue;
      auto items = store_->list({.resource = t.key()}, 0, "");
      if (items.ok())
        for (const auto& o : items.value().items) store_->remove(t.key(), o->ns, o->name);
    }
    types_.remove_custom(group, plural);
    return;
  }
  ResourceType t;
  t.custom = true;
  t.group = group;
  t.resource = plural;
  t.kind = str(names, "kind");
  t.singular = str(names, "singular");
  if (t.singular.empty()) {
    t.singular = t.kind;
    std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(), ::tolower);
  }
  t.namespaced = str(spec, "scope") != "Cluster";
  if (names.has_field("shortNames"))
    for (const auto& s : names.at("shortNames").as_array()) t.short_names.push_back(s.as_string());
  if (names.has_field("categories"))
    for (const auto& s : names.at("categories").as_array()) t.categories.push_back(s.as_string());
  if (!spec.has_field("versions") || !spec.at("versions").is_array()) return;
  for (const auto& v : spec.at("versions").as_array()) {
    if (v.has_field("served") && !v.at("served").as_bool()) continue;
    t.version = str(v, "name");
    if (v.has_field("subresources") && v.at("subresources").has_field("status")) t.status_subresource = true;
    if (v.has_field("schema") && v.at("schema").has_field("openAPIV3Schema"))
      t.crd_schema_json = v.at("schema").at("openAPIV3Schema").serialize();
    if (v.has_field("additionalPrinterColumns"))
      for (const auto& c : v.at("additionalPrinterColumns").as_array())
        t.printer_columns.push_back({str(c, "name"), str(c, "type"), str(c, "jsonPath"), str(c, "description"),
                                     str(c, "format"), c.has_field("priority") ? c.at("priority").as_integer() : 0});
    break;  // the first served version is the one served here
  }
  if (t.version.empty()) return;
  types_.add_custom(t);
  // Report it established, as the apiextensions controller does.
  const auto name = str(crd.at("metadata"), "name");
  auto stored = store_->get("apiextensions.k8s.io/customresourcedefinitions", "", name);
  if (!stored) return;
  std::error_code ec;
  auto obj = model::parse_json(stored->json, ec);
  if (obj.has_field("status") && obj.at("status").has_field("acceptedNames")) return;  // already done
  const auto now = kube::format_rfc3339(clock_->now());
  value st = value::object();
  st["acceptedNames"] = names;
  st["storedVersions"][0] = value::string(t.version);
  for (int i = 0; i < 2; ++i) {
    value c = value::object();
    c["type"] = value::string(i == 0 ? "NamesAccepted" : "Established");
    c["status"] = value::string("True");
    c["reason"] = value::string(i == 0 ? "NoConflicts" : "InitialNamesAccepted");
    c["message"] = value::string(i == 0 ? "no conflicts found" : "the initial names have been accepted");
    c["lastTransitionTime"] = value::string(now);
    st["conditions"][i] = c;
  }
  obj["status"] = st;
  store_->update("apiextensions.k8s.io/customresourcedefinitions", obj);
}

}  // namespace nonevent::sim
