// The sim's kube-scheduler: binds pending pods with planner/scheduling's rules, one at a
// time against an up-to-date view, and reports Unschedulable with the scheduler's message.
#include "model/codecs.h"
#include "planner/scheduling.h"
#include "sim/controllers.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

class Scheduler final : public SimController {
 public:
  const char* name() const override { return "scheduler"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    std::vector<std::shared_ptr<const model::Node>> nodes;
    std::vector<std::shared_ptr<const model::Pod>> pods;
    std::vector<const value*> pending;
    for (const auto& n : snap.nodes) {
      auto d = model::CodecFor<model::Node>::decode(n.serialize());
      if (d.ok()) nodes.push_back(d.value());
    }
    for (const auto& p : snap.pods) {
      auto d = model::CodecFor<model::Pod>::decode(p.serialize());
      if (!d.ok()) continue;
      pods.push_back(d.value());
      if (str(p, {"spec", "nodeName"}).empty() && !terminating(p) &&
          str(p, {"spec", "schedulerName"}, "default-scheduler") == "default-scheduler" &&
          str(p, {"status", "phase"}, "Pending") == "Pending")
        pending.push_back(&p);
    }
    if (pending.empty()) return;
    planner::ClusterView view;
    for (auto& n : nodes)
      if (!n->meta.deleted) view.nodes.push_back(n.get());
    std::map<std::string, std::shared_ptr<model::Pod>> placed;  // bound in this pass
    for (auto& p : pods) view.pods.push_back(p.get());
    view.usage = planner::usage_by_node(view.pods);
    for (const auto* pj : pending) {
      const auto key = ns(*pj) + "/" + json::name(*pj);
      const model::Pod* pod = nullptr;
      for (auto& p : pods)
        if (p->meta.name == json::name(*pj) && p->meta.namespace_.view() == ns(*pj)) pod = p.get();
      if (!pod) continue;
      auto decision = planner::schedule(view, *pod);
      if (decision.node) {
        value patch = value::object();
        patch["spec"]["nodeName"] = value::string(*decision.node);
        patch["status"]["conditions"] = conditions_with(*pj, "True", "", "");
        // Binding is a write to spec.nodeName and the PodScheduled condition.
        const auto path = object_path("v1", "pods", ns(*pj), json::name(*pj));
        if (sim.patch(path, patch) && sim.patch(path + "/status", status_only(patch))) {
          auto bound = std::make_shared<model::Pod>(*pod);
          bound->node_name = model::IStr(*decision.node);
          view.bind(*bound, *decision.node);
          for (auto& vp : view.pods)
            if (vp == pod) vp = bound.get();
          placed[key] = bound;
        }
      } else {
        value st = value::object();
        st["conditions"] = conditions_with(*pj, "False", "Unschedulable", decision.reason);
        const value* cur = at(*pj, {"status", "conditions"});
        if (cur && cur->serialize() == st.at("conditions").serialize()) continue;
        value patch = value::object();
        patch["status"] = st;
        sim.patch(object_path("v1", "pods", ns(*pj), json::name(*pj)) + "/status", patch);
      }
    }
  }

 private:
  static value status_only(const value& patch) {
    value p = value::object();
    p["status"] = patch.at("status");
    return p;
  }
  // The pod's conditions with PodScheduled set (keeping its transition time when unchanged).
  static value conditions_with(const value& pod, const std::string& status, const std::string& reason,
                               const std::string& message) {
    value out = value::array();
    size_t i = 0;
    if (const value* cs = at(pod, {"status", "conditions"}); cs && cs->is_array())
      for (const auto& c : cs->as_array())
        if (str(c, {"type"}) != "PodScheduled") out[i++] = c;
    value c = value::object();
    c["type"] = value::string("PodScheduled");
    c["status"] = value::string(status);
    if (!reason.empty()) c["reason"] = value::string(reason);
    if (!message.empty()) c["message"] = value::string(message);
    c["lastProbeTime"] = value::null();
    std::string since = str(pod, {"metadata", "creationTimestamp"});
    if (const value* cs = at(pod, {"status", "conditions"}); cs && cs->is_array())
      for (const auto& old : cs->as_array())
        if (str(old, {"type"}) == "PodScheduled" && str(old, {"status"}) == status) since = str(old, {"lastTransitionTime"}, since);
    c["lastTransitionTime"] = value::string(since);
    out[i] = c;
    return out;
  }
};

}  // namespace

std::unique_ptr<SimController> make_scheduler() { return std::make_unique<Scheduler>(); }

}  // namespace nonevent::sim
