#include "sim/pod_update_rules.h"

#include <algorithm>

namespace nonevent::sim {

using web::json::value;

namespace {

const value* member(const value& v, const char* key) {
  return v.is_object() && v.has_field(key) ? &v.at(key) : nullptr;
}

// Every element of `part` appears in `whole` (arrays of objects, compared whole).
bool subset(const value* part, const value* whole) {
  if (!part || !part->is_array() || part->size() == 0) return true;
  if (!whole || !whole->is_array()) return false;
  const auto& w = whole->as_array();
  return std::all_of(part->as_array().begin(), part->as_array().end(),
                     [&](const value& e) { return std::find(w.begin(), w.end(), e) != w.end(); });
}

// The spec with what an update may change taken out.
value without_mutable_fields(const value& spec) {
  value s = spec;
  for (const char* list : {"containers", "initContainers"})
    if (s.has_field(list) && s.at(list).is_array())
      for (auto& c : s.at(list).as_array())
        if (c.is_object() && c.has_field("image")) c["image"] = value::string("");
  for (const char* field : {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "schedulingGates"})
    if (s.has_field(field)) s.erase(field);
  return s;
}

}  // namespace

std::string pod_update_error(const value& old_pod, const value& new_pod) {
  static const value kNone = value::object();
  const value* old_spec_p = member(old_pod, "spec");
  const value* new_spec_p = member(new_pod, "spec");
  const value& old_spec = old_spec_p ? *old_spec_p : kNone;
  const value& new_spec = new_spec_p ? *new_spec_p : kNone;
  if (old_spec == new_spec) return "";
  const std::string forbidden =
      "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
      "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
      "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";
  if (!(without_mutable_fields(old_spec) == without_mutable_fields(new_spec))) return forbidden;
  if (!subset(member(old_spec, "tolerations"), member(new_spec, "tolerations"))) return forbidden;
  if (!subset(member(new_spec, "schedulingGates"), member(old_spec, "schedulingGates")))
    return "spec.schedulingGates: Forbidden: only deletion is allowed, but found new scheduling gate";
  const value* old_grace = member(old_spec, "terminationGracePeriodSeconds");
  const value* new_grace = member(new_spec, "terminationGracePeriodSeconds");
  if (!(old_grace && new_grace && *old_grace == *new_grace) && (old_grace || new_grace)) {
    const bool from_negative = old_grace && old_grace->is_integer() && old_grace->as_number().to_int64() < 0;
    const bool to_one = new_grace && new_grace->is_integer() && new_grace->as_number().to_int64() == 1;
    if (!(from_negative && to_one)) return forbidden;
  }
  const value* old_deadline = member(old_spec, "activeDeadlineSeconds");
  const value* new_deadline = member(new_spec, "activeDeadlineSeconds");
  if (old_deadline && !old_deadline->is_null()) {
    if (!new_deadline || new_deadline->is_null())
      return "spec.activeDeadlineSeconds: Invalid value: \"null\": must not update from a positive integer to nil value";
    if (new_deadline->is_integer() && old_deadline->is_integer() &&
        new_deadline->as_number().to_int64() > old_deadline->as_number().to_int64())
      return "spec.activeDeadlineSeconds: Invalid value: " + new_deadline->serialize() + ": must be less than or equal to previous value";
  }
  return "";
}

}  // namespace nonevent::sim
