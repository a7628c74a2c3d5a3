#include "controllers/drain_policy.h"

namespace nonevent::controllers {

using web::json::value;

DrainPolicy parse_drain_policy(const value& d, const std::string& path, std::vector<std::string>& p) {
  DrainPolicy out;
  if (!d.is_object()) return out;
  auto str = [&](const char* k) { return d.has_field(k) && d.at(k).is_string() ? d.at(k).as_string() : std::string(); };
  if (d.has_field("maxConcurrentEvictions")) out.max_concurrent_evictions = d.at("maxConcurrentEvictions").as_integer();
  if (out.max_concurrent_evictions < 1) p.push_back(path + ".maxConcurrentEvictions: must be at least 1");
  if (d.has_field("gracePeriodSeconds")) out.grace_period_seconds = d.at("gracePeriodSeconds").as_integer();
  if (d.has_field("deleteEmptyDirData")) out.delete_empty_dir_data = d.at("deleteEmptyDirData").as_bool();
  if (d.has_field("evictUnmanagedPods")) out.evict_unmanaged_pods = d.at("evictUnmanagedPods").as_bool();
  if (auto t = str("podEvictionTimeout"); !t.empty()) {
    if (auto dd = parse_duration(t)) out.pod_eviction_timeout = *dd;
    else p.push_back(path + ".podEvictionTimeout: \"" + t + "\" is not a duration");
  }
  if (auto ob = str("onBlocked"); !ob.empty()) {
    if (ob != "Wait" && ob != "SkipNode" && ob != "Force") p.push_back(path + ".onBlocked: must be Wait, SkipNode or Force");
    out.on_blocked = ob;
  }
  if (auto fa = str("forceAfter"); !fa.empty()) {
    if (auto dd = parse_duration(fa)) out.force_after = *dd;
    else p.push_back(path + ".forceAfter: \"" + fa + "\" is not a duration");
  }
  if (out.on_blocked == "Force" && !out.force_after) p.push_back(path + ".forceAfter: required when onBlocked is Force");
  return out;
}

}  // namespace nonevent::controllers
