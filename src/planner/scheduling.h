#pragma once
// kube-scheduler's placement rules as pure functions over the compact model: resource fit,
// unschedulable nodes, taints and tolerations, node selector and required node affinity,
// and pod topology spread with the scheduler's real semantics (nodeAffinityPolicy default
// Honor, nodeTaintsPolicy default Ignore, minDomains, matchLabelKeys, terminating pods not
// counted) plus the system default spreading for scoring. Used by the embedded cluster's
// scheduler and by the planner's predictions, so both agree on where a pod can go.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/objects.h"

namespace nonevent::planner {

// What is already on each node (requests of the pods bound to it, not terminated).
struct NodeUsage {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t pods = 0;
};

// Bound, non-terminating pods by namespace, kept by a caller that already tracks them (the
// embedded cluster's cache), so a view need not be rebuilt from every pod for each decision.
class CountedPods {
 public:
  virtual ~CountedPods() = default;
  // The counted pods of `ns` that `selector` may select (a superset: callers match).
  virtual std::vector<const model::Pod*> candidates(std::string_view ns, const model::LabelSelector& selector) const = 0;
};

// A snapshot to place pods into. Pointers stay owned by the caller. `nodes` and `pods` are
// only ever appended to after the first schedule() (the lookups below index them as they grow,
// which is what keeps a 150,000-pod cluster schedulable: spread counting looks at the pods of
// one namespace, not at every pod).
struct ClusterView {
  std::vector<const model::Node*> nodes;
  std::vector<const model::Pod*> pods;  // every pod (for spread counting); bound or not
  std::unordered_map<std::string, NodeUsage> usage;  // by node name
  // Optional: usage kept by the caller (the sim's cache); `usage` then holds only the nodes
  // bind() changed, and takes precedence.
  const std::unordered_map<std::string, NodeUsage>* base_usage = nullptr;
  NodeUsage usage_on(const std::string& node) const;
  // Optional: pods counted for spread that are not in `pods` (both are counted).
  const CountedPods* counted = nullptr;
  // kube-scheduler's percentageOfNodesToScore: in a large cluster, filtering stops once this
  // many feasible nodes are found (0: the scheduler's adaptive default), searching from where
  // the previous decision stopped. Predictions (a fresh view) start at the first node.
  int percentage_of_nodes_to_score = 0;
  // Adds a pod's requests to its node (after a placement decision, for the next one).
  void bind(const model::Pod& pod, const std::string& node);
  // Starts the next round of decisions over the same nodes (a scheduler's next cycle):
  // forgets the pods, what bind() added and what was derived from them; keeps what was
  // derived from the nodes alone (lookups by name, the spread domains), where the next
  // search starts, and usage_of_node()'s memo for the nodes bind() did not change. In a
  // 5,000-node cluster, deriving those again for every cycle cost more than deciding.
  void forget_pods();
  // What the caller says of base_usage before the next decision, when it moved: for one node
  // (the sim's scheduler knows the nodes of the pods that changed between its cycles;
  // looking up every other node's usage by name again, hundreds per cycle, was half of its
  // filtering during an evacuation), or for all.
  void usage_changed(std::string_view node);
  void forget_usage() { ++usage_epoch_; }

  // Lookups over `nodes` and `pods`, extended to cover what was appended since the last call.
  const model::Node* node_named(std::string_view name) const;
  // Pods of `pods` bound to a node, not terminating and not finished (what spread counts),
  // by namespace and (interned) label set (`counted` holds the others). A workload's pods
  // share one label set, so a spread selector is matched once per set rather than once per
  // pod: at 150,000 pods a namespace held 7,500, and matching each of them for each of the
  // 50,000 replacements a preflight places was the planner's whole cost.
  using PodsByLabels = std::unordered_map<const model::Labels*, std::vector<const model::Pod*>>;
  const PodsByLabels& counted_pods_in(std::string_view ns) const;

