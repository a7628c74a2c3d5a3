#include "sim/rbac_authorizer.h"

#include <algorithm>
#include <map>
#include <vector>

#include "sim/json_util.h"
#include "sim/object_store.h"

namespace nonevent::sim {

using web::json::value;

namespace {

constexpr const char* kRbac = "rbac.authorization.k8s.io";

struct Rule {
  std::vector<std::string> verbs, groups, resources, names, urls;
};
struct Binding {
  std::string ns;  // "" for a ClusterRoleBinding
  std::string role_kind, role_name;
  struct Subject {
    std::string kind, name, ns;
  };
  std::vector<Subject> subjects;
};

std::vector<std::string> strings(const value& v, const char* k) {
  std::vector<std::string> out;
  if (v.is_object() && v.has_field(k) && v.at(k).is_array())
    for (const auto& s : v.at(k).as_array())
      if (s.is_string()) out.push_back(s.as_string());
  return out;
}
std::vector<Rule> rules_of(const value& role) {
  std::vector<Rule> out;
  if (const value* rs = json::at(role, {"rules"}); rs && rs->is_array())
    for (const auto& r : rs->as_array())
      out.push_back({strings(r, "verbs"), strings(r, "apiGroups"), strings(r, "resources"), strings(r, "resourceNames"), strings(r, "nonResourceURLs")});
  return out;
}
Binding binding_of(const value& b, const std::string& ns) {
  Binding out{ns, json::str(b, {"roleRef", "kind"}), json::str(b, {"roleRef", "name"}), {}};
  if (const value* ss = json::at(b, {"subjects"}); ss && ss->is_array())
    for (const auto& s : ss->as_array()) out.subjects.push_back({json::str(s, {"kind"}), json::str(s, {"name"}), json::str(s, {"namespace"})});
  return out;
}

bool has(const std::vector<std::string>& xs, const std::string& x) { return std::find(xs.begin(), xs.end(), x) != xs.end(); }

bool rule_allows(const Rule& r, const RequestAttributes& a) {
  if (!has(r.verbs, "*") && !has(r.verbs, a.verb)) return false;
  if (!a.resource_request) {
    for (const auto& u : r.urls)
      if (u == "*" || u == a.path || (!u.empty() && u.back() == '*' && a.path.compare(0, u.size() - 1, u, 0, u.size() - 1) == 0)) return true;
    return false;
  }
  if (!has(r.groups, "*") && !has(r.groups, a.group)) return false;
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool resource = false;
  for (const auto& x : r.resources)
    if (x == "*" || x == combined || (!a.subresource.empty() && x == "*/" + a.subresource)) resource = true;
  if (!resource) return false;
  return r.names.empty() || has(r.names, a.name);
}

bool subject_is(const Binding::Subject& s, const UserInfo& u, const std::string& binding_ns) {
  if (s.kind == "User") return s.name == u.name;
  if (s.kind == "Group") return has(u.groups, s.name);
  if (s.kind == "ServiceAccount") return u.name == "system:serviceaccount:" + (s.ns.empty() ? binding_ns : s.ns) + ":" + s.name;
  return false;
}

// What every authenticated user may do in a default cluster: kube-apiserver's bootstrap
// roles system:discovery and system:public-info-viewer (these paths, get only) and
// system:basic-user. Not every path: a component's /metrics is for those RBAC lets in (the
// operator's secure metrics ask exactly this).
bool bootstrap_allows(const UserInfo& u, const RequestAttributes& a) {
  if (!has(u.groups, "system:authenticated")) return false;
  if (!a.resource_request) {
    static const std::vector<std::string> kPaths{"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                                                 "/openapi/*", "/readyz", "/version", "/version/"};
    return a.verb == "get" && rule_allows(Rule{{"get"}, {}, {}, {}, kPaths}, a);
  }
  return a.verb == "create" && ((a.group == "authorization.k8s.io" && (a.resource == "selfsubjectaccessreviews" || a.resource == "selfsubjectrulesreviews")) ||
                                (a.group == "authentication.k8s.io" && a.resource == "selfsubjectreviews"));
}

}  // namespace

struct RbacAuthorizer::Policy {
  std::map<std::string, std::vector<Rule>> cluster_roles;  // name
  std::map<std::string, std::vector<Rule>> roles;          // ns/name
  std::vector<Binding> bindings;
};

RbacAuthorizer::RbacAuthorizer(std::shared_ptr<ObjectStore> store)
    : store_(std::move(store)), generation_(std::make_shared<std::atomic<uint64_t>>(0)) {
  std::weak_ptr<std::atomic<uint64_t>> gen = generation_;
  store_->add_observer([gen](const Change& c) {
    if (c.resource.compare(0, std::char_traits<char>::length(kRbac), kRbac) != 0) return;
    if (auto g = gen.lock()) g->fetch_add(1);
  });
}
RbacAuthorizer::~RbacAuthorizer() = default;

std::shared_ptr<const RbacAuthorizer::Policy> RbacAuthorizer::policy() const {
  const uint64_t gen = generation_->load();
  std::lock_guard g(mu_);
  if (policy_ && gen == policy_generation_) return policy_;
  auto p = std::make_shared<Policy>();
  const std::string group = std::string(kRbac) + "/";
  for (const auto& r : json::list_objects(*store_, group + "clusterroles")) p->cluster_roles[json::str(r, {"metadata", "name"})] = rules_of(r);
  for (const auto& r : json::list_objects(*store_, group + "roles"))
    p->roles[json::str(r, {"metadata", "namespace"}) + "/" + json::str(r, {"metadata", "name"})] = rules_of(r);
  for (const auto& b : json::list_objects(*store_, group + "clusterrolebindings")) p->bindings.push_back(binding_of(b, ""));
  for (const auto& b : json::list_objects(*store_, group + "rolebindings")) p->bindings.push_back(binding_of(b, json::str(b, {"metadata", "namespace"})));
  policy_ = std::move(p);
  policy_generation_ = gen;
  return policy_;
}

bool RbacAuthorizer::allowed(const UserInfo& user, const RequestAttributes& a) const {
  if (has(user.groups, "system:masters")) return true;
  if (bootstrap_allows(user, a)) return true;
  const auto p = policy();
  for (const auto& b : p->bindings) {
    // A RoleBinding grants only inside its namespace; a ClusterRoleBinding everywhere.
    if (!b.ns.empty() && b.ns != a.ns) continue;
    if (std::none_of(b.subjects.begin(), b.subjects.end(), [&](const auto& s) { return subject_is(s, user, b.ns); })) continue;
    const std::vector<Rule>* rules = nullptr;
    if (b.role_kind == "ClusterRole") {
      auto it = p->cluster_roles.find(b.role_name);
      if (it != p->cluster_roles.end()) rules = &it->second;
    } else if (b.role_kind == "Role" && !b.ns.empty()) {
      auto it = p->roles.find(b.ns + "/" + b.role_name);
      if (it != p->roles.end()) rules = &it->second;
    }
    if (rules && std::any_of(rules->begin(), rules->end(), [&](const Rule& r) { return rule_allows(r, a); })) return true;
  }
  return false;
}

std::string RbacAuthorizer::forbidden_message(const UserInfo& user, const RequestAttributes& a) {
  if (!a.resource_request) return "forbidden: User \"" + user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  const std::string qualified = a.group.empty() ? a.resource : a.resource + "." + a.group;
  const std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  return qualified + (a.name.empty() ? "" : " \"" + a.name + "\"") + " is forbidden: User \"" + user.name + "\" cannot " + a.verb +
         " resource \"" + resource + "\" in API group \"" + a.group + "\"" +
         (a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"");
}

}  // namespace nonevent::sim
