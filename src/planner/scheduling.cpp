#include "planner/scheduling.h"

#include <algorithm>
#include <climits>
#include <set>

namespace nonevent::planner {

using model::Node;
using model::Pod;

void ClusterView::bind(const Pod& pod, const std::string& node) {
  auto& u = usage[node];
  u.cpu_milli += pod.spec->cpu_milli;
  u.memory_bytes += pod.spec->memory_bytes;
  u.pods += 1;
}

namespace {
bool counts_for_usage(const Pod& p) {
  return !p.node_name.empty() && p.phase != model::PodPhase::kSucceeded && p.phase != model::PodPhase::kFailed;
}
}  // namespace

NodeUsage usage_of(const std::vector<const Pod*>& pods, const std::string& node) {
  NodeUsage u;
  for (const auto* p : pods) {
    if (!counts_for_usage(*p) || p->node_name.view() != node) continue;
    u.cpu_milli += p->spec->cpu_milli;
    u.memory_bytes += p->spec->memory_bytes;
    u.pods += 1;
  }
  return u;
}

std::map<std::string, NodeUsage> usage_by_node(const std::vector<const Pod*>& pods) {
  std::map<std::string, NodeUsage> out;
  for (const auto* p : pods) {
    if (!counts_for_usage(*p)) continue;
    auto& u = out[p->node_name.str()];
    u.cpu_milli += p->spec->cpu_milli;
    u.memory_bytes += p->spec->memory_bytes;
    u.pods += 1;
  }
  return out;
}

bool tolerates(const std::vector<model::Toleration>& tolerations, const model::Taint& taint) {
  for (const auto& t : tolerations) {
    if (!t.effect.empty() && !(t.effect == taint.effect)) continue;
    if (t.key.empty()) {
      if (t.op == "Exists") return true;  // an empty key with Exists tolerates everything
      continue;
    }
    if (!(t.key == taint.key)) continue;
    if (t.op == "Exists") return true;
    if (t.value == taint.value) return true;  // Equal (the default operator)
  }
  return false;
}

namespace {

bool requirement_matches(const model::LabelSelectorRequirement& r, const model::Labels& labels) {
  const model::IStr* have = model::find_label(labels, r.key.view());
  const bool in = have && std::any_of(r.values.begin(), r.values.end(), [&](const model::IStr& v) { return v == *have; });
  if (r.op == "In") return in;
  if (r.op == "NotIn") return !in;
  if (r.op == "Exists") return have != nullptr;
  if (r.op == "DoesNotExist") return have == nullptr;
  if ((r.op == "Gt" || r.op == "Lt") && have && r.values.size() == 1) {
    try {
      const long a = std::stol(have->str()), b = std::stol(r.values[0].str());
      return r.op == "Gt" ? a > b : a < b;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

// Taints the filter considers: NoSchedule and NoExecute (PreferNoSchedule only scores).
bool untolerated_taint(const model::PodTemplateInfo& spec, const Node& node, std::string* which) {
  for (const auto& t : node.taints) {
    if (t.effect == "PreferNoSchedule") continue;
    if (!tolerates(spec.tolerations, t)) {
      if (which) *which = "{" + t.key.str() + (t.value.empty() ? "" : ": " + t.value.str()) + "}";
      return true;
    }
  }
  return false;
}

// Spread domains count only nodes that carry the key and pass the constraint's policies.
bool eligible_for_spread(const model::TopologySpreadConstraint& c, const model::PodTemplateInfo& spec, const Node& n) {
  if (!model::find_label(n.meta.label_set(), c.topology_key.view())) return false;
  if (c.honor_node_affinity && !matches_node_affinity(spec, n)) return false;
  if (c.honor_node_taints && untolerated_taint(spec, n, nullptr)) return false;
  return true;
}

// The constraint's selector, narrowed by matchLabelKeys with the incoming pod's values.
bool spread_selects(const model::TopologySpreadConstraint& c, const Pod& incoming, const Pod& other) {
  if (!(other.meta.namespace_ == incoming.meta.namespace_)) return false;
  if (!c.selector) return false;  // a nil selector matches nothing
  const auto& labels = other.meta.label_set();
  if (!c.selector->matches(labels)) return false;
  for (const auto& key : c.match_label_keys) {
    const model::IStr* want = model::find_label(incoming.meta.label_set(), key.view());
    if (!want) continue;
    const model::IStr* have = model::find_label(labels, key.view());
    if (!have || !(*have == *want)) return false;
  }
  return true;
}

const std::string* domain_of(const Node& n, const model::IStr& key) {
  const model::IStr* v = model::find_label(n.meta.label_set(), key.view());
  return v ? &v->str() : nullptr;
}

// Default constraints the scheduler adds for scoring when a pod has none (1.32 defaults).
std::vector<model::TopologySpreadConstraint> effective_soft_constraints(const Pod& pod) {
  std::vector<model::TopologySpreadConstraint> out;
  for (const auto& c : pod.spec->spread)
    if (!c.do_not_schedule) out.push_back(c);
  if (!pod.spec->spread.empty() || !pod.meta.controller()) return out;
  // System defaults select the pod's own labels (its controller's selector in the scheduler).
  model::LabelSelector sel;
  sel.match_labels = pod.meta.label_set();
  for (const char* key : {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}) {
    model::TopologySpreadConstraint c;
    c.max_skew = key[0] == 't' ? 5 : 3;
    c.topology_key = model::IStr(key);
    c.do_not_schedule = false;
    c.selector = sel;
    out.push_back(c);
  }
  return out;
}

}  // namespace

bool matches_node_affinity(const model::PodTemplateInfo& spec, const Node& node) {
  const auto& labels = node.meta.label_set();
  for (const auto& [k, v] : spec.node_selector) {
    const model::IStr* have = model::find_label(labels, k.view());
    if (!have || !(*have == v)) return false;
  }
  if (spec.required_node_affinity.empty()) return true;
  for (const auto& term : spec.required_node_affinity) {  // terms are ORed
    bool ok = !term.match_expressions.empty() || !term.match_fields.empty();
    for (const auto& r : term.match_expressions) ok = ok && requirement_matches(r, labels);
    for (const auto& r : term.match_fields) {
      // Only metadata.name is a supported field.
      model::Labels fields{{model::IStr("metadata.name"), model::IStr(node.meta.name)}};
      ok = ok && requirement_matches(r, fields);
    }
    if (ok) return true;
  }
  return false;
}

std::map<std::string, int> spread_counts(const ClusterView& view, const Pod& pod,
                                         const model::TopologySpreadConstraint& c) {
  std::map<std::string, int> counts;
  std::map<std::string, const Node*> by_name;
  for (const auto* n : view.nodes) {
    if (!eligible_for_spread(c, *pod.spec, *n)) continue;
    counts.emplace(*domain_of(*n, c.topology_key), 0);
    by_name.emplace(n->meta.name, n);
  }
  for (const auto* p : view.pods) {
    if (p->node_name.empty() || p->meta.deleted || p == &pod) continue;  // terminating pods are not counted
    if (p->phase == model::PodPhase::kSucceeded || p->phase == model::PodPhase::kFailed) continue;
    auto it = by_name.find(p->node_name.str());
    if (it == by_name.end()) continue;
    if (!spread_selects(c, pod, *p)) continue;
    ++counts[*domain_of(*it->second, c.topology_key)];
  }
  return counts;
}

std::string filter(const ClusterView& view, const Pod& pod, const Node& node) {
  const auto& spec = *pod.spec;
  if (node.meta.deleted) return "node(s) were being deleted";
  if (node.unschedulable) {
    model::Taint t{model::IStr("node.kubernetes.io/unschedulable"), model::IStr(), model::IStr("NoSchedule")};
    if (!tolerates(spec.tolerations, t)) return "node(s) were unschedulable";
  }
  if (!matches_node_affinity(spec, node)) return "node(s) didn't match Pod's node affinity/selector";
  std::string taint;
  if (untolerated_taint(spec, node, &taint)) return "node(s) had untolerated taint " + taint;
  NodeUsage u;
  if (auto it = view.usage.find(node.meta.name); it != view.usage.end()) u = it->second;
  if (node.pods > 0 && u.pods + 1 > node.pods) return "Too many pods";
  if (spec.cpu_milli > 0 && u.cpu_milli + spec.cpu_milli > node.cpu_milli) return "Insufficient cpu";
  if (spec.memory_bytes > 0 && u.memory_bytes + spec.memory_bytes > node.memory_bytes) return "Insufficient memory";
  for (const auto& c : spec.spread) {
    if (!c.do_not_schedule) continue;
    const std::string* domain = domain_of(node, c.topology_key);
    if (!domain) return "node(s) didn't match pod topology spread constraints (missing required label)";
    auto counts = spread_counts(view, pod, c);
    int min_count = INT_MAX;
    for (const auto& [d, n] : counts) min_count = std::min(min_count, n);
    if (counts.empty()) min_count = 0;
    if (c.min_domains && static_cast<int>(counts.size()) < *c.min_domains) min_count = 0;
    const bool self_match = c.selector && c.selector->matches(pod.meta.label_set());
    const int here = counts.count(*domain) ? counts[*domain] : 0;
    if (here + (self_match ? 1 : 0) - min_count > c.max_skew) return "node(s) didn't match pod topology spread constraints";
  }
  return "";
}

Placement schedule(const ClusterView& view, const Pod& pod) {
  std::vector<const Node*> feasible;
  std::map<std::string, int> reasons;
  for (const auto* n : view.nodes) {
    auto why = filter(view, pod, *n);
    if (why.empty()) feasible.push_back(n);
    else ++reasons[why];
  }
  Placement out;
  if (feasible.empty()) {
    out.reason = "0/" + std::to_string(view.nodes.size()) + " nodes are available: ";
    bool first = true;
    for (const auto& [why, count] : reasons) {
      out.reason += (first ? "" : ", ") + std::to_string(count) + " " + why;
      first = false;
    }
    out.reason += ".";
    return out;
  }
  // Score: soft spread (lower resulting skew is better), then least allocated, then name.
  const auto soft = effective_soft_constraints(pod);
  std::vector<std::map<std::string, int>> soft_counts;
  for (const auto& c : soft) soft_counts.push_back(spread_counts(view, pod, c));
  const Node* best = nullptr;
  double best_score = -1e18;
  for (const auto* n : feasible) {
    double score = 0;
    for (size_t i = 0; i < soft.size(); ++i) {
      const std::string* d = domain_of(*n, soft[i].topology_key);
      const int here = d && soft_counts[i].count(*d) ? soft_counts[i][*d] : 0;
      score -= 100.0 * here;
    }
    NodeUsage u;
    if (auto it = view.usage.find(n->meta.name); it != view.usage.end()) u = it->second;
    const double cpu_free = n->cpu_milli > 0 ? 1.0 - static_cast<double>(u.cpu_milli + pod.spec->cpu_milli) / static_cast<double>(n->cpu_milli) : 0;
    const double mem_free = n->memory_bytes > 0 ? 1.0 - static_cast<double>(u.memory_bytes + pod.spec->memory_bytes) / static_cast<double>(n->memory_bytes) : 0;
    score += 10.0 * (cpu_free + mem_free);
    if (!best || score > best_score + 1e-9 || (std::abs(score - best_score) <= 1e-9 && n->meta.name < best->meta.name)) {
      best = n;
      best_score = score;
    }
  }
  out.node = best->meta.name;
  return out;
}

}  // namespace nonevent::planner
