#include "planner/scheduling.h"

#include <algorithm>
#include <climits>
#include <set>

namespace nonevent::planner {

using model::Node;
using model::Pod;

NodeUsage ClusterView::usage_on(const std::string& node) const {
  if (auto it = usage.find(node); it != usage.end()) return it->second;
  if (base_usage)
    if (auto it = base_usage->find(node); it != base_usage->end()) return it->second;
  return {};
}

void ClusterView::bind(const Pod& pod, const std::string& node) {
  if (!usage.count(node)) usage[node] = usage_on(node);
  auto& u = usage[node];
  u.cpu_milli += pod.spec->cpu_milli;
  u.memory_bytes += pod.spec->memory_bytes;
  u.pods += 1;
  if (const size_t i = node_index(node); i != SIZE_MAX) {
    usage_of_node(i);  // sizes the memo
    usage_memo_[i] = u;
  }
}

void ClusterView::forget_pods() {
  for (const auto& [node, u] : usage) usage_changed(node);  // what bind() assumed
  pods.clear();
  usage.clear();
  pods_by_ns_.clear();
  indexed_pods_ = 0;
}

void ClusterView::usage_changed(std::string_view node) {
  if (const size_t i = node_index(node); i < usage_stamp_.size()) usage_stamp_[i] = 0;
}

NodeUsage ClusterView::usage_of_node(size_t index) const {
  if (usage_memo_.size() < nodes.size()) {
    usage_memo_.resize(nodes.size());
    usage_stamp_.resize(nodes.size(), 0);
  }
  if (usage_stamp_[index] != usage_epoch_) {
    usage_memo_[index] = usage_on(nodes[index]->meta.name);
    usage_stamp_[index] = usage_epoch_;
  }
  return usage_memo_[index];
}

const std::vector<const std::string*>& ClusterView::domains_of(const model::IStr& key) const {
  auto& domains = domains_by_key_[&key.str()];
  for (size_t i = domains.size(); i < nodes.size(); ++i) {
    const model::IStr* v = model::find_label(nodes[i]->meta.label_set(), key);
    domains.push_back(v ? &v->str() : nullptr);
  }
  return domains;
}

bool holds_node_resources(const Pod& p) {
  return !p.node_name.empty() && !p.finished();
}

namespace {
const ClusterView::PodsByLabels kNoPods;
}  // namespace

void ClusterView::catch_up() const {
  for (; indexed_nodes_ < nodes.size(); ++indexed_nodes_) {
    const Node& n = *nodes[indexed_nodes_];
    node_index_.emplace(n.meta.name, indexed_nodes_);
    fits_.push_back({n.meta.deleted.has_value(), n.unschedulable, !n.taints.empty(), n.pods, n.cpu_milli, n.memory_bytes});
  }
  for (; indexed_pods_ < pods.size(); ++indexed_pods_) {
    const Pod* p = pods[indexed_pods_];
    // Terminating pods are not counted by the scheduler's spread plugin.
    if (!holds_node_resources(*p) || p->meta.deleted) continue;
    pods_by_ns_[p->meta.namespace_.view()][&p->meta.label_set()].push_back(p);
  }
}

const ClusterView::NodeFit& ClusterView::fit_of(size_t index) const {
  if (index >= fits_.size()) catch_up();
  return fits_[index];
}

size_t ClusterView::node_index(std::string_view name) const {
  catch_up();
  auto it = node_index_.find(name);
  return it == node_index_.end() ? SIZE_MAX : it->second;
}

const Node* ClusterView::node_named(std::string_view name) const {
  const size_t i = node_index(name);
  return i == SIZE_MAX ? nullptr : nodes[i];
}

const ClusterView::PodsByLabels& ClusterView::counted_pods_in(std::string_view ns) const {
  catch_up();
  auto it = pods_by_ns_.find(ns);
  return it == pods_by_ns_.end() ? kNoPods : it->second;
}

NodeUsage usage_of(const std::vector<const Pod*>& pods, const std::string& node) {
  NodeUsage u;
  for (const auto* p : pods) {
    if (!holds_node_resources(*p) || p->node_name.view() != node) continue;
    u.cpu_milli += p->spec->cpu_milli;
    u.memory_bytes += p->spec->memory_bytes;
    u.pods += 1;
  }
  return u;
}

std::unordered_map<std::string, NodeUsage> usage_by_node(const std::vector<const Pod*>& pods) {
  std::unordered_map<std::string, NodeUsage> out;
  for (const auto* p : pods) {
    if (!holds_node_resources(*p)) continue;
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
  const model::IStr* have = model::find_label(labels, r.key);
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

// Spread domains count only nodes that carry the key (`domain`: the node's value of it) and
// pass the constraint's policies.
bool eligible_for_spread(const model::TopologySpreadConstraint& c, const model::PodTemplateInfo& spec, const Node& n,
                         const std::string* domain) {
  if (!domain) return false;
  if (c.honor_node_affinity && !matches_node_affinity(spec, n)) return false;
  if (c.honor_node_taints && untolerated_taint(spec, n, nullptr)) return false;
  return true;
}

// The constraint's selector, narrowed by matchLabelKeys with the incoming pod's values, over
// the labels of a pod in the incoming pod's namespace.
bool spread_selects(const model::TopologySpreadConstraint& c, const Pod& incoming, const model::Labels& labels) {
  if (!c.selector) return false;  // a nil selector matches nothing
  if (!c.selector->matches(labels)) return false;
  for (const auto& key : c.match_label_keys) {
    const model::IStr* want = model::find_label(incoming.meta.label_set(), key);
    if (!want) continue;
    const model::IStr* have = model::find_label(labels, key);
    if (!have || !(*have == *want)) return false;
  }
  return true;
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

bool matches_terms(const std::vector<model::NodeSelectorTerm>& terms, const Node& node) {
  const auto& labels = node.meta.label_set();
  for (const auto& term : terms) {  // terms are ORed
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

bool matches_node_affinity(const model::PodTemplateInfo& spec, const Node& node) {
  if (spec.node_selector.empty() && spec.required_node_affinity.empty()) return true;  // without touching the node
  const auto& labels = node.meta.label_set();
  for (const auto& [k, v] : spec.node_selector) {
    const model::IStr* have = model::find_label(labels, k);
    if (!have || !(*have == v)) return false;
  }
  if (spec.required_node_affinity.empty()) return true;
  return matches_terms(spec.required_node_affinity, node);
}

namespace {
using DomainCounts = ClusterView::DomainCounts;
DomainCounts count_spread(const ClusterView& view, const Pod& pod, const model::TopologySpreadConstraint& c,
                          bool with_empty_domains);
}  // namespace

std::map<std::string, int> spread_counts(const ClusterView& view, const Pod& pod,
                                         const model::TopologySpreadConstraint& c) {
  std::map<std::string, int> out;
  for (const auto& [domain, n] : count_spread(view, pod, c, true)) out[*domain] = n;
  return out;
}

namespace {

// Scoring needs only the domains that hold matching pods; filtering needs every domain.
DomainCounts count_spread(const ClusterView& view, const Pod& pod, const model::TopologySpreadConstraint& c,
                          bool with_empty_domains) {
  DomainCounts counts;
  // Every eligible domain starts at zero (the minimum of a DoNotSchedule constraint is over
  // them). A pod that neither tolerates nor selects anything sees the same domains as every
  // other such pod: computed once per view.
  const auto& spec = *pod.spec;
  const auto& domains = view.domains_of(c.topology_key);
  auto eligible_domains = [&](DomainCounts& into) {
    for (size_t i = 0; i < view.nodes.size(); ++i)
      if (eligible_for_spread(c, spec, *view.nodes[i], domains[i])) into.emplace(domains[i], 0);
  };
  if (with_empty_domains) {
    const bool plain = spec.tolerations.empty() && spec.node_selector.empty() && spec.required_node_affinity.empty();
    if (plain) {
      auto [it, fresh] = view.plain_domains_.try_emplace({c.topology_key.str(), c.honor_node_taints});
      if (fresh) eligible_domains(it->second);
      counts = it->second;
    } else {
      eligible_domains(counts);
    }
  }
  auto count_selected = [&](const Pod* p) {
    if (p == &pod) return;
    const size_t i = view.node_index(p->node_name.view());
    if (i == SIZE_MAX || !eligible_for_spread(c, spec, *view.nodes[i], domains[i])) return;
    ++counts[domains[i]];
  };
  for (const auto& [labels, same] : view.counted_pods_in(pod.meta.namespace_.view()))
    if (spread_selects(c, pod, *labels))
      for (const auto* p : same) count_selected(p);
  if (view.counted && c.selector)
    for (const auto* p : view.counted->candidates(pod.meta.namespace_.view(), *c.selector))
      if (p->meta.namespace_ == pod.meta.namespace_ && spread_selects(c, pod, p->meta.label_set())) count_selected(p);
  return counts;
}

// The scheduler's PreFilter for one DoNotSchedule constraint: counts once per pod, then
// every node is filtered against them.
struct HardSpread {
  const model::TopologySpreadConstraint* c;
  const std::vector<const std::string*>* domains;  // by node position
  DomainCounts counts;
  int min_count = 0;
  bool self_match = false;
};

std::vector<HardSpread> prefilter_spread(const ClusterView& view, const Pod& pod) {
  std::vector<HardSpread> out;
  for (const auto& c : pod.spec->spread) {
    if (!c.do_not_schedule) continue;
    HardSpread h{&c, &view.domains_of(c.topology_key), count_spread(view, pod, c, true)};
    int min_count = INT_MAX;
    for (const auto& [d, n] : h.counts) min_count = std::min(min_count, n);
    if (h.counts.empty()) min_count = 0;
    if (c.min_domains && static_cast<int>(h.counts.size()) < *c.min_domains) min_count = 0;
    h.min_count = min_count;
    h.self_match = c.selector && c.selector->matches(pod.meta.label_set());
    out.push_back(std::move(h));
  }
  return out;
}

// Whether `node` passes the filters; why not, in the scheduler's words, into `why` when given.
// The reasons are built only when asked for: a placement filters thousands of nodes and needs
// the reasons only when none fits.
bool filter_with(const ClusterView& view, const Pod& pod, size_t index, const std::vector<HardSpread>& spread,
                 std::string* why) {
  const auto& fit = view.fit_of(index);
  auto fail = [&](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  const auto& spec = *pod.spec;
  if (fit.deleted) return fail("node(s) were being deleted");
  if (fit.unschedulable) {
    static const model::Taint kUnschedulable{model::IStr("node.kubernetes.io/unschedulable"), model::IStr(), model::IStr("NoSchedule")};
    if (!tolerates(spec.tolerations, kUnschedulable)) return fail("node(s) were unschedulable");
  }
  // The Node itself only when the pod or the node has something to match.
  const bool affinity = !spec.node_selector.empty() || !spec.required_node_affinity.empty();
  if (affinity || fit.tainted || !spec.volume_node_affinity.empty()) {
    const Node& node = *view.nodes[index];
    if (affinity && !matches_node_affinity(spec, node)) return fail("node(s) didn't match Pod's node affinity/selector");
    std::string taint;
    if (fit.tainted && untolerated_taint(spec, node, why ? &taint : nullptr)) {
      if (why) *why = "node(s) had untolerated taint " + taint;
      return false;
    }
    for (const auto& volume_terms : spec.volume_node_affinity)
      if (!matches_terms(volume_terms, node)) return fail("node(s) had volume node affinity conflict");
  }
  const NodeUsage u = view.usage_of_node(index);
  if (fit.pods > 0 && u.pods + 1 > fit.pods) return fail("Too many pods");
  if (spec.cpu_milli > 0 && u.cpu_milli + spec.cpu_milli > fit.cpu_milli) return fail("Insufficient cpu");
  if (spec.memory_bytes > 0 && u.memory_bytes + spec.memory_bytes > fit.memory_bytes) return fail("Insufficient memory");
  for (const auto& h : spread) {
    const std::string* domain = (*h.domains)[index];
    if (!domain) return fail("node(s) didn't match pod topology spread constraints (missing required label)");
    auto it = h.counts.find(domain);
    const int here = it == h.counts.end() ? 0 : it->second;
    if (here + (h.self_match ? 1 : 0) - h.min_count > h.c->max_skew) return fail("node(s) didn't match pod topology spread constraints");
  }
  return true;
}

}  // namespace

std::string filter(const ClusterView& view, const Pod& pod, const Node& node) {
  const auto it = std::find(view.nodes.begin(), view.nodes.end(), &node);
  if (it == view.nodes.end()) return "node(s) not in the view";
  std::string why;
  filter_with(view, pod, static_cast<size_t>(it - view.nodes.begin()), prefilter_spread(view, pod), &why);
  return why;
}

// kube-scheduler's numFeasibleNodesToFind: every node below 100; else an adaptive share
// (50% minus 1% per 125 nodes, at least 5%) of at least 100 nodes.
size_t feasible_nodes_to_find(size_t nodes, int percentage) {
  if (nodes < 100 || percentage >= 100) return nodes;
  int pct = percentage;
  if (pct <= 0) pct = std::max(5, 50 - static_cast<int>(nodes / 125));
  return std::max<size_t>(100, nodes * static_cast<size_t>(pct) / 100);
}

Placement schedule(const ClusterView& view, const Pod& pod) {
  std::vector<size_t> feasible;  // node positions
  std::map<std::string, int> reasons;
  const auto spread = prefilter_spread(view, pod);
  const size_t n_nodes = view.nodes.size();
  const size_t want = feasible_nodes_to_find(n_nodes, view.percentage_of_nodes_to_score);
  feasible.reserve(want);
  const size_t start = n_nodes ? view.next_start_node_ % n_nodes : 0;
  size_t looked = 0;
  for (; looked < n_nodes && feasible.size() < want; ++looked) {
    const size_t i = (start + looked) % n_nodes;
    if (filter_with(view, pod, i, spread, nullptr)) feasible.push_back(i);
  }
  view.next_start_node_ = start + looked;
  Placement out;
  if (feasible.empty()) {
    // No node fits, so every node was looked at: once more, for the reasons.
    for (size_t i = 0; i < n_nodes; ++i) {
      std::string why;
      if (!filter_with(view, pod, i, spread, &why)) ++reasons[why];
    }
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
  std::vector<DomainCounts> soft_counts;
  std::vector<const std::vector<const std::string*>*> soft_domains;
  for (const auto& c : soft) {
    soft_counts.push_back(count_spread(view, pod, c, false));
    soft_domains.push_back(&view.domains_of(c.topology_key));
  }
  const Node* best = nullptr;
  double best_score = -1e18;
  for (const size_t at : feasible) {
    const Node* n = view.nodes[at];
    double score = 0;
    for (size_t i = 0; i < soft.size(); ++i) {
      const std::string* d = (*soft_domains[i])[at];
      const auto it = d ? soft_counts[i].find(d) : soft_counts[i].end();
      score -= 100.0 * (it == soft_counts[i].end() ? 0 : it->second);
    }
    const NodeUsage u = view.usage_of_node(at);
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
