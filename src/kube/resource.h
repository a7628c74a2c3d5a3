#pragma once
// Addressing: which resource, and how a request for it is spelled on the wire.
#include <optional>
#include <string>
#include <vector>

namespace nonevent::kube {

struct GroupVersionResource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  bool namespaced = true;
  std::string kind;      // "Pod" (optional; used in messages and Events)

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1 or /apis/<group>/<version>
  std::string prefix() const;
  // Full path: prefix[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
  std::string path(const std::string& ns, const std::string& name = {},
                   const std::string& subresource = {}) const;
};

// The resources the product uses, spelled once.
namespace resources {
GroupVersionResource nodes();
GroupVersionResource pods();
GroupVersionResource events();
GroupVersionResource namespaces();
GroupVersionResource pod_disruption_budgets();
GroupVersionResource deployments();
GroupVersionResource replica_sets();
GroupVersionResource stateful_sets();
GroupVersionResource daemon_sets();
GroupVersionResource jobs();
GroupVersionResource leases();
GroupVersionResource maintenance_windows();
GroupVersionResource patch_campaigns();
// Cluster API: a node's Machine (Replace deletes it, and Cluster API replaces both).
GroupVersionResource machines();
GroupVersionResource machine_deployments();
// medik8s node-maintenance-operator's requests to put a node in maintenance.
GroupVersionResource node_maintenances();
}  // namespace resources

// `name` when it fits in `max` characters (a DNS label, a label value), else its first
// max-9 characters, "-" and 8 hex digits of a hash of the whole, so two long names that share
// a prefix stay apart.
std::string bounded_name(const std::string& name, size_t max = 63);

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  std::string resource_version_match;  // NotOlderThan | Exact
  long limit = 0;
  std::string continue_token;
  // Watch only:
  bool allow_watch_bookmarks = false;
  std::optional<long> timeout_seconds;
  // The Accept header (not part of the query); empty: JSON. A list or watch of pods may ask
  // for protobuf first (model/codecs_protobuf.h reads it; anything else would not).
  std::string accept;
  std::string query() const;  // "?a=b&..." or "" (values URL-encoded)
};

std::string url_encode(const std::string& s);

}  // namespace nonevent::kube