  // Kept between decisions (not part of what the view means): where the next search for
  // feasible nodes starts, and the spread domains every pod without tolerations, selectors
  // or affinity sees, by (topology key, nodeTaintsPolicy Honor).
  mutable size_t next_start_node_ = 0;
  // Pods per spread domain, keyed by the interned domain value (IStr: equal values share one
  // string, so a domain is found by its address, not by comparing names).
  using DomainCounts = std::unordered_map<const std::string*, int>;
  mutable std::map<std::pair<std::string, bool>, DomainCounts> plain_domains_;
  // Where a node is in `nodes`, by name; SIZE_MAX when it is not there.
  size_t node_index(std::string_view name) const;
  // The node at `index`'s usage as this view sees it: usage_on() memoized by position (a
  // placement looks at hundreds of nodes twice; hashing their names each time was a fifth
  // of a preflight).
  NodeUsage usage_of_node(size_t index) const;
  // What the filter reads of the node at `index` before its spread and affinity, side by side
  // for every node (a Node's fields lie on cache lines of their own, and a placement reads
  // them for hundreds of nodes: the first of them was a third of the filter's time). Nodes
  // do not change while in a view (a changed node is a new view).
  struct NodeFit {
    bool deleted = false, unschedulable = false, tainted = false;
    int64_t pods = 0, cpu_milli = 0, memory_bytes = 0;
  };
  const NodeFit& fit_of(size_t index) const;
  // Each node's value of a label key (interned: equal values share one address), by
  // position in `nodes`; null where a node lacks it. Derived once per key from the nodes
  // alone and kept by forget_pods(): filtering a pod's candidates asked every node's labels
  // for the topology key, a search that was a third of the scheduler's time.
  const std::vector<const std::string*>& domains_of(const model::IStr& key) const;

 private:
  void catch_up() const;
  mutable size_t indexed_nodes_ = 0, indexed_pods_ = 0;
  mutable std::unordered_map<std::string_view, size_t> node_index_;
  mutable std::vector<NodeFit> fits_;  // by position, extended by catch_up()
  mutable std::unordered_map<std::string_view, PodsByLabels> pods_by_ns_;
  mutable std::unordered_map<const std::string*, std::vector<const std::string*>> domains_by_key_;
  // usage_of_node()'s memo: an entry counts when its stamp is the current epoch (0 never
  // is), and forget_usage() starts a new epoch rather than clearing thousands of entries.
  mutable std::vector<NodeUsage> usage_memo_;
  mutable std::vector<uint64_t> usage_stamp_;
  uint64_t usage_epoch_ = 1;

};

// Whether a pod holds its requests on a node: bound and not finished (terminating pods still
// do). What resource fit counts, here and in the embedded cluster's running totals.
bool holds_node_resources(const model::Pod& pod);
NodeUsage usage_of(const std::vector<const model::Pod*>& pods, const std::string& node);
std::unordered_map<std::string, NodeUsage> usage_by_node(const std::vector<const model::Pod*>& pods);

bool tolerates(const std::vector<model::Toleration>& tolerations, const model::Taint& taint);
// Required node affinity and nodeSelector (what nodeAffinityPolicy: Honor looks at).
bool matches_node_affinity(const model::PodTemplateInfo& spec, const model::Node& node);
// Whether the node matches any of the terms (ORed), as a required node affinity's terms do.
bool matches_terms(const std::vector<model::NodeSelectorTerm>& terms, const model::Node& node);

// Why a node cannot take a pod, in the scheduler's words; empty when it can.
std::string filter(const ClusterView& view, const model::Pod& pod, const model::Node& node);

struct Placement {
  std::optional<std::string> node;
  // When no node fits: "0/9 nodes are available: 3 node(s) had untolerated taint ..., ..."
  std::string reason;
};
// kube-scheduler's numFeasibleNodesToFind for a cluster of `nodes` (percentage 0: adaptive).
size_t feasible_nodes_to_find(size_t nodes, int percentage);

// Picks the best node (filters, then scores: topology spread skew, then least allocated,
// then name for determinism).
Placement schedule(const ClusterView& view, const model::Pod& pod);

// The counting behind topology spread, exposed for the planner: pods matching constraint
// `c` of `pod` per domain, over the nodes the constraint's policies make eligible.
std::map<std::string, int> spread_counts(const ClusterView& view, const model::Pod& pod,
                                         const model::TopologySpreadConstraint& c);

}  // namespace nonevent::planner
