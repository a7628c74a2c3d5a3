#include "sim/aggregated_discovery.h"

namespace nonevent::sim {

using web::json::value;

namespace {

value strings(const std::vector<std::string>& v) {
  value out = value::array();
  for (size_t i = 0; i < v.size(); ++i) out[i] = value::string(v[i]);
  return out;
}

value gvk(const std::string& group, const std::string& version, const std::string& kind) {
  value k = value::object();
  k["group"] = value::string(group);
  k["version"] = value::string(version);
  k["kind"] = value::string(kind);
  return k;
}

value resource_entry(const ResourceType& t) {
  value r = value::object();
  r["resource"] = value::string(t.resource);
  r["responseKind"] = gvk(t.group, t.version, t.kind);
  r["scope"] = value::string(t.namespaced ? "Namespaced" : "Cluster");
  r["singularResource"] = value::string(t.singular);
  r["verbs"] = strings(t.verbs);
  if (!t.short_names.empty()) r["shortNames"] = strings(t.short_names);
  if (!t.categories.empty()) r["categories"] = strings(t.categories);
  value subs = value::array();
  size_t i = 0;
  if (t.status_subresource) {
    subs[i]["subresource"] = value::string("status");
    subs[i]["responseKind"] = gvk(t.group, t.version, t.kind);
    subs[i++]["verbs"] = strings({"get", "patch", "update"});
  }
  if (t.eviction_subresource) {
    // kubectl drain evicts only when discovery lists pods/eviction.
    subs[i]["subresource"] = value::string("eviction");
    subs[i]["responseKind"] = gvk("policy", "v1", "Eviction");
    subs[i++]["verbs"] = strings({"create"});
  }
  if (t.binding_subresource) {
    subs[i]["subresource"] = value::string("binding");
    subs[i]["responseKind"] = gvk("", "v1", "Binding");
    subs[i++]["verbs"] = strings({"create"});
  }
  if (t.scale_subresource) {
    subs[i]["subresource"] = value::string("scale");
    subs[i]["responseKind"] = gvk("autoscaling", "v1", "Scale");
    subs[i++]["verbs"] = strings({"get", "patch", "update"});
  }
  if (i > 0) r["subresources"] = subs;
  return r;
}

}  // namespace

bool wants_aggregated_discovery(const std::string& accept) {
  // "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,...": the first
  // acceptable type wins; v2beta1 alone is not served (removed in 1.33, and v2 is what 1.32 prefers).
  for (size_t start = 0; start < accept.size();) {
    size_t end = accept.find(',', start);
    if (end == std::string::npos) end = accept.size();
    const std::string part = accept.substr(start, end - start);
    if (part.find("g=apidiscovery.k8s.io") != std::string::npos && part.find("v=v2;") != std::string::npos &&
        part.find("as=APIGroupDiscoveryList") != std::string::npos)
      return true;
    start = end + 1;
  }
  return false;
}

value aggregated_discovery(const std::vector<ResourceType>& types,
                           const std::vector<std::pair<std::string, std::vector<std::string>>>& groups, bool core) {
  value out = value::object();
  out["kind"] = value::string("APIGroupDiscoveryList");
  out["apiVersion"] = value::string("apidiscovery.k8s.io/v2");
  out["metadata"] = value::object();
  value items = value::array();
  size_t n = 0;
  auto group_entry = [&](const std::string& group, const std::vector<std::string>& versions) {
    value g = value::object();
    g["metadata"]["name"] = value::string(group);
    value vs = value::array();
    for (size_t v = 0; v < versions.size(); ++v) {
      vs[v]["version"] = value::string(versions[v]);
      vs[v]["freshness"] = value::string("Current");
      value rs = value::array();
      size_t i = 0;
      for (const auto& t : types)
        if (t.group == group && t.version == versions[v]) rs[i++] = resource_entry(t);
      vs[v]["resources"] = rs;
    }
    g["versions"] = vs;
    items[n++] = g;
  };
  if (core) group_entry("", {"v1"});
  else
    for (const auto& [g, versions] : groups) group_entry(g, versions);
  out["items"] = items;
  return out;
}

}  // namespace nonevent::sim
