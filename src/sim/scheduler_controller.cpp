// The sim's kube-scheduler: binds pending pods with planner/scheduling's rules, one at a
// time against an up-to-date view, and reports Unschedulable with the scheduler's message.
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>

#include "model/json_write.h"
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
    // A view made before a node changed points at node models the cache has since retired
    // (and may have freed): it is dropped before anything reads it, keeping only where the
    // search for feasible nodes stopped. (ASan found the memo below looking names up in a
    // freed node's model.)
    if (view_ && view_nodes_version_ != snap.cache->nodes_version()) {
      next_start_node_ = view_->next_start_node_;
      view_.reset();
    }
    // The view's memo of each node's usage stands where no pod changed (a pod's usage is
    // filed under its node, and a changed record names the node before and after).
    if (view_) {
      const auto& pods = snap.cache->changed("/pods");
      if (pods.size() > view_->nodes.size()) {
        view_->forget_usage();
      } else {
        for (const auto& ch : pods) {
          if (!ch.node.empty()) view_->usage_changed(ch.node);
          if (!ch.previous_node.empty()) view_->usage_changed(ch.previous_node);
        }
      }
    }
    // The queue: pods waiting for a node. New ones are tried at once; those that did not fit
    // are tried again when the cluster changes in a way that can make room (a node changed,
    // a pod went away), as the real scheduler moves its unschedulable pods back on events.
    std::set<std::string> attempt;
    bool room_may_have_changed = !snap.cache->changed("/nodes").empty();
    for (const auto& ch : snap.cache->changed("/pods")) {
      if (!ch.object || (ch.pod ? ch.pod->meta.deleted.has_value() : terminating(ch.last()))) room_may_have_changed = true;
      if (ch.object && (ch.pod ? waiting(*ch.pod) : waiting(ch.last()))) {
        waiting_.insert(ch.key);
        attempt.insert(ch.key);
      } else {
        waiting_.erase(ch.key);
      }
    }
    if (room_may_have_changed) attempt = waiting_;
    if (attempt.empty()) return;
    // One view while the nodes stay as they are: what it derives from them (lookups by name,
    // spread domains) is kept from pass to pass; the pods it knows are forgotten after each.
    if (!view_) {
      view_.emplace();
      view_->nodes = snap.cache->node_models();
      // kube-scheduler resumes its search for feasible nodes where the last one stopped, so
      // nodes at the front of the list (a cordoned zone, say) are not filtered again for
      // every pod.
      view_->next_start_node_ = next_start_node_;
      view_nodes_version_ = snap.cache->nodes_version();
    }
    planner::ClusterView& view = *view_;
    view.base_usage = &snap.cache->usage();
    view.counted = snap.cache;  // bound pods; the ones bound below are added to view.pods
    std::deque<model::Pod> placed;
    // Bindings are written as kube-scheduler writes them: after the pod is assumed on its node
    // (the next decisions already count it there), without waiting, a few at a time by
    // whichever of the pass's threads is free. A pod whose binding fails stays waiting (it
    // did not change, so the next pass still finds it unbound).
    std::vector<std::pair<std::string, std::string>> bindings;
    auto write_bindings = [&] {
      if (bindings.empty()) return;
      sim.defer([&sim, batch = std::move(bindings)] {
        for (const auto& [path, body] : batch) sim.request("POST", path, body);
      });
      bindings.clear();
    };
    for (const auto& key : attempt) {
      const model::Pod* pod = snap.cache->pod_model(key);
      if (!pod) continue;
      const std::string pod_ns = pod->meta.namespace_.str(), pod_name = pod->meta.name;
      // Volumes: the node affinity of the PersistentVolumes its claims are bound to.
      std::optional<model::Pod> with_volumes;
      planner::Placement decision;
      if (pod->volumes && !pod->volumes->claims.empty()) {
        std::string missing;
        with_volumes = *pod;
        auto spec = std::make_shared<model::PodTemplateInfo>(*pod->spec);
        for (const auto& claim : pod->volumes->claims) {
          const value* pvc = snap.cache->get("/persistentvolumeclaims", pod_ns + "/" + claim.str());
          if (!pvc) {
            missing = "persistentvolumeclaim \"" + claim.str() + "\" not found";
            break;
          }
          const value* pv = snap.cache->get("/persistentvolumes", str(*pvc, {"spec", "volumeName"}));
          if (!pv) continue;  // not bound yet: bound where the pod lands (WaitForFirstConsumer)
          if (const value* terms = at(*pv, {"spec", "nodeAffinity", "required", "nodeSelectorTerms"}); terms && terms->is_array())
            spec->volume_node_affinity.push_back(node_selector_terms(*terms));
        }
        with_volumes->spec = spec;
        pod = &*with_volumes;
        if (!missing.empty()) decision.reason = missing;
      }
      if (decision.reason.empty()) decision = planner::schedule(view, *pod);
      if (decision.node) {
        // pods/binding, as kube-scheduler binds: spec.nodeName and PodScheduled in one write,
        // conditional on the pod this decision was made for.
        value binding = value::object();
        binding["apiVersion"] = value::string("v1");
        binding["kind"] = value::string("Binding");
        binding["metadata"]["name"] = value::string(pod_name);
        binding["metadata"]["uid"] = value::string(std::string(pod->meta.uid.view()));
        binding["target"]["kind"] = value::string("Node");
        binding["target"]["name"] = value::string(*decision.node);
        bindings.emplace_back(object_path("v1", "pods", pod_ns, pod_name) + "/binding", model::to_json(binding));
        if (bindings.size() == 32) write_bindings();
        auto& bound = placed.emplace_back(*pod);
        bound.node_name = model::IStr(*decision.node);
        view.bind(bound, *decision.node);
        view.pods.push_back(&bound);  // the unbound original stays, counted by nothing
      } else {
        const value* pj = snap.cache->get("/pods", key);  // the DOM only to write a condition
        if (!pj) continue;
        value st = value::object();
        st["conditions"] = conditions_with(*pj, "PodScheduled", "False", "Unschedulable", decision.reason,
                                          str(*pj, {"metadata", "creationTimestamp"}));
        const value* cur = at(*pj, {"status", "conditions"});
        if (cur && cur->serialize() == st.at("conditions").serialize()) continue;
        value patch = value::object();
        patch["status"] = st;
        sim.patch(object_path("v1", "pods", pod_ns, pod_name) + "/status", patch);
      }
    }
    write_bindings();
    view.forget_pods();  // they are in the cache from the next pass on; `placed` ends here
  }

 private:
  static std::vector<model::NodeSelectorTerm> node_selector_terms(const value& terms) {
    std::vector<model::NodeSelectorTerm> out;
    auto requirements = [](const value* list) {
      std::vector<model::LabelSelectorRequirement> rs;
      if (!list || !list->is_array()) return rs;
      for (const auto& r : list->as_array()) {
        model::LabelSelectorRequirement req;
        req.key = model::IStr(str(r, {"key"}));
        req.op = model::IStr(str(r, {"operator"}));
        if (const value* vs = at(r, {"values"}); vs && vs->is_array())
          for (const auto& v : vs->as_array())
            if (v.is_string()) req.values.push_back(model::IStr(v.as_string()));
        rs.push_back(std::move(req));
      }
      return rs;
    };
    for (const auto& t : terms.as_array())
      out.push_back({requirements(at(t, {"matchExpressions"})), requirements(at(t, {"matchFields"}))});
    return out;
  }
  static bool waiting(const model::Pod& p) {
    const std::string_view scheduler = p.spec ? p.spec->scheduler_name.view() : std::string_view();
    return p.node_name.empty() && !p.meta.deleted && (scheduler.empty() || scheduler == "default-scheduler") &&
           p.phase == model::PodPhase::kPending;
  }
  static bool waiting(const value& p) {
    return str(p, {"spec", "nodeName"}).empty() && !terminating(p) &&
           str(p, {"spec", "schedulerName"}, "default-scheduler") == "default-scheduler" &&
           str(p, {"status", "phase"}, "Pending") == "Pending";
  }
  std::set<std::string> waiting_;  // pod keys
  std::optional<planner::ClusterView> view_;  // over the nodes of nodes_version()
  uint64_t view_nodes_version_ = 0;
  size_t next_start_node_ = 0;  // where the last view's search stopped, for the next view
};

}  // namespace

std::unique_ptr<SimController> make_scheduler() { return std::make_unique<Scheduler>(); }

}  // namespace nonevent::sim
