#include "sim/resource_types.h"

#include <algorithm>

namespace nonevent::sim {

namespace {
ResourceType t(std::string group, std::string version, std::string resource, std::string kind,
               bool namespaced, std::vector<std::string> short_names = {}, bool status = false) {
  ResourceType r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.resource = std::move(resource);
  r.kind = std::move(kind);
  r.singular = r.kind;
  std::transform(r.singular.begin(), r.singular.end(), r.singular.begin(), ::tolower);
  r.namespaced = namespaced;
  r.short_names = std::move(short_names);
  r.status_subresource = status;
  return r;
}
}  // namespace

ResourceTypes::ResourceTypes() {
  std::vector<ResourceType> builtin = {
      t("", "v1", "namespaces", "Namespace", false, {"ns"}, true),
      t("", "v1", "nodes", "Node", false, {"no"}, true),
      t("", "v1", "pods", "Pod", true, {"po"}, true),
      t("", "v1", "events", "Event", true, {"ev"}),
      t("", "v1", "services", "Service", true, {"svc"}, true),
      t("", "v1", "endpoints", "Endpoints", true, {"ep"}),
      t("", "v1", "configmaps", "ConfigMap", true, {"cm"}),
      t("", "v1", "secrets", "Secret", true),
      t("", "v1", "serviceaccounts", "ServiceAccount", true, {"sa"}),
      t("", "v1", "persistentvolumes", "PersistentVolume", false, {"pv"}, true),
      t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, {"pvc"}, true),
      t("", "v1", "replicationcontrollers", "ReplicationController", true, {"rc"}, true),
      t("apps", "v1", "deployments", "Deployment", true, {"deploy"}, true),
      t("apps", "v1", "replicasets", "ReplicaSet", true, {"rs"}, true),
      t("apps", "v1", "statefulsets", "StatefulSet", true, {"sts"}, true),
      t("apps", "v1", "daemonsets", "DaemonSet", true, {"ds"}, true),
      t("batch", "v1", "jobs", "Job", true, {}, true),
      // Stored and listed so that clients (and drain.rollout) see who scales a workload; the
      // simulation runs no autoscaler.
      t("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, {"hpa"}, true),
      t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, {"pdb"}, true),
      t("coordination.k8s.io", "v1", "leases", "Lease", true),
      t("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
      t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
      t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
      t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
      t("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, {"crd", "crds"}, true),
      t("events.k8s.io", "v1", "events", "Event", true, {"ev"}),
      // Created and answered, never stored (token_request.cpp).
      t("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false),
      t("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false),
      // Stored and listed, as clients discover aggregated APIs; nothing is proxied.
      t("apiregistration.k8s.io", "v1", "apiservices", "APIService", false, {}, true),
  };
  for (auto& r : builtin) {
    if (r.resource == "pods") r.eviction_subresource = r.binding_subresource = true;
    if (r.resource == "deployments" || r.resource == "replicasets" || r.resource == "statefulsets" ||
        r.resource == "replicationcontrollers")
      r.scale_subresource = true;
    if (r.resource == "pods" || r.resource == "services" || r.resource == "deployments" ||
        r.resource == "replicasets" || r.resource == "statefulsets" || r.resource == "daemonsets" ||
        r.resource == "jobs" || r.resource == "replicationcontrollers")
      r.categories = {"all"};
    if (r.resource == "endpoints") r.singular = "endpoints";
    types_.push_back(std::make_shared<const ResourceType>(std::move(r)));
  }
}

ResourceTypePtr ResourceTypes::find(const std::string& group, const std::string& version,
                                    const std::string& resource) const {
  std::lock_guard g(mu_);
  for (const auto& r : types_)
    if (r->group == group && r->version == version && r->resource == resource) return r;
  return nullptr;
}

ResourceTypePtr ResourceTypes::find_kind(const std::string& api_version, const std::string& kind) const {
  std::lock_guard g(mu_);
  for (const auto& r : types_)
    if (r->api_version() == api_version && r->kind == kind) return r;
  return nullptr;
}

ResourceTypePtr ResourceTypes::find_key(const std::string& key) const {
  std::lock_guard g(mu_);
  for (const auto& r : types_)
    if (r->key() == key) return r;
  return nullptr;
}

std::vector<ResourceType> ResourceTypes::all() const {
  std::lock_guard g(mu_);
  std::vector<ResourceType> out;
  out.reserve(types_.size());
  for (const auto& r : types_) out.push_back(*r);
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> ResourceTypes::groups() const {
  std::lock_guard g(mu_);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& r : types_) {
    if (r->group.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](auto& p) { return p.first == r->group; });
    if (it == out.end()) out.push_back({r->group, {r->version}});
    else if (std::find(it->second.begin(), it->second.end(), r->version) == it->second.end())
      it->second.push_back(r->version);
  }
  return out;
}

void ResourceTypes::add_custom(const ResourceType& t) {
  std::lock_guard g(mu_);
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](auto& r) { return r->group == t.group && r->resource == t.resource; }),
               types_.end());
  types_.push_back(std::make_shared<const ResourceType>(t));
}

void ResourceTypes::remove_custom(const std::string& group, const std::string& resource) {
  std::lock_guard g(mu_);
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](auto& r) { return r->custom && r->group == group && r->resource == resource; }),
               types_.end());
}

}  // namespace nonevent::sim
