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

namespace {
// apiextensions-apiserver's finalizer on every CRD (pkg/controller/finalizer/crd_finalizer.go):
// deleting a CRD first deletes its custom resources, each waiting for its own finalizers, and
// only then lets the CRD go. Until then it is Terminating and refuses new objects.
constexpr const char* kCrdCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";
const std::string kCrdKey = "apiextensions.k8s.io/customresourcedefinitions";
bool terminating(const StoredObject& o) {
  std::error_code ec;
  const value obj = model::parse_json(o.json, ec);
  return !ec && obj.has_field("metadata") && obj.at("metadata").has_field("deletionTimestamp");
}
}  // namespace

void ApiServer::delete_custom_resources(const std::string& crd_name) {
  auto crd = store_->get(kCrdKey, "", crd_name);
  if (!crd) return;
  std::error_code ec;
  value obj = model::parse_json(crd->json, ec);
  if (!obj["metadata"].has_field("deletionTimestamp")) return;
  const auto& spec = obj.at("spec");
  const auto type = types_.find_key(str(spec, "group") + "/" + str(spec.at("names"), "plural"));
  bool left = false;
  if (type) {
    auto items = store_->list({.resource = type->key()}, 0, "");
    if (items.ok())
      for (const auto& o : items.value().items) {
        if (!terminating(*o)) delete_object(*type, o->ns, o->name, "Background", "", "");
        left = left || store_->get(type->key(), o->ns, o->name) != nullptr;
      }
  }
  if (left) return;  // the rest waits for their finalizers; write() calls again as each goes
  // Every object is gone: the cleanup finalizer goes, and with the last finalizer the CRD.
  value kept = value::array();
  size_t j = 0;
  for (const auto& f : obj["metadata"]["finalizers"].as_array())
    if (f.as_string() != kCrdCleanupFinalizer) kept[j++] = f;
  obj["metadata"]["finalizers"] = kept;
  if (j > 0) {
    store_->update(kCrdKey, obj);
    return;
  }
  if (store_->remove(kCrdKey, "", crd_name).ok()) on_crd_change(obj, true);
}

std::string ApiServer::terminating_crd_of(const ResourceType& type) const {
  if (!type.custom) return "";
  const std::string name = type.resource + "." + type.group;
  auto crd = store_->get(kCrdKey, "", name);
  return crd && terminating(*crd) ? name : "";
}

void ApiServer::on_crd_change(const value& crd, bool deleted) {
  const auto& spec = crd.has_field("spec") ? crd.at("spec") : value::object();
  const auto group = str(spec, "group");
  const auto& names = spec.has_field("names") ? spec.at("names") : value::object();
  const auto plural = str(names, "plural");
  if (group.empty() || plural.empty()) return;
  if (deleted) {
    // Reached once the cleanup below has let the CRD go: its objects are gone already.
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
