#include "controllers/drain_policy.h"

#include <algorithm>

namespace nonevent::controllers {

using web::json::value;

// A metav1.LabelSelector as the API writes it.
model::LabelSelector selector_from(const value& v) {
  model::LabelSelector s;
  if (auto* ml = (v.has_field("matchLabels") && v.at("matchLabels").is_object() ? &v.at("matchLabels") : nullptr))
    for (const auto& [k, val] : ml->as_object())
      if (val.is_string()) s.match_labels.emplace_back(model::IStr(k), model::IStr(val.as_string()));
  std::sort(s.match_labels.begin(), s.match_labels.end());
  if (v.has_field("matchExpressions") && v.at("matchExpressions").is_array())
    for (const auto& e : v.at("matchExpressions").as_array()) {
      model::LabelSelectorRequirement r{model::IStr((e.has_field("key") && e.at("key").is_string() ? e.at("key").as_string() : std::string())), model::IStr((e.has_field("operator") && e.at("operator").is_string() ? e.at("operator").as_string() : std::string())), {}};
      if (e.has_field("values") && e.at("values").is_array())
        for (const auto& x : e.at("values").as_array()) r.values.emplace_back(x.as_string());
      s.match_expressions.push_back(std::move(r));
    }
  return s;
}


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
  if (d.has_field("rollout") && d.at("rollout").is_object()) {
    const value& r = d.at("rollout");
    if (r.has_field("when") && r.at("when").is_string()) out.rollout.when = r.at("when").as_string();
    if (out.rollout.when != "Never" && out.rollout.when != "WhenBlocked")
      p.push_back(path + ".rollout.when: must be Never or WhenBlocked");
    if (r.has_field("namespaceSelector") && r.at("namespaceSelector").is_object()) {
      auto sel = selector_from(r.at("namespaceSelector"));
      out.rollout.namespace_selector = std::move(sel);
    }
  }
  return out;
}

}  // namespace nonevent::controllers
