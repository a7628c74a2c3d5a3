#pragma once
// What the embedded API server serves: the built-in kinds the product and its chart use,
// plus any CustomResourceDefinition applied at run time.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace nonevent::sim {

struct PrinterColumn {
  std::string name, type, json_path, description, format;
  int priority = 0;
};

struct ResourceType {
  std::string group;    // "" for core
  std::string version;  // served (and storage) version
  std::string resource; // plural
  std::string kind;
  std::string singular;
  bool namespaced = true;
  bool status_subresource = false;
  bool eviction_subresource = false;
  bool binding_subresource = false;  // pods/binding, how a scheduler assigns a pod
  bool scale_subresource = false;    // <resource>/scale, an autoscaling/v1 Scale (kubectl scale, HPAs)
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  bool custom = false;                       // from a CRD
  std::vector<PrinterColumn> printer_columns;  // CRD additionalPrinterColumns
  std::string crd_schema_json;                 // openAPIV3Schema of the served version

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  std::string list_kind() const { return kind + "List"; }
  std::string key() const { return group + "/" + resource; }  // storage key
};

// Shared, not copied: every request looks its type up (and a CRD's change replaces the
// entry, not the ResourceType a request in flight holds). Copying the whole type, strings and
// schema, three times per request was a twentieth of the simulation's work.
using ResourceTypePtr = std::shared_ptr<const ResourceType>;

// Thread-safe.
class ResourceTypes {
 public:
  ResourceTypes();  // the built-ins
  // Null when there is no such type.
  ResourceTypePtr find(const std::string& group, const std::string& version, const std::string& resource) const;
  ResourceTypePtr find_kind(const std::string& api_version, const std::string& kind) const;
  ResourceTypePtr find_key(const std::string& key) const;  // ResourceType::key()
  std::vector<ResourceType> all() const;
  // Groups in discovery order with their versions.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups() const;
  void add_custom(const ResourceType& t);
  void remove_custom(const std::string& group, const std::string& resource);

 private:
  mutable std::mutex mu_;
  std::vector<ResourceTypePtr> types_;  // guarded by mu_
};

}  // namespace nonevent::sim
