#include "sim/builtin_schemas.h"

#include <map>
#include <stdexcept>
#include <string>

// The stripped 1.32 definitions (hack/gen-openapi-definitions.py), carried in the binary.
asm(R"(
  .section .rodata
  .global nonevent_k8s_openapi_begin
  .global nonevent_k8s_openapi_end
nonevent_k8s_openapi_begin:
  .incbin ")" NONEVENT_K8S_OPENAPI R"("
nonevent_k8s_openapi_end:
  .byte 0
  .previous
)");
extern "C" const char nonevent_k8s_openapi_begin[];
extern "C" const char nonevent_k8s_openapi_end[];

namespace nonevent::sim {

using web::json::value;

namespace {

struct Definitions {
  value doc;
  std::map<std::string, const value*, std::less<>> by_gvk;  // "group/version/Kind"

  Definitions() {
    std::error_code ec;
    doc = value::parse(std::string(nonevent_k8s_openapi_begin, nonevent_k8s_openapi_end), ec);
    if (ec || !doc.has_field("definitions")) throw std::runtime_error("the OpenAPI definitions built into this binary do not parse");
    for (const auto& [name, def] : doc.at("definitions").as_object()) {
      if (!def.has_field("x-kubernetes-group-version-kind")) continue;
      for (const auto& gvk : def.at("x-kubernetes-group-version-kind").as_array())
        by_gvk.emplace(gvk.at("group").as_string() + "/" + gvk.at("version").as_string() + "/" + gvk.at("kind").as_string(), &def);
    }
  }
  const value* named(std::string_view name) const {
    const auto& defs = doc.at("definitions").as_object();
    auto it = defs.find(std::string(name));
    return it == defs.end() ? nullptr : &it->second;
  }
};

const Definitions& definitions() {
  static const Definitions d;
  return d;
}

}  // namespace

const value* SchemaNode::resolve(const value* node) {
  // A built-in node is a $ref to a definition, or an allOf of one (Kubernetes writes both).
  for (int depth = 0; node && node->is_object() && depth < 4; ++depth) {
    if (node->has_field("$ref") && node->at("$ref").is_string()) {
      std::string_view ref = node->at("$ref").as_string();
      if (ref.starts_with("#/definitions/")) ref.remove_prefix(14);
      node = definitions().named(ref);
    } else if (node->has_field("allOf") && node->at("allOf").is_array() && node->at("allOf").size() == 1) {
      node = &node->at("allOf").at(0);
    } else {
      break;
    }
  }
  return node && node->is_object() ? node : nullptr;
}

SchemaNode SchemaNode::for_kind(std::string_view group, std::string_view version, std::string_view kind) {
  const auto& d = definitions();
  std::string key = std::string(group) + "/" + std::string(version) + "/" + std::string(kind);
  auto it = d.by_gvk.find(key);
  SchemaNode n;
  n.node_ = it == d.by_gvk.end() ? nullptr : it->second;
  return n;
}

SchemaNode SchemaNode::object_meta() {
  SchemaNode n;
  n.node_ = definitions().named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  return n;
}

SchemaNode SchemaNode::field(const std::string& name) const {
  if (!node_) return {};
  if (node_->has_field("properties")) {
    const auto& props = node_->at("properties");
    if (props.has_field(name)) return SchemaNode(&props.at(name));
  }
  if (node_->has_field("additionalProperties") && node_->at("additionalProperties").is_object())
    return SchemaNode(&node_->at("additionalProperties"));
  return {};
}

SchemaNode SchemaNode::items() const {
  if (!node_ || !node_->has_field("items")) return {};
  return SchemaNode(&node_->at("items"));
}

std::string SchemaNode::text(const char* key) const {
  return node_ && node_->has_field(key) && node_->at(key).is_string() ? node_->at(key).as_string() : "";
}

std::string SchemaNode::list_type() const { return text("x-kubernetes-list-type"); }
std::string SchemaNode::patch_merge_key() const { return text("x-kubernetes-patch-merge-key"); }
std::string SchemaNode::patch_strategy() const { return text("x-kubernetes-patch-strategy"); }

std::vector<std::string> SchemaNode::list_map_keys() const {
  std::vector<std::string> out;
  if (node_ && node_->has_field("x-kubernetes-list-map-keys") && node_->at("x-kubernetes-list-map-keys").is_array())
    for (const auto& k : node_->at("x-kubernetes-list-map-keys").as_array())
      if (k.is_string()) out.push_back(k.as_string());
  return out;
}

SchemaNode::ListKind SchemaNode::list_kind(std::vector<std::string>& keys) const {
  keys.clear();
  const std::string type = list_type();
  if (type == "map") {
    keys = list_map_keys();
    return keys.empty() ? ListKind::Atomic : ListKind::Map;
  }
  if (type == "set") return ListKind::Set;
  if (type == "atomic" || !type.empty()) return ListKind::Atomic;
  if (patch_strategy().find("merge") != std::string::npos) {
    if (const auto key = patch_merge_key(); !key.empty()) {
      keys = {key};
      return ListKind::Map;
    }
    return ListKind::Set;
  }
  return ListKind::Atomic;
}

const value& SchemaNode::document() { return definitions().doc; }

}  // namespace nonevent::sim
