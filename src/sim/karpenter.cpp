// Karpenter's consolidation of empty nodes (disruption controller, "Empty" method; v1): a node
// with no pod a drain would move, for the NodePool's consolidateAfter, is disrupted: tainted
// karpenter.sh/disrupted:NoSchedule, then its NodeClaim terminated (here: the Node deleted,
// not replaced). A node annotated karpenter.sh/do-not-disrupt: "true", or running a pod so
// annotated, is never chosen. At most 10% of the nodes are disrupted at once (the default
// NodePool disruption budget). Karpenter's provisioning is left out: the autoscaler's
// scale-up stands for "capacity appears when pods are Pending".
#include <map>

#include "planner/drain_prediction.h"
#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

class Karpenter final : public SimController {
 public:
  explicit Karpenter(KarpenterSpec spec) : spec_(spec) {}
  const char* name() const override { return "karpenter"; }

  void reconcile(Simulation& sim, const Snapshot& snap) override {
    const auto now = sim.now();
    const auto after = std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(spec_.consolidate_after_s));
    int nodes = 0, disrupting = 0;
    for (const value& n : snap.nodes()) {
      ++nodes;
      if (has_taint(n, kKarpenterDisruptedTaint)) ++disrupting;
    }
    const int budget = std::max(1, nodes / 10);
    std::map<std::string, kube::TimePoint> still_empty;
    for (const value& n : snap.nodes()) {
      const auto node = json::name(n);
      if (terminating(n)) continue;
      if (has_taint(n, kKarpenterDisruptedTaint)) {
        // Disrupted: its NodeClaim is terminated once nothing but DaemonSet pods remain.
        if (evict_node_pods(sim, snap, node) == 0) sim.remove(object_path("v1", "nodes", "", node));
        continue;
      }
      if (!empty(snap, node) || do_not_disrupt(snap, n)) continue;
      const auto since = empty_since_.count(node) ? empty_since_.at(node) : now;
      still_empty[node] = since;
      if (now - since < after) {
        sim.wake_at(since + after);
        continue;
      }
      if (disrupting >= budget) continue;
      ++disrupting;
      sim.patch(object_path("v1", "nodes", "", node), taints_with(n, kKarpenterDisruptedTaint, "NoSchedule", true, now));
      still_empty.erase(node);
    }
    empty_since_ = std::move(still_empty);
  }

 private:
  static bool empty(const Snapshot& snap, const std::string& node) {
    for (const auto& key : snap.cache->pod_keys_on_node(node))
      if (const model::Pod* p = snap.cache->pod_model(key); p && planner::evicted_by_drain(*p)) return false;
    return true;
  }
  static bool do_not_disrupt(const Snapshot& snap, const value& node) {
    if (str(node, {"metadata", "annotations", kDoNotDisrupt}) == "true") return true;
    for (const value& p : snap.cache->pods_on_node(json::name(node)))
      if (str(p, {"metadata", "annotations", kDoNotDisrupt}) == "true") return true;
    return false;
  }

  KarpenterSpec spec_;
  std::map<std::string, kube::TimePoint> empty_since_;
};

}  // namespace

std::unique_ptr<SimController> make_karpenter(const KarpenterSpec& spec) { return std::make_unique<Karpenter>(spec); }

}  // namespace nonevent::sim
