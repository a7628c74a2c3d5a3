#include "controllers/campaign_spec.h"

#include "controllers/window_spec.h"

#include <algorithm>
#include <regex>

namespace nonevent::controllers {

using web::json::value;

namespace {

std::string str(const value& v, const char* k) {
  return v.is_object() && v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : "";
}
const value* obj(const value& v, const char* k) {
  return v.is_object() && v.has_field(k) && v.at(k).is_object() ? &v.at(k) : nullptr;
}

void read_duration(const value& v, const char* k, const std::string& path, kube::Duration& out,
                   std::vector<std::string>& p) {
  if (auto s = str(v, k); !s.empty()) {
    if (auto d = parse_duration(s)) out = *d;
    else p.push_back(path + "." + k + ": \"" + s + "\" is not a duration such as 30m");
  }
}

std::optional<model::IntOrPercent> int_or_percent(const value& v, const char* k, const std::string& path,
                                                  std::vector<std::string>& p) {
  if (!v.is_object() || !v.has_field(k)) return std::nullopt;
  const value& x = v.at(k);
  // The CRD's bounds (hack/gen-crds.py INT_OR_PERCENT): no zone has more nodes than this.
  constexpr int64_t kMaxNodesPerZone = 10000;
  if (x.is_integer() && x.as_number().is_int64() && x.as_integer() >= 0 && x.as_number().to_int64() <= kMaxNodesPerZone)
    return model::IntOrPercent{false, x.as_integer()};
  static const std::regex percent("^(100|[1-9]?[0-9])%$");
  std::smatch m;
  const std::string s = x.is_string() ? x.as_string() : "";
  if (std::regex_match(s, m, percent)) return model::IntOrPercent{true, std::stoi(m[1])};
  p.push_back(path + "." + k + ": must be an integer from 0 to 10000 or a percentage from 0% to 100%");
  return std::nullopt;
}

}  // namespace

std::string CampaignSpec::reported_version(const model::Node& node) const {
  if (source == "Label") {
    const model::IStr* l = model::find_label(node.meta.label_set(), key);
    return l ? l->str() : "";
  }
  if (source == "Annotation") {
    const std::string* a = node.annotation(key);
    return a ? *a : "";
  }
  if (source == "OSImage") return node.os_image;
  if (source == "KernelVersion") return node.kernel_version;
  return node.kubelet_version;
}

bool CampaignSpec::selects(const model::Node& node) const {
  return !node_selector || node_selector->matches(node.meta.label_set());
}

int CampaignSpec::max_unavailable_in(int zone_nodes) const {
  const int n = max_unavailable.is_percent ? zone_nodes * max_unavailable.value / 100 : max_unavailable.value;
  return max_surge.value > 0 ? n : std::max(1, n);
}

int CampaignSpec::max_surge_in(int zone_nodes) const {
  if (!max_surge.is_percent) return max_surge.value;
  return (zone_nodes * max_surge.value + 99) / 100;
}

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::kInPlace: return "InPlace";
    case Strategy::kReplace: return "Replace";
    case Strategy::kExternal: return "External";
  }
  return "";  // unreachable: every enumerator is named above
}

