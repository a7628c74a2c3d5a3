// CustomResourceDefinitions registering and unregistering resource types, as
// apiextensions-apiserver's crdHandler does (staging/src/k8s.io/apiextensions-apiserver/pkg/
// apiserver/customresource_handler.go): a stored CRD makes its plural served at once in
// discovery, OpenAPI and the REST paths, with its schema, subresources and printer columns.
#include "sim/api_server.h"

#include "model/json_parse.h"
#include "sim/api_request_util.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace detail;

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
