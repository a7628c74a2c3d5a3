#pragma once
// The structure of objects as their OpenAPI schemas declare it: for the built-in kinds the
// Kubernetes 1.32 definitions (third_party/kubernetes-openapi, carried in the binary), for a
// custom resource its CRD's openapiV3Schema. Strategic merge patch and server-side apply ask a
// SchemaNode how each list merges (x-kubernetes-list-type, -list-map-keys, -patch-merge-key,
// -patch-strategy), as kube-apiserver's do from the same documents, instead of a hand table.
#include <cpprest/json.h>

#include <string>
#include <string_view>
#include <vector>

namespace nonevent::sim {

class SchemaNode {
 public:
  SchemaNode() = default;  // unknown: lists atomic, no merge keys (what an untyped field gets)
  // A node of a CRD's schema (inline; no $ref), or of the built-in definitions.
  explicit SchemaNode(const web::json::value* node) : node_(resolve(node)) {}
  // The built-in definition with this x-kubernetes-group-version-kind; unknown when none.
  static SchemaNode for_kind(std::string_view group, std::string_view version, std::string_view kind);
  // io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, which every kind's metadata is, whatever
  // a CRD's schema says of it.
  static SchemaNode object_meta();

  bool known() const { return node_ != nullptr; }
  // properties[name], else additionalProperties (a map's values); unknown when neither.
  SchemaNode field(const std::string& name) const;
  SchemaNode items() const;
  // "atomic", "set" or "map" as declared; "" when the schema does not say.
  std::string list_type() const;
  std::vector<std::string> list_map_keys() const;
  std::string patch_merge_key() const;
  std::string patch_strategy() const;  // "merge", "retainKeys", "merge,retainKeys" or ""
  bool atomic_map() const { return text("x-kubernetes-map-type") == "atomic"; }

  // How a list field merges under server-side apply (kube-openapi's schemaconv): its
  // x-kubernetes-list-type, else a patch strategy "merge" (a map on the merge key, or a set),
  // else atomic. `keys` gets a map's key fields.
  enum class ListKind { Atomic, Set, Map };
  ListKind list_kind(std::vector<std::string>& keys) const;

  // The embedded document, {swagger, info, definitions}, for /openapi/v2.
  static const web::json::value& document();

 private:
  static const web::json::value* resolve(const web::json::value* node);
  std::string text(const char* key) const;
  const web::json::value* node_ = nullptr;
};

}  // namespace nonevent::sim