std::optional<Strategy> parse_strategy(const std::string& text) {
  for (auto s : {Strategy::kInPlace, Strategy::kReplace, Strategy::kExternal})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

int CampaignSpec::nodes_at_once_in(int zone_nodes) const {
  return std::max(1, max_unavailable_in(zone_nodes) + (strategy == Strategy::kReplace ? max_surge_in(zone_nodes) : 0));
}

ParsedCampaign parse_campaign_spec(const value& spec) {
  ParsedCampaign out;
  CampaignSpec c;
  auto& p = out.problems;
  bool known_strategy = true;
  if (!spec.is_object()) {
    p.push_back("spec: required");
    return out;
  }
  if (auto* t = obj(spec, "target")) {
    c.version = str(*t, "version");
    if (auto s = str(*t, "source"); !s.empty()) c.source = s;
    if (auto k = str(*t, "key"); !k.empty()) c.key = k;
  }
  if (c.version.empty()) p.push_back("spec.target.version: required, what a patched node reports");
  static const std::vector<std::string> sources{"Label", "Annotation", "OSImage", "KernelVersion", "KubeletVersion"};
  if (std::find(sources.begin(), sources.end(), c.source) == sources.end())
    p.push_back("spec.target.source: must be one of Label, Annotation, OSImage, KernelVersion, KubeletVersion");
  if (auto* ns = obj(spec, "nodeSelector")) c.node_selector = selector_from(*ns);
  c.zones = zone_set(spec, p);
  if (auto zl = str(spec, "zoneLabel"); !zl.empty()) c.zone_label = zl;
  if (auto* st = obj(spec, "strategy")) {
    if (auto t = str(*st, "type"); !t.empty()) {
      if (auto parsed = parse_strategy(t)) c.strategy = *parsed;
      else known_strategy = false;
    }
    if (auto mu = int_or_percent(*st, "maxUnavailable", "spec.strategy", p)) c.max_unavailable = *mu;
    if (auto ms = int_or_percent(*st, "maxSurge", "spec.strategy", p)) c.max_surge = *ms;
    if (st->has_field("zonesInParallel")) c.zones_in_parallel = st->at("zonesInParallel").as_integer();
    if (c.zones_in_parallel < 1) p.push_back("spec.strategy.zonesInParallel: must be at least 1");
    if (auto* can = obj(*st, "canary")) {
      if (can->has_field("nodes")) {
        c.canary_nodes = can->at("nodes").is_integer() ? can->at("nodes").as_integer() : -1;
        if (c.canary_nodes < 0) p.push_back("spec.strategy.canary.nodes: must be an integer of at least 0");
      }
      read_duration(*can, "soak", "spec.strategy.canary", c.canary_soak, p);
    }
    read_duration(*st, "batchSoak", "spec.strategy", c.batch_soak, p);
  }
  if (!known_strategy) {
    // Only this: every check below would name a knock-on of the same mistake.
    p.push_back("spec.strategy.type: must be InPlace, Replace or External");
    return out;
  }
  if (c.max_unavailable.value == 0 && c.max_surge.value == 0)
    p.push_back("spec.strategy.maxUnavailable: must be more than 0 (or maxSurge, for strategy Replace)");
  if (c.strategy != Strategy::kReplace && c.max_surge.value != 0) p.push_back("spec.strategy.maxSurge: only valid for strategy Replace");
  for (auto [k, type] : {std::pair{"inPlace", Strategy::kInPlace}, {"replace", Strategy::kReplace}, {"external", Strategy::kExternal}})
    if (obj(spec, k) && c.strategy != type) p.push_back(std::string("spec.") + k + ": only valid for strategy " + to_string(type));
  if (c.strategy == Strategy::kInPlace) {
    const value* ip = obj(spec, "inPlace");
    const value* jt = ip ? obj(*ip, "jobTemplate") : nullptr;
    if (!jt || !obj(*jt, "spec") || !jt->at("spec").has_field("containers"))
      p.push_back("spec.inPlace.jobTemplate: required for strategy InPlace, a pod template with spec.containers");
    else c.job_template = *jt;
    if (ip) read_duration(*ip, "timeout", "spec.inPlace", c.node_timeout, p);
  } else if (c.strategy == Strategy::kReplace) {
    c.node_timeout = std::chrono::minutes(20);
    if (auto* r = obj(spec, "replace")) read_duration(*r, "timeout", "spec.replace", c.node_timeout, p);
  } else if (c.strategy == Strategy::kExternal) {
    if (auto* e = obj(spec, "external")) {
      if (auto a = str(*e, "annotation"); !a.empty()) c.external_annotation = a;
      read_duration(*e, "timeout", "spec.external", c.node_timeout, p);
    }
  }
  read_duration(spec, "deadline", "spec", c.deadline, p);
  if (auto* fp = obj(spec, "failurePolicy")) {
    if (fp->has_field("maxFailedNodes")) {
      c.max_failed_nodes = fp->at("maxFailedNodes").is_integer() ? fp->at("maxFailedNodes").as_integer() : -1;
      if (c.max_failed_nodes < 0) p.push_back("spec.failurePolicy.maxFailedNodes: must be an integer of at least 0");
    }
    if (auto a = str(*fp, "action"); !a.empty()) c.failure_action = a;
    if (fp->has_field("keepFailedNodesCordoned") && fp->at("keepFailedNodesCordoned").is_boolean())
      c.keep_failed_cordoned = fp->at("keepFailedNodesCordoned").as_bool();
    if (c.failure_action != "Pause" && c.failure_action != "Abort") p.push_back("spec.failurePolicy.action: must be Pause or Abort");
    if (auto u = str(*fp, "undrainable"); !u.empty()) {
      if (u != "Wait" && u != "Quarantine") p.push_back("spec.failurePolicy.undrainable: must be Wait or Quarantine");
      c.quarantine_undrainable = u == "Quarantine";
    }
    read_duration(*fp, "drainTimeout", "spec.failurePolicy", c.drain_timeout, p);
    if (c.drain_timeout <= kube::Duration::zero()) p.push_back("spec.failurePolicy.drainTimeout: must be more than 0");
    if (fp->has_field("maxQuarantinedNodes")) {
      c.max_quarantined_nodes = fp->at("maxQuarantinedNodes").is_integer() ? fp->at("maxQuarantinedNodes").as_integer() : -1;
      if (c.max_quarantined_nodes < 0) p.push_back("spec.failurePolicy.maxQuarantinedNodes: must be an integer of at least 0");
    }
  }
  if (spec.has_field("schedule")) c.schedule = CampaignSchedule::parse(spec.at("schedule"), p);
  if (spec.has_field("healthChecks")) c.health = parse_health_checks(spec.at("healthChecks"), "spec.healthChecks", p);
  if (spec.has_field("respectMaintenanceWindows") && spec.at("respectMaintenanceWindows").is_boolean())
    c.respect_windows = spec.at("respectMaintenanceWindows").as_bool();
  if (spec.has_field("drain")) c.drain = parse_drain_policy(spec.at("drain"), "spec.drain", p);
  if (spec.has_field("paused") && spec.at("paused").is_boolean()) c.paused = spec.at("paused").as_bool();
  if (p.empty()) out.spec = std::move(c);
  return out;
}

}  // namespace nonevent::controllers
