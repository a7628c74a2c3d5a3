#include "planner/drain_prediction.h"

#include <deque>

#include "planner/scheduling.h"

namespace nonevent::planner {

bool never_drained(const model::Pod& p) {
  static const model::IStr kPatchLabel(kPatchPodLabel);
  if (p.mirror || model::find_label(p.meta.label_set(), kPatchLabel)) return true;
  const auto* c = p.meta.controller();
  return c && c->kind == "DaemonSet";
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
  std::vector<const model::Pod*> moving;
  for (const auto* p : pods) {
    if (drained.count(p->node_name.str()) && evicted_by_drain(*p)) moving.push_back(p);
    else view.pods.push_back(p);
  }
  view.usage = usage_by_node(view.pods);
  // Replacements are placed one after another, each seeing the ones before (as the
  // scheduler's queue would), in a stable order.
  std::deque<model::Pod> placed;
  for (const auto* p : moving) {
    model::Pod replacement = *p;
    replacement.node_name = model::IStr();
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
