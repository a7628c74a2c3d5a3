#include "sim/server_side_apply.h"

#include <map>

namespace nonevent::sim {

using web::json::value;
using fields::Path;
using fields::Set;

namespace {

// Fields no manager owns (fieldmanager's stripMeta): identity and server-set metadata.
bool stripped(const Path& p, bool ignore_status, const std::string& subresource) {
  if (p.empty()) return true;
  if (p[0] == "f:apiVersion" || p[0] == "f:kind") return true;
  if (p[0] == "f:metadata" && p.size() >= 2)
    for (const char* f : {"f:name", "f:namespace", "f:uid", "f:resourceVersion", "f:creationTimestamp", "f:generation",
                          "f:managedFields", "f:selfLink", "f:deletionTimestamp", "f:deletionGracePeriodSeconds"})
      if (p[1] == f) return true;
  if (subresource == "status") return p[0] != "f:status";
  return ignore_status && p[0] == "f:status";
}

Set without_stripped(const Set& s, bool ignore_status, const std::string& subresource = "") {
  Set out;
  for (const auto& p : s)
    if (!stripped(p, ignore_status, subresource)) out.insert(p);
  return out;
}

value without_managed_fields(const value& o) {
  value out = o;
  if (out.is_object() && out.has_field("metadata") && out.at("metadata").is_object() && out.at("metadata").has_field("managedFields"))
    out["metadata"].erase("managedFields");
  return out;
}

void write_managed_fields(value& object, const std::vector<ManagedEntry>& entries) {
  value list = value::array();
  size_t n = 0;
  for (const auto& e : entries) {
    if (e.set.empty()) continue;
    value m = value::object();
    m["manager"] = value::string(e.manager);
    m["operation"] = value::string(e.operation);
    m["apiVersion"] = value::string(e.api_version);
    m["time"] = value::string(e.time);
    m["fieldsType"] = value::string("FieldsV1");
    m["fieldsV1"] = fields::to_fields_v1(e.set);
    if (!e.subresource.empty()) m["subresource"] = value::string(e.subresource);
    list[n++] = m;
  }
  if (!object.has_field("metadata") || !object.at("metadata").is_object()) object["metadata"] = value::object();
  // (cpprest's erase throws for a key that is not there: an object whose fields no manager
  // owns, a ServiceAccount of metadata alone, was refused 500 "Key not found".)
  if (n == 0) {
    if (object.at("metadata").has_field("managedFields")) object["metadata"].erase("managedFields");
  } else {
    object["metadata"]["managedFields"] = list;
  }
}

constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

const value* last_applied(const value& object) {
  const value* meta = object.has_field("metadata") ? &object.at("metadata") : nullptr;
  if (!meta || !meta->has_field("annotations") || !meta->at("annotations").has_field(kLastApplied)) return nullptr;
  const value& a = meta->at("annotations").at(kLastApplied);
  return a.is_string() && !a.as_string().empty() ? &a : nullptr;
}

Set last_applied_fields(const value& live, const SchemaNode& schema) {
  const value* a = last_applied(live);
  if (!a) return {};
  std::error_code ec;
  const value config = value::parse(a->as_string(), ec);
  return ec ? Set{} : fields::of_object(config, schema);
}

bool same_entry(const ManagedEntry& e, const std::string& manager, const std::string& operation, const std::string& subresource) {
  return e.manager == manager && e.operation == operation && e.subresource == subresource;
}

// The 409 kube-apiserver answers, worded as structured-merge-diff's Conflicts.Error():
// "Apply failed with N conflict(s): conflict with "m" using v: .f" (a list per manager when
// one has several), with one StatusCause per field.
ApplyOutcome conflict_outcome(const std::vector<ManagedEntry>& managers, const std::map<size_t, Set>& conflicts) {
  ApplyOutcome out;
  size_t count = 0;
  std::string groups;
  value causes = value::array();
  size_t ci = 0;
  for (const auto& [i, c] : conflicts) {
    count += c.size();
    const std::string with = "conflict with \"" + managers[i].manager + "\" using " + managers[i].api_version;
    for (const auto& p : c) {
      value cause = value::object();
      cause["reason"] = value::string("FieldManagerConflict");
      cause["message"] = value::string(with);
      cause["field"] = value::string(fields::describe(p));
      causes[ci++] = cause;
    }
    if (c.size() == 1) {
      groups += (groups.empty() ? "" : "\n") + with + ": " + fields::describe(*c.begin());
    } else {
      groups += (groups.empty() ? "" : "\n") + std::string("conflicts with \"") + managers[i].manager + "\" using " + managers[i].api_version + ":";
      for (const auto& p : c) groups += "\n- " + fields::describe(p);
    }
  }
  out.code = 409;
  out.reason = "Conflict";
  out.message = "Apply failed with " + std::to_string(count) + " conflict" + (count == 1 ? "" : "s") + ": " + groups;
  out.details = value::object();
  out.details["causes"] = causes;
  return out;
}

}  // namespace

std::vector<ManagedEntry> read_managed_fields(const value& object) {
  std::vector<ManagedEntry> out;
  const value* mf = object.is_object() && object.has_field("metadata") && object.at("metadata").is_object() &&
                            object.at("metadata").has_field("managedFields")
                        ? &object.at("metadata").at("managedFields")
                        : nullptr;
  if (!mf || !mf->is_array()) return out;
  auto text = [](const value& v, const char* k) { return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : ""; };
  for (const auto& m : mf->as_array()) {
    if (!m.is_object()) continue;
    ManagedEntry e{text(m, "manager"), text(m, "operation"), text(m, "apiVersion"), text(m, "time"), text(m, "subresource"), {}};
    if (m.has_field("fieldsV1")) e.set = fields::from_fields_v1(m.at("fieldsV1"));
    out.push_back(std::move(e));
  }
  return out;
}

ApplyOutcome server_side_apply(const ApplyRequest& req) {
  ApplyOutcome out;
  value config = req.config;
  if (req.ignore_status && config.has_field("status")) config.erase("status");
  const value live = req.live ? without_managed_fields(*req.live) : value::object();
  std::vector<ManagedEntry> managers = req.live ? read_managed_fields(*req.live) : std::vector<ManagedEntry>{};
  // An object nobody has applied to yet: whatever it holds belongs to "before-first-apply",
  // so an apply that changes it meets a conflict rather than silently taking it.
  if (req.live && managers.empty())
    managers.push_back({"before-first-apply", "Update", req.api_version, req.now, "",
                        without_stripped(fields::of_object(live, req.schema), req.ignore_status)});

  const Set applied = without_stripped(fields::of_object(config, req.schema), req.ignore_status);
  Set previous;
  for (const auto& m : managers)
    if (same_entry(m, req.manager, "Apply", "")) previous = m.set;

  value merged = fields::merge(live, config, req.schema);
  // What this manager applied last time and not now goes, unless someone else still owns it
  // (or anything under it), or the configuration still sets something under it.
  auto owned_elsewhere = [&](const Path& p) {
    auto under = [&](const Set& s) {
      auto it = s.lower_bound(p);
      return it != s.end() && it->size() >= p.size() && std::equal(p.begin(), p.end(), it->begin());
    };
    if (under(applied)) return true;
    for (const auto& m : managers)
      if (!same_entry(m, req.manager, "Apply", "") && under(m.set)) return true;
    return false;
  };
  const Set dropped = fields::minus(previous, applied);
  // Outermost first: a list item is found by its key fields, which removing them would lose.
  for (const auto& p : dropped)
    if (!owned_elsewhere(p)) fields::remove(merged, p, req.schema);

  const auto diff = fields::compare(live, merged, req.schema);
  Set changed = diff.modified;
  changed.insert(diff.added.begin(), diff.added.end());
  // Conflicts: fields another manager owns that this apply would change.
  std::map<size_t, Set> conflicts;
  for (size_t i = 0; i < managers.size(); ++i) {
    if (same_entry(managers[i], req.manager, "Apply", "")) continue;
    Set c = fields::both(managers[i].set, changed);
    if (!c.empty()) conflicts[i] = std::move(c);
  }
  // kubectl moving from client-side to server-side apply (fieldmanager's lastAppliedManager):
  // conflicts only on fields its last-applied-configuration holds are its own, so forced.
  bool force = req.force;
  if (!conflicts.empty() && !force && req.manager == "kubectl") {
    const Set allowed = last_applied_fields(live, req.schema);
    force = !allowed.empty();
    for (const auto& [i, c] : conflicts)
      for (const auto& p : c) force = force && allowed.count(p);
  }
  if (!conflicts.empty() && !force) return conflict_outcome(managers, conflicts);
  for (const auto& [i, c] : conflicts) managers[i].set = fields::minus(managers[i].set, c);
  for (auto& m : managers) m.set = fields::minus(m.set, diff.removed);

  bool found = false;
  for (auto& m : managers)
    if (same_entry(m, req.manager, "Apply", "")) {
      found = true;
      if (m.set != applied || !changed.empty()) m.time = req.now;
      m.set = applied;
      m.api_version = req.api_version;
    }
  if (!found) managers.push_back({req.manager, "Apply", req.api_version, req.now, "", applied});
  // kubectl's server-side applies keep an existing last-applied-configuration current
  // (fieldmanager's lastAppliedUpdater), so a later client-side apply still sees the truth.
  if (req.manager == "kubectl" && last_applied(merged)) {
    value annotated = config;
    if (annotated.has_field("metadata") && annotated.at("metadata").has_field("annotations"))
      annotated["metadata"]["annotations"].erase(kLastApplied);
    const std::string text = annotated.serialize() + "\n";
    if (last_applied(merged)->as_string() != text) merged["metadata"]["annotations"][kLastApplied] = value::string(text);
  }
  out.unchanged = req.live && changed.empty() && diff.removed.empty() && found && previous == applied;
  write_managed_fields(merged, managers);
  out.object = std::move(merged);
  return out;
}

void record_update(const value* before, value& after, const std::string& manager, const std::string& subresource, bool ignore_status,
                   const std::string& api_version, const std::string& now, const SchemaNode& schema) {
  std::vector<ManagedEntry> managers = before ? read_managed_fields(*before) : std::vector<ManagedEntry>{};
  // A client may write managedFields itself (kubectl's client-side-apply upgrade does): its
  // entries are taken as they are, and only the other changes recorded on top of them.
  if (after.has_field("metadata") && after.at("metadata").has_field("managedFields")) {
    const auto written = read_managed_fields(after);
    if (!before || after.at("metadata").at("managedFields").serialize() !=
                       (before->at("metadata").has_field("managedFields") ? before->at("metadata").at("managedFields").serialize() : ""))
      managers = written;
  }
  const value old_obj = before ? without_managed_fields(*before) : value::object();
  const auto diff = fields::compare(old_obj, without_managed_fields(after), schema);
  Set changed = without_stripped(diff.modified, ignore_status, subresource);
  for (const auto& p : without_stripped(diff.added, ignore_status, subresource)) changed.insert(p);
  const Set removed = without_stripped(diff.removed, ignore_status, subresource);
  for (auto& m : managers) {
    if (!same_entry(m, manager, "Update", subresource)) m.set = fields::minus(m.set, changed);
    m.set = fields::minus(m.set, removed);
  }
  bool found = false;
  for (auto& m : managers)
    if (same_entry(m, manager, "Update", subresource)) {
      found = true;
      if (!changed.empty()) {
        m.set.insert(changed.begin(), changed.end());
        m.time = now;
        m.api_version = api_version;
      }
    }
  if (!found && !changed.empty()) managers.push_back({manager, "Update", api_version, now, subresource, changed});
  write_managed_fields(after, managers);
}

}  // namespace nonevent::sim
