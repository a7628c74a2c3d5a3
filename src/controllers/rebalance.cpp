#include "controllers/rebalance.h"

#include <algorithm>
#include <climits>

#include "planner/preflight.h"

namespace nonevent::controllers {

using web::json::value;

value displaced_json(const std::vector<DisplacedWorkload>& list) {
  value out = value::array();
  size_t i = 0;
  for (const auto& w : list) {
    value o = value::object();
    o["namespace"] = value::string(w.ns);
    o["workload"] = value::string(w.workload);
    value before = value::object();
    for (const auto& [z, n] : w.before) before[z] = value::number(n);
    o["before"] = before;
    if (w.max_skew >= 0) o["maxSkew"] = value::number(w.max_skew);
    out[i++] = o;
  }
  return out;
}

std::vector<DisplacedWorkload> parse_displaced(const value& list) {
  std::vector<DisplacedWorkload> out;
  if (!list.is_array()) return out;
  for (const auto& o : list.as_array()) {
    if (!o.is_object() || !o.has_field("workload")) continue;
    DisplacedWorkload w;
    w.ns = o.has_field("namespace") ? o.at("namespace").as_string() : "";
    w.workload = o.at("workload").as_string();
    if (o.has_field("before") && o.at("before").is_object())
      for (const auto& [z, n] : o.at("before").as_object())
        if (n.is_number()) w.before[z] = n.as_integer();
    if (o.has_field("maxSkew") && o.at("maxSkew").is_number()) w.max_skew = o.at("maxSkew").as_integer();
    out.push_back(std::move(w));
  }
  return out;
}

namespace {
int skew_of(const std::map<std::string, int>& counts) {
  if (counts.empty()) return 0;
  int lo = INT_MAX, hi = 0;
  for (const auto& [z, n] : counts) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return hi - lo;
}
}  // namespace

RebalanceStep rebalance_step(kube::RestClient& client, const std::vector<std::shared_ptr<const model::Node>>& nodes,
                             const std::vector<std::shared_ptr<const model::Pod>>& pods,
                             const std::vector<DisplacedWorkload>& displaced, const std::string& zone_label,
                             const std::vector<std::string>& restored_zones, const std::string& own_claim) {
  RebalanceStep out;
  // Zones pods can go to now, and whether someone else holds a node (then nothing moves:
  // another window or campaign outranks a rebalance).
  std::map<std::string, std::string> zone_of;  // node → zone
  std::map<std::string, int> empty_zones;
  for (const auto& z : restored_zones) empty_zones.emplace(z, 0);
  std::string held_by;
  bool restore_seen = true;
  for (const auto& n : nodes) {
    const model::IStr* z = model::find_label(n->meta.label_set(), zone_label);
    if (!z) continue;
    zone_of[n->meta.name] = z->str();
    if (const auto* c = claim_of(*n)) {
      if (*c == own_claim) restore_seen = false;
      else held_by = *c;
    }
    if (!n->unschedulable && n->ready) empty_zones.emplace(z->str(), 0);
  }
  if (!held_by.empty() || !restore_seen) {
    out.waiting.push_back(held_by.empty() ? "waiting: the restore is not yet in the node cache" : "waiting: " + held_by + " holds nodes");
    return out;
  }
  struct Live {
    std::map<std::string, int> per_zone;
    std::map<std::string, std::vector<const model::Pod*>> pods_in_zone;
    int not_ready = 0;
  };
  std::map<std::string, Live> live;  // "ns/workload"
  for (const auto& w : displaced) live[w.ns + "/" + w.workload].per_zone = empty_zones;
  for (const auto& p : pods) {
    if (p->finished()) continue;
    auto it = live.find(p->meta.namespace_.str() + "/" + planner::workload_of(*p));
    if (it == live.end()) continue;
    if (p->meta.deleted || !p->ready || p->node_name.empty()) {
      ++it->second.not_ready;
      continue;
    }
    auto z = zone_of.find(p->node_name.str());
    if (z == zone_of.end() || !empty_zones.count(z->second)) continue;
    ++it->second.per_zone[z->second];
    it->second.pods_in_zone[z->second].push_back(p.get());
  }
  out.done = true;
  for (const auto& w : displaced) {
    const auto key = w.ns + "/" + w.workload;
    auto& l = live[key];
    std::map<std::string, int> before;
    for (const auto& [z, n] : w.before)
      if (empty_zones.count(z)) before[z] = n;
    for (const auto& [z, n] : empty_zones) before.emplace(z, 0);
    const int allowed = std::max({w.max_skew >= 0 ? w.max_skew : 1, skew_of(before), 1});
    const int skew = skew_of(l.per_zone);
    if (skew <= allowed) continue;
    out.done = false;
    if (l.not_ready > 0) {
      out.waiting.push_back(key + ": waiting for " + std::to_string(l.not_ready) + " replica(s) to be Ready");
      continue;
    }
    // The fullest zone gives up its newest pod (the one the evacuation placed last).
    auto fullest = std::max_element(l.per_zone.begin(), l.per_zone.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
    auto& candidates = l.pods_in_zone[fullest->first];
    if (candidates.empty()) continue;
    const auto* victim = *std::max_element(candidates.begin(), candidates.end(), [](const auto* a, const auto* b) {
      return a->meta.created < b->meta.created;
    });
    auto r = client.evict(w.ns, victim->meta.name, kube::DeleteOptions{});
    if (r.ok()) ++out.evicted;
    else
      out.waiting.push_back(key + ": " + (r.error().causes.empty() ? r.error().message : r.error().causes[0].message));
  }
  return out;
}

}  // namespace nonevent::controllers
