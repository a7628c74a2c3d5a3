#include "kube/resource.h"

#include <cstdint>
#include <cstdio>

namespace nonevent::kube {

std::string GroupVersionResource::prefix() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string GroupVersionResource::path(const std::string& ns, const std::string& name,
                                       const std::string& subresource) const {
  std::string p = prefix();
  if (namespaced && !ns.empty()) p += "/namespaces/" + url_encode(ns);
  p += "/" + resource;
  if (!name.empty()) {
    p += "/" + url_encode(name);
    if (!subresource.empty()) p += "/" + subresource;
  }
  return p;
}

namespace resources {
GroupVersionResource nodes() { return {"", "v1", "nodes", false, "Node"}; }
GroupVersionResource pods() { return {"", "v1", "pods", true, "Pod"}; }
GroupVersionResource events() { return {"", "v1", "events", true, "Event"}; }
GroupVersionResource namespaces() { return {"", "v1", "namespaces", false, "Namespace"}; }
GroupVersionResource pod_disruption_budgets() {
  return {"policy", "v1", "poddisruptionbudgets", true, "PodDisruptionBudget"};
}
GroupVersionResource deployments() { return {"apps", "v1", "deployments", true, "Deployment"}; }
GroupVersionResource replica_sets() { return {"apps", "v1", "replicasets", true, "ReplicaSet"}; }
GroupVersionResource stateful_sets() { return {"apps", "v1", "statefulsets", true, "StatefulSet"}; }
GroupVersionResource daemon_sets() { return {"apps", "v1", "daemonsets", true, "DaemonSet"}; }
GroupVersionResource jobs() { return {"batch", "v1", "jobs", true, "Job"}; }
GroupVersionResource machines() { return {"cluster.x-k8s.io", "v1beta1", "machines", true, "Machine"}; }
GroupVersionResource machine_deployments() { return {"cluster.x-k8s.io", "v1beta1", "machinedeployments", true, "MachineDeployment"}; }
GroupVersionResource node_maintenances() {
  return {"nodemaintenance.medik8s.io", "v1beta1", "nodemaintenances", false, "NodeMaintenance"};
}
GroupVersionResource leases() { return {"coordination.k8s.io", "v1", "leases", true, "Lease"}; }
GroupVersionResource maintenance_windows() {
  return {"nonevent.dev", "v1alpha1", "maintenancewindows", false, "MaintenanceWindow"};
}
GroupVersionResource patch_campaigns() {
  return {"nonevent.dev", "v1alpha1", "patchcampaigns", false, "PatchCampaign"};
}
}  // namespace resources

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string ListOptions::query() const {
  std::string q;
  auto add = [&](const char* k, const std::string& v) {
    q += q.empty() ? '?' : '&';
    q += k;
    q += '=';
    q += url_encode(v);
  };
  if (!label_selector.empty()) add("labelSelector", label_selector);
  if (!field_selector.empty()) add("fieldSelector", field_selector);
  if (!resource_version.empty()) add("resourceVersion", resource_version);
  if (!resource_version_match.empty()) add("resourceVersionMatch", resource_version_match);
  if (limit > 0) add("limit", std::to_string(limit));
  if (!continue_token.empty()) add("continue", continue_token);
  if (allow_watch_bookmarks) add("allowWatchBookmarks", "true");
  if (timeout_seconds) add("timeoutSeconds", std::to_string(*timeout_seconds));
  return q;
}

std::string bounded_name(const std::string& name, size_t max) {
  if (name.size() <= max) return name;
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(h & 0xffffffffull));
  return name.substr(0, max - 9) + "-" + buf;
}

}  // namespace nonevent::kube
