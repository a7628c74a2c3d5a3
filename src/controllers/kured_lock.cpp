#include "controllers/kured_lock.h"

#include <cpprest/json.h>

#include <algorithm>

#include "kube/log.h"

namespace nonevent::controllers {

using web::json::value;

bool KuredLock::held_by(const std::string& holder) const {
  return std::find(holders.begin(), holders.end(), holder) != holders.end();
}

KuredLock read_kured_lock(const model::GenericObject& daemon_set) {
  KuredLock lock;
  lock.resource_version = daemon_set.meta.resource_version;
  std::error_code ec;
  const value ds = value::parse(daemon_set.json, ec);
  if (ec || !ds.has_field("metadata") || !ds.at("metadata").has_field("annotations")) return lock;
  const value& ann = ds.at("metadata").at("annotations");
  if (!ann.has_field(kKuredLockAnnotation) || !ann.at(kKuredLockAnnotation).is_string()) return lock;
  lock.text = ann.at(kKuredLockAnnotation).as_string();
  if (lock.text.empty()) return lock;
  const value v = value::parse(lock.text, ec);
  if (ec || !v.is_object()) {
    lock.unreadable = true;
    return lock;
  }
  auto holder_of = [&](const value& l) {
    if (l.is_object() && l.has_field("nodeID") && l.at("nodeID").is_string() && !l.at("nodeID").as_string().empty())
      lock.holders.push_back(l.at("nodeID").as_string());
  };
  if (v.has_field("locks") && v.at("locks").is_array())
    for (const auto& l : v.at("locks").as_array()) holder_of(l);
  else holder_of(v);
  return lock;
}

std::string kured_holder(const std::string& claim) { return "nonevent:" + claim; }

namespace {
kube::Status write_lock(kube::RestClient& client, const model::GenericObject& ds, value lock_value) {
  value p = value::object();
  p["metadata"]["annotations"][kKuredLockAnnotation] = std::move(lock_value);
  p["metadata"]["resourceVersion"] = value::string(ds.meta.resource_version);
  auto r = client.patch(kube::resources::daemon_sets(), std::string(ds.meta.namespace_.view()), ds.meta.name, kube::PatchType::kMerge,
                        p.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}
}  // namespace

kube::Status take_kured_lock(kube::RestClient& client, const model::GenericObject& daemon_set, const std::string& claim,
                             kube::TimePoint now) {
  value lock = value::object();
  lock["nodeID"] = value::string(kured_holder(claim));
  lock["metadata"]["holder"] = value::string("nonevent");
  lock["metadata"]["claim"] = value::string(claim);
  lock["created"] = value::string(kube::format_rfc3339(now));
  lock["TTL"] = value::number(0);
  if (auto st = write_lock(client, daemon_set, value::string(lock.serialize())); !st.ok()) return st;
  logging::info("kured", "took kured's reboot lock: kured waits while the campaign patches", {{"claim", claim}});
  return kube::Unit{};
}

kube::Status release_kured_lock(kube::RestClient& client, const model::GenericObject& daemon_set, const std::string& claim) {
  if (!read_kured_lock(daemon_set).held_by(kured_holder(claim))) return kube::Unit{};
  if (auto st = write_lock(client, daemon_set, value::null()); !st.ok()) return st;
  logging::info("kured", "released kured's reboot lock", {{"claim", claim}});
  return kube::Unit{};
}

}  // namespace nonevent::controllers
