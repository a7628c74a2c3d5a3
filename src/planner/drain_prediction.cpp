#include "planner/drain_prediction.h"

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include "planner/scheduling.h"

namespace nonevent::planner {

bool never_drained(const model::Pod& p) {
  static const model::IStr kPatchLabel(kPatchPodLabel);
  if (p.mirror || model::find_label(p.meta.label_set(), kPatchLabel)) return true;
  const auto* c = p.meta.controller();
  return c && c->kind == "DaemonSet";
}

bool waits_for_node(const model::Pod& p) {
  return p.node_name.empty() && !p.meta.deleted && !p.finished() && !never_drained(p);
}

bool evicted_by_drain(const model::Pod& p) {
  if (p.node_name.empty() || p.meta.deleted) return false;
  if (p.finished()) return false;
  return !never_drained(p);
}

std::vector<Unplaceable> unplaceable_after_drain(const std::vector<const model::Node*>& nodes,
                                                 const std::vector<const model::Pod*>& pods,
                                                 const std::set<std::string>& drained) {
  return predict_drain(nodes, pods, drained).unplaceable;
}

DrainPrediction predict_drain(const std::vector<const model::Node*>& nodes, const std::vector<const model::Pod*>& pods,
                              const std::set<std::string>& drained) {
  DrainPrediction out;
  if (drained.empty()) return out;
  // The drained nodes as the scheduler will see them: cordoned, with the node-lifecycle
  // controller's unschedulable taint (which nodeTaintsPolicy: Honor looks at).
  std::deque<model::Node> cordoned;
  ClusterView view;
  for (const auto* n : nodes) {
    if (!drained.count(n->meta.name)) {
      view.nodes.push_back(n);
      continue;
    }
    auto& c = cordoned.emplace_back(*n);
    if (!c.unschedulable) {
      c.unschedulable = true;
      c.taints.push_back({model::IStr("node.kubernetes.io/unschedulable"), model::IStr(), model::IStr("NoSchedule")});
    }
    view.nodes.push_back(&c);
  }
  using WorkloadKey = std::tuple<std::string_view, std::string_view, std::string_view>;  // namespace, kind, name
  auto workload = [](const model::Pod& p) -> std::optional<WorkloadKey> {
    const auto* c = p.meta.controller();
    if (!c) return std::nullopt;
    return WorkloadKey{p.meta.namespace_.view(), c->kind.view(), c->name.view()};
  };
  std::vector<const model::Pod*> moving, waiting, terminating;
  std::map<WorkloadKey, int> waiting_by_workload;
  for (const auto* p : pods) {
    if (drained.count(p->node_name.str()) && evicted_by_drain(*p)) moving.push_back(p);
    else if (waits_for_node(*p)) {
      waiting.push_back(p);
      if (auto w = workload(*p)) ++waiting_by_workload[*w];
    } else {
      view.pods.push_back(p);
      // Leaving a drained node already (evicted by someone else, or by this drain a moment
      // ago): its controller makes a replacement, which may not exist yet.
      if (drained.count(p->node_name.str()) && p->meta.deleted && !p->finished() && !never_drained(*p) && workload(*p))
        terminating.push_back(p);
    }
  }
  // A terminating pod's replacement not yet among the waiting pods (as many as its workload's
  // terminating pods outnumber its waiting ones) is placed as if evicted now.
  for (const auto* p : terminating)
    if (auto& w = waiting_by_workload[*workload(*p)]; w > 0) --w;
    else moving.push_back(p);
  view.usage = usage_by_node(view.pods);
  // Pods already waiting for a node are ahead of the replacements in the scheduler's queue:
  // they are placed first and take room and spread domains from them. Left out, a workload
  // whose replacement is Pending now (another disruptor evicted it) looked as if it had
  // room for one more (issue 23.1: a window whose preflight had failed then passed it and
  // drained the zone). A waiting pod that finds no place is reported when the drain is the
  // reason (it would find one with the nodes as they are now) or its workload also has pods
  // to move; another workload's pod stuck anyway is not this drain's doing.
  std::set<WorkloadKey> moving_workloads;
  for (const auto* p : moving)
    if (auto w = workload(*p)) moving_workloads.insert(*w);
  std::optional<ClusterView> undrained;  // built only if a waiting pod finds no place
  auto drain_is_why = [&](const model::Pod& p) {
    if (auto w = workload(p); w && moving_workloads.count(*w)) return true;
    if (!undrained) {
      undrained.emplace();
      undrained->nodes = nodes;
      for (const auto* q : pods)
        if (!waits_for_node(*q)) undrained->pods.push_back(q);
      undrained->usage = usage_by_node(undrained->pods);
    }
    return schedule(*undrained, p).node.has_value();
  };
  std::deque<model::Pod> placed;
  for (const auto* p : waiting) {
    auto where = schedule(view, *p);
    if (!where.node) {
      if (drain_is_why(*p)) out.unplaceable.push_back({p, where.reason});
      continue;
    }
    model::Pod bound = *p;
    bound.node_name = model::IStr(*where.node);
    view.bind(bound, *where.node);
    view.pods.push_back(&placed.emplace_back(std::move(bound)));
  }
  // Replacements are placed one after another, each seeing the ones before (as the
  // scheduler's queue would), in a stable order.
  for (const auto* p : moving) {
    model::Pod replacement = *p;
    replacement.node_name = model::IStr();
    replacement.meta.deleted.reset();  // a terminating pod's stands for its replacement
    replacement.phase = model::PodPhase::kPending;
    replacement.ready = false;
    auto where = schedule(view, replacement);
    if (!where.node) {
      out.unplaceable.push_back({p, where.reason});
      continue;
    }
    out.placed.push_back({p, *where.node});
    replacement.node_name = model::IStr(*where.node);
    view.bind(replacement, *where.node);
    view.pods.push_back(&placed.emplace_back(std::move(replacement)));
  }
  return out;
}

}  // namespace nonevent::planner
