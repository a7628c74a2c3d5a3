// Discovery and OpenAPI, as kube-apiserver serves them: /version, legacy discovery (/api,
// /apis, /api/v1, /apis/<group>/<version>; staging/src/k8s.io/apiserver/pkg/endpoints/
// discovery/), aggregated discovery (sim/aggregated_discovery.h) and /openapi/v3 with a PATCH
// operation per kind carrying fieldValidation (what kubectl apply looks for; kube-openapi's
// handler3). kubectl, helm and the Python client find every resource through these.
#include "sim/api_server.h"

#include "model/json_parse.h"
#include "sim/aggregated_discovery.h"
#include "sim/api_request_util.h"
#include "sim/builtin_schemas.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace detail;

namespace {

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


}  // namespace

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
      if (t.scale_subresource) subresource(t.resource + "/scale", "Scale", {"get", "patch", "update"}, "autoscaling");
      if (t.group.empty() && t.resource == "serviceaccounts") subresource("serviceaccounts/token", "TokenRequest", {"create"}, "authentication.k8s.io");
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
  if (p == "/openapi/v2") {
    // The built-in kinds' 1.32 definitions (builtin_schemas.h) in JSON. The gnostic protobuf
    // form kubectl <= 1.27 asks for alone is not served: it gets 406 and says so.
    if (req.header("accept").find("application/json") == std::string::npos && req.header("accept").find("*/*") == std::string::npos &&
        !req.header("accept").empty())
      return error_response(406, "NotAcceptable", "only the following media types are accepted: application/json");
    static const std::string body = [] {
      value doc = SchemaNode::document();
      doc["paths"] = value::object();
      return doc.serialize();
    }();
    ApiResponse r;
    r.body = body;
    return r;
  }
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

}  // namespace nonevent::sim
