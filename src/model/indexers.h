#pragma once
// The cache indexes the controllers look things up by.
#include <string>
#include <vector>

#include "model/objects.h"

namespace nonevent::model {

inline constexpr const char* kPodsByNode = "byNode";
inline constexpr const char* kPodsByOwner = "byOwner";          // "<ns>/<Kind>/<name>"
inline constexpr const char* kByNamespace = "byNamespace";
inline constexpr const char* kNodesByZone = "byZone";

inline std::vector<std::string> pod_node_index(const Pod& p) {
  if (p.node_name.empty()) return {};
  return {p.node_name.str()};
}
inline std::vector<std::string> pod_owner_index(const Pod& p) {
  const OwnerRef* o = p.meta.controller();
  if (!o) return {};
  std::string k(p.meta.namespace_.view());
  k.append("/").append(o->kind.view()).append("/").append(o->name.view());
  return {k};
}
template <class T>
std::vector<std::string> namespace_index(const T& o) {
  return {o.meta.namespace_.str()};
}
inline std::vector<std::string> node_zone_index(const Node& n) {
  if (n.zone.empty()) return {};
  return {n.zone.str()};
}

}  // namespace nonevent::model
