#pragma once
// Authorization as kube-apiserver's RBAC authorizer decides it, from the Roles, ClusterRoles
// and their bindings in the embedded cluster's own store: a request is allowed when a rule
// bound to the user, one of its groups or its ServiceAccount matches its verb, API group,
// resource (with subresource, "*" and "*/sub"), object name (resourceNames) or, for paths
// that are no resource, its URL. system:masters may do anything; every authenticated user
// may read discovery, /version and /openapi, as the default bootstrap policy allows.
// Thread-safe; the policy is re-read after any write to the RBAC resources.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "sim/authentication.h"

namespace nonevent::sim {

class ObjectStore;

struct RequestAttributes {
  bool resource_request = true;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection; lower-case method otherwise
  std::string group, resource, subresource, ns, name;
  std::string path;  // for non-resource requests
};

class RbacAuthorizer {
 public:
  explicit RbacAuthorizer(std::shared_ptr<ObjectStore> store);
  ~RbacAuthorizer();
  bool allowed(const UserInfo& user, const RequestAttributes& a) const;
  // kube-apiserver's words for a refusal: `pods "x" is forbidden: User "u" cannot delete
  // resource "pods" in API group "" in the namespace "default"`.
  static std::string forbidden_message(const UserInfo& user, const RequestAttributes& a);

 private:
  struct Policy;
  std::shared_ptr<const Policy> policy() const;
  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<std::atomic<uint64_t>> generation_;  // bumped by the store's observer
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Policy> policy_;  // guarded by mu_
  mutable uint64_t policy_generation_ = ~uint64_t{0};  // guarded by mu_
};

}  // namespace nonevent::sim
