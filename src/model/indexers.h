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

// Each appends the object's values in its index (kube::IndexFunc).
inline void pod_node_index(const Pod& p, std::vector<std::string>& values) {
  if (!p.node_name.empty()) values.push_back(p.node_name.str());
}
inline void pod_owner_index(const Pod& p, std::vector<std::string>& values) {
  const OwnerRef* o = p.meta.controller();
  if (!o) return;
  std::string& k = values.emplace_back(p.meta.namespace_.view());
  k.append("/").append(o->kind.view()).append("/").append(o->name.view());
}
template <class T>
void namespace_index(const T& o, std::vector<std::string>& values) {
  values.push_back(o.meta.namespace_.str());
}
inline void node_zone_index(const Node& n, std::vector<std::string>& values) {
  if (!n.zone.empty()) values.push_back(n.zone.str());
}

}  // namespace nonevent::model
