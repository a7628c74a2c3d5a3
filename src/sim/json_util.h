#pragma once
// Small readers over web::json values, shared by the simulated controllers.
#include <cpprest/json.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "kube/clock.h"
#include "sim/object_store.h"
#include "sim/selectors.h"

namespace nonevent::sim::json {

using web::json::value;

// The member `key` of an object (null for none). cpprest keeps an object's members sorted
// by key unless it was made to keep their order, which nothing here does: a binary search
// with the key as a view, where object::find() made the key a std::string first (an
// allocation for any key longer than 15 characters) in the simulated controllers'
// commonest lookup. A miss looks through the members too, in case an object kept its order.
inline const value* member(const web::json::object& members, std::string_view key) {
  const auto it = std::lower_bound(members.begin(), members.end(), key,
                                   [](const auto& m, std::string_view k) { return std::string_view(m.first) < k; });
  if (it != members.end() && it->first == key) return &it->second;
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}
inline const value* at(const value& v, std::initializer_list<const char*> path) {
  const value* cur = &v;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    cur = member(cur->as_object(), k);
    if (!cur) return nullptr;
  }
  return cur;
}
inline std::string str(const value& v, std::initializer_list<const char*> path, const std::string& def = "") {
  const value* x = at(v, path);
  return x && x->is_string() ? x->as_string() : def;
}
inline int64_t num(const value& v, std::initializer_list<const char*> path, int64_t def = 0) {
  const value* x = at(v, path);
  return x && x->is_number() ? x->as_number().to_int64() : def;
}
inline bool flag(const value& v, std::initializer_list<const char*> path) {
  const value* x = at(v, path);
  return x && x->is_boolean() && x->as_bool();
}
inline std::string name(const value& o) { return str(o, {"metadata", "name"}); }
inline std::string ns(const value& o) { return str(o, {"metadata", "namespace"}); }
inline std::string uid(const value& o) { return str(o, {"metadata", "uid"}); }
inline bool terminating(const value& o) { return at(o, {"metadata", "deletionTimestamp"}) != nullptr; }

inline StringMap labels(const value& o, std::initializer_list<const char*> path = {"metadata", "labels"}) {
  StringMap m;
  const value* l = at(o, path);
  if (l && l->is_object())
    for (const auto& [k, v] : l->as_object())
      if (v.is_string()) m[k] = v.as_string();
  return m;
}

// The uid of the object's controller owner (ownerReferences[controller=true]), as a view
// into `o` (valid while `o` is), or a copy.
inline std::string_view controller_uid_view(const value& o) {
  const value* refs = at(o, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return {};
  for (const auto& r : refs->as_array())
    if (const value* c = at(r, {"controller"}); c && c->is_boolean() && c->as_bool()) {
      const value* u = at(r, {"uid"});
      return u && u->is_string() ? std::string_view(u->as_string()) : std::string_view();
    }
  return {};
}
inline std::string controller_uid(const value& o) { return std::string(controller_uid_view(o)); }

// `obj`'s status.conditions with condition `type` set to `status` (and reason and message
// when given), as podutil.UpdatePodCondition sets one: in its place (or appended), its
// lastTransitionTime kept while the status is unchanged, else `since`.
inline value conditions_with(const value& obj, const std::string& type, const std::string& status,
                             const std::string& reason, const std::string& message, const std::string& since) {
  const value* current = at(obj, {"status", "conditions"});
  value out = current && current->is_array() ? *current : value::array();
  size_t i = 0;
  while (i < out.size() && str(out[i], {"type"}) != type) ++i;
  value c = value::object();
  c["type"] = value::string(type);
  c["status"] = value::string(status);
  if (!reason.empty()) c["reason"] = value::string(reason);
  if (!message.empty()) c["message"] = value::string(message);
  c["lastProbeTime"] = value::null();
  c["lastTransitionTime"] = value::string(i < out.size() && str(out[i], {"status"}) == status
                                              ? str(out[i], {"lastTransitionTime"}, since)
                                              : since);
  out[i] = c;
  return out;
}

inline value owner_ref(const value& owner, bool block = true) {
  value r = value::object();
  r["apiVersion"] = value::string(str(owner, {"apiVersion"}));
  r["kind"] = value::string(str(owner, {"kind"}));
  r["name"] = value::string(name(owner));
  r["uid"] = value::string(uid(owner));
  r["controller"] = value::boolean(true);
  r["blockOwnerDeletion"] = value::boolean(block);
  return r;
}

inline bool condition_true(const value& o, const std::string& type) {
  const value* cs = at(o, {"status", "conditions"});
  if (!cs || !cs->is_array()) return false;
  for (const auto& c : cs->as_array())
    if (str(c, {"type"}) == type) return str(c, {"status"}) == "True";
  return false;
}

inline bool pod_ready(const value& pod) { return condition_true(pod, "Ready"); }
inline bool pod_active(const value& pod) {
  const auto phase = str(pod, {"status", "phase"});
  return !terminating(pod) && phase != "Succeeded" && phase != "Failed";
}

// LabelSelector (matchLabels + matchExpressions) as a Selector.
inline Selector selector_of(const value& sel) {
  Selector s;
  if (!sel.is_object()) return s;
  if (sel.has_field("matchLabels") && sel.at("matchLabels").is_object())
    for (const auto& [k, v] : sel.at("matchLabels").as_object())
      s.requirements.push_back({k, Requirement::Op::kEquals, {v.as_string()}});
  if (sel.has_field("matchExpressions") && sel.at("matchExpressions").is_array())
    for (const auto& e : sel.at("matchExpressions").as_array()) {
      Requirement r;
      r.key = str(e, {"key"});
      const auto op = str(e, {"operator"});
      r.op = op == "In" ? Requirement::Op::kIn : op == "NotIn" ? Requirement::Op::kNotIn
           : op == "Exists" ? Requirement::Op::kExists : Requirement::Op::kDoesNotExist;
      if (e.has_field("values"))
        for (const auto& x : e.at("values").as_array()) r.values.push_back(x.as_string());
      s.requirements.push_back(r);
    }
  return s;
}

inline std::string now_text(kube::TimePoint t) { return kube::format_rfc3339(t); }
inline kube::TimePoint after(kube::TimePoint t, double seconds) {
  return t + std::chrono::duration_cast<kube::TimePoint::duration>(std::chrono::duration<double>(seconds));
}

// Every stored object of a resource ("/pods", "apps/deployments"), optionally of one
// namespace, decoded; and one object, or null. For tests, benchmarks and tools that look at
// the store directly.
inline std::vector<value> list_objects(const ObjectStore& store, const std::string& resource, const std::string& ns = "") {
  std::vector<value> out;
  auto r = store.list({.resource = resource, .ns = ns}, 0, "");
  if (!r.ok()) return out;
  std::error_code ec;
  for (const auto& o : r.value().items) out.push_back(value::parse(o->json, ec));
  return out;
}
inline value get_object(const ObjectStore& store, const std::string& resource, const std::string& ns, const std::string& name) {
  auto o = store.get(resource, ns, name);
  std::error_code ec;
  return o ? value::parse(o->json, ec) : value::null();
}

}  // namespace nonevent::sim::json
