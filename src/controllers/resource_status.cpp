#include "controllers/resource_status.h"

namespace nonevent::controllers {

using web::json::value;

value condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
                int64_t generation, const value& old_status, kube::TimePoint now) {
  value c = value::object();
  c["type"] = value::string(type);
  c["status"] = value::string(status ? "True" : "False");
  c["reason"] = value::string(reason);
  c["message"] = value::string(message);
  c["observedGeneration"] = value::number(generation);
  std::string since = kube::format_rfc3339(now);
  if (old_status.is_object() && old_status.has_field("conditions") && old_status.at("conditions").is_array())
    for (const auto& o : old_status.at("conditions").as_array())
      if (o.at("type").as_string() == type && o.at("status").as_string() == c["status"].as_string() &&
          o.has_field("lastTransitionTime"))
        since = o.at("lastTransitionTime").as_string();
  c["lastTransitionTime"] = value::string(since);
  return c;
}

value blockers_json(const std::vector<planner::PreflightBlocker>& blockers, size_t limit) {
  value out = value::array();
  for (size_t i = 0; i < blockers.size() && i < limit; ++i) {
    const auto& b = blockers[i];
    value x = value::object();
    x["kind"] = value::string(b.kind);
    if (!b.ns.empty()) x["namespace"] = value::string(b.ns);
    x["name"] = value::string(b.name);
    x["reason"] = value::string(b.reason);
    x["message"] = value::string(b.message);
    out[i] = x;
  }
  return out;
}

bool condition_is_true(const value& status, const std::string& type) {
  if (!status.is_object() || !status.has_field("conditions") || !status.at("conditions").is_array()) return false;
  for (const auto& c : status.at("conditions").as_array())
    if (c.has_field("type") && c.at("type").as_string() == type) return c.at("status").as_string() == "True";
  return false;
}

bool has_finalizer(const value& obj, const std::string& finalizer) {
  if (!obj.has_field("metadata") || !obj.at("metadata").has_field("finalizers")) return false;
  for (const auto& f : obj.at("metadata").at("finalizers").as_array())
    if (f.as_string() == finalizer) return true;
  return false;
}

void ResourceWriter::saw(const std::string& body) const {
  std::error_code ec;
  const auto v = value::parse(body, ec);
  if (!ec && v.has_field("metadata") && v.at("metadata").has_field("resourceVersion"))
    newest_seen_ = v.at("metadata").at("resourceVersion").as_string();
}

kube::Result<value> ResourceWriter::fresh() const {
  auto r = client_.get(gvr_, "", name_);
  if (!r.ok()) return r.error();
  std::error_code ec;
  auto v = value::parse(r.value(), ec);
  if (!ec && v.has_field("metadata") && v.at("metadata").has_field("resourceVersion"))
    newest_seen_ = v.at("metadata").at("resourceVersion").as_string();
  return v;
}

value merge_patch_to(const value& current, const value& target) {
  // A JSON merge patch merges objects key by key, at every depth (RFC 7386): a field the
  // target lacks stays unless the patch nulls it, in nested objects too. (Only the top level
  // was nulled: status.schedule kept its "Blackout" message after opening, every pass saw a
  // difference, and its write woke the next pass: thousands of writes a second.)
  if (!current.is_object() || !target.is_object()) return target;
  value patch = target;
  for (const auto& [k, v] : current.as_object()) {
    if (!target.has_field(k)) patch[k] = value::null();
    else if (v.is_object() && target.at(k).is_object()) patch[k] = merge_patch_to(v, target.at(k));
  }
  return patch;
}

kube::Status ResourceWriter::write_status(const std::function<value(const value&)>& build, const value* known) const {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto cur = attempt == 0 && known ? kube::Result<value>(*known) : fresh();
    if (!cur.ok()) return cur.error();
    const value current = cur.value().has_field("status") ? cur.value().at("status") : value::object();
    value status = build(current);
    if (current.serialize() == status.serialize()) return kube::Unit{};
    value p = value::object();
    p["status"] = merge_patch_to(current, status);
    p["metadata"]["resourceVersion"] = cur.value().at("metadata").at("resourceVersion");
    auto r = client_.patch(gvr_, "", name_, kube::PatchType::kMerge, p.serialize(), "status");
    if (r.ok()) {
      saw(r.value());
      return kube::Unit{};
    }
    if (!r.error().is_conflict()) return r.error();
  }
  return kube::ApiError::from_response(409, "");
}

kube::Status ResourceWriter::patch_spec(const value& spec_patch) const {
  value p = value::object();
  p["spec"] = spec_patch;
  auto r = client_.patch(gvr_, "", name_, kube::PatchType::kMerge, p.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}

kube::Status ResourceWriter::patch_metadata_finalizers(const std::function<value(const value&)>& edit) const {
  auto cur = fresh();
  if (!cur.ok()) return cur.error().is_not_found() ? kube::Status(kube::Unit{}) : kube::Status(cur.error());  // gone: nothing to edit
  const value& meta = cur.value().at("metadata");
  value p = value::object();
  p["metadata"]["finalizers"] = edit(meta.has_field("finalizers") ? meta.at("finalizers") : value::array());
  p["metadata"]["resourceVersion"] = meta.at("resourceVersion");
  auto r = client_.patch(gvr_, "", name_, kube::PatchType::kMerge, p.serialize());
  if (!r.ok() && !r.error().is_not_found()) return r.error();
  if (r.ok()) saw(r.value());
  return kube::Unit{};
}

kube::Status ResourceWriter::add_finalizer(const std::string& finalizer) const {
  return patch_metadata_finalizers([&](const value& fins) {
    value out = fins;
    for (const auto& f : fins.as_array())
      if (f.as_string() == finalizer) return out;
    out[out.size()] = value::string(finalizer);
    return out;
  });
}

kube::Status ResourceWriter::remove_finalizer(const std::string& finalizer) const {
  return patch_metadata_finalizers([&](const value& fins) {
    value out = value::array();
    size_t j = 0;
    for (const auto& f : fins.as_array())
      if (f.as_string() != finalizer) out[j++] = f;
    return out;
  });
}

}  // namespace nonevent::controllers
