// cluster-autoscaler as far as nonevent meets it (1.32: core/scaledown/eligibility, the
// unneeded-node tracker, the drain in scaledown/actuation, and scale-up on unschedulable
// pods). A node group is a pool in a zone (the sim's ASG). Every scan (10 s, --scan-interval):
//  - scale-down: a node is unneeded when it has no pod a drain would move, or when its
//    utilisation (requests over allocatable, the larger of CPU and memory) is under the
//    threshold and every such pod would be placed elsewhere. Unneeded for the whole
//    scaleDownUnneededTime, it is tainted ToBeDeletedByClusterAutoscaler, drained through
//    evictions (PDBs hold it; after 2 minutes still blocked the autoscaler gives up and removes
//    the taint) and deleted with its group shrinking. Cordon does not matter (eligibility.go
//    never reads spec.unschedulable); the annotation scale-down-disabled: "true" does, and a
//    group never goes below its minimum. Empty nodes go in bulk, others one at a time.
//  - scale-up: pods Pending as unschedulable for scaleUpDelay get one node at a time in the
//    smallest group whose nodes they could run on (node selector and affinity, and the zone of
//    their volumes), made from the group's template: the pool's image, not a patched one.
#include <algorithm>
#include <map>
#include <set>

#include "planner/drain_prediction.h"
#include "planner/scheduling.h"
#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

constexpr auto kScanInterval = std::chrono::seconds(10);
constexpr auto kMaxPodEvictionTime = std::chrono::minutes(2);
constexpr const char* kPoolLabel = "nonevent.dev/pool";
constexpr const char* kZoneLabel = "topology.kubernetes.io/zone";

std::string group_of(const value& node) {
  return str(node, {"metadata", "labels", kPoolLabel}) + "/" + str(node, {"metadata", "labels", kZoneLabel});
}

kube::Duration secs(double s) {
  return std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(s));
}

class ClusterAutoscaler final : public SimController {
 public:
  explicit ClusterAutoscaler(ClusterAutoscalerSpec spec) : spec_(spec) {}
  const char* name() const override { return "cluster-autoscaler"; }

  void reconcile(Simulation& sim, const Snapshot& snap) override {
    const auto now = sim.now();
    create_due_nodes(sim, snap, now);
    if (next_scan_ && now < *next_scan_) {
      sim.wake_at(*next_scan_);
      return;
    }
    next_scan_ = now + kScanInterval;
    sim.wake_at(*next_scan_);
    std::map<std::string, int> group_size;  // live nodes, not being deleted
    for (const value& n : snap.nodes())
      if (!terminating(n) && !deleting_.count(json::name(n))) ++group_size[group_of(n)];
    for (const auto& up : upcoming_) ++group_size[up.group];
    continue_deletions(sim, snap, now);
    scale_down(sim, snap, now, group_size);
    if (spec_.scale_up) scale_up(sim, snap, now, group_size);
  }

 private:
  // --- scale-down

  void scale_down(Simulation& sim, const Snapshot& snap, kube::TimePoint now, std::map<std::string, int>& group_size) {
    std::set<std::string> seen;
    ScanView view;  // built once a scan, on the first underused node
    bool non_empty_started = !deleting_.empty();  // one non-empty node at a time
    for (const model::Node* n : snap.cache->node_models()) {
      const value* node = snap.cache->get("/nodes", n->meta.name);
      if (!node || terminating(*node) || deleting_.count(n->meta.name)) continue;
      seen.insert(n->meta.name);
      const bool empty = movable_pods(snap, n->meta.name) == 0;
      if (!eligible(*node, *n) || !(empty || underused_and_movable(snap, *n, view))) {
        unneeded_since_.erase(n->meta.name);
        continue;
      }
      const auto since = unneeded_since_.try_emplace(n->meta.name, now).first->second;
      if (now - since < secs(spec_.scale_down_unneeded_s)) {
        sim.wake_at(since + secs(spec_.scale_down_unneeded_s));
        continue;
      }
      int& size = group_size[group_of(*node)];
      if (size <= spec_.min_nodes_per_group) continue;  // the group is at its minimum
      if (!empty && non_empty_started) continue;
      non_empty_started = non_empty_started || !empty;
      --size;
      sim.patch(object_path("v1", "nodes", "", n->meta.name), taints_with(*node, kToBeDeletedTaint, "NoSchedule", true, now));
      deleting_[n->meta.name] = now;
      unneeded_since_.erase(n->meta.name);
    }
    for (auto it = unneeded_since_.begin(); it != unneeded_since_.end();)
      it = seen.count(it->first) ? std::next(it) : unneeded_since_.erase(it);
  }

  // eligibility.go: not annotated scale-down-disabled, Ready (unready nodes have their own,
  // longer timer this sim leaves out), and not already someone's to delete.
  static bool eligible(const value& node, const model::Node& n) {
    if (str(node, {"metadata", "annotations", kScaleDownDisabled}) == "true") return false;
    if (!n.ready || has_taint(node, kToBeDeletedTaint) || has_taint(node, kKarpenterDisruptedTaint)) return false;
    return true;
  }

  static int movable_pods(const Snapshot& snap, const std::string& node) {
    int count = 0;
    for (const auto& key : snap.cache->pod_keys_on_node(node))
      if (const model::Pod* p = snap.cache->pod_model(key); p && planner::evicted_by_drain(*p)) ++count;
    return count;
  }

  // Every pod, for the scan's placement checks: gathered on first use, once a scan (not once
  // per underused node).
  struct ScanView {
    bool built = false;
    std::vector<const model::Pod*> pods;
  };

  bool underused_and_movable(const Snapshot& snap, const model::Node& n, ScanView& view) const {
    const auto& usage = snap.cache->usage();
    const auto u = usage.find(n.meta.name);
    if (u == usage.end() || n.cpu_milli <= 0 || n.memory_bytes <= 0) return false;
    const double cpu = static_cast<double>(u->second.cpu_milli) / static_cast<double>(n.cpu_milli);
    const double mem = static_cast<double>(u->second.memory_bytes) / static_cast<double>(n.memory_bytes);
    if (std::max(cpu, mem) >= spec_.utilization_threshold) return false;
    if (!view.built) {
      view.built = true;
      for (const value& p : snap.cache->list("/pods"))
        if (const model::Pod* m = snap.cache->pod_of(p)) view.pods.push_back(m);
    }
    std::vector<const model::Node*> nodes;  // not those being deleted (this scan's included)
    for (const model::Node* m : snap.cache->node_models())
      if (!deleting_.count(m->meta.name)) nodes.push_back(m);
    // A bare pod on it would be lost; every other pod it would move must find a place
    // elsewhere (the autoscaler simulates the same).
    for (const auto& key : snap.cache->pod_keys_on_node(n.meta.name))
      if (const model::Pod* m = snap.cache->pod_model(key); m && planner::evicted_by_drain(*m) && m->meta.owners.empty()) return false;
    return planner::unplaceable_after_drain(nodes, view.pods, {n.meta.name}).empty();
  }

  void continue_deletions(Simulation& sim, const Snapshot& snap, kube::TimePoint now) {
    for (auto it = deleting_.begin(); it != deleting_.end();) {
      const value* node = snap.cache->get("/nodes", it->first);
      if (!node || terminating(*node)) {
        it = deleting_.erase(it);
        continue;
      }
      if (evict_node_pods(sim, snap, it->first) > 0) {
        if (now - it->second > kMaxPodEvictionTime) {  // gave up: the node stays, untainted
          sim.patch(object_path("v1", "nodes", "", it->first), taints_with(*node, kToBeDeletedTaint, "", false, now));
          it = deleting_.erase(it);
          continue;
        }
        ++it;
        continue;
      }
      delete_node(sim, snap, *node);
      ++it;  // erased once the cache shows it gone
    }
  }

  // The cloud provider's DeleteNodes: the group shrinks by the node. With Cluster API the
  // provider marks the Machine and scales its MachineDeployment down, so the MachineDeployment
  // deletes exactly that Machine (and the Machine its Node).
  static void delete_node(Simulation& sim, const Snapshot& snap, const value& node) {
    const auto machine = str(node, {"metadata", "annotations", "cluster.x-k8s.io/machine"});
    const auto md = str(node, {"metadata", "annotations", "cluster.x-k8s.io/owner-name"});
    const auto md_ns = str(node, {"metadata", "annotations", "cluster.x-k8s.io/cluster-namespace"});
    if (!machine.empty() && !md.empty()) {
      if (const value* d = snap.cache->get("cluster.x-k8s.io/machinedeployments", md_ns + "/" + md)) {
        const auto api_version = str(*d, {"apiVersion"});
        value mark = value::object();
        mark["metadata"]["annotations"]["cluster.x-k8s.io/delete-machine"] = value::string("cluster-autoscaler");
        sim.patch(object_path(api_version, "machines", md_ns, machine), mark);
        value scale = value::object();
        scale["spec"]["replicas"] = value::number(std::max<int64_t>(0, num(*d, {"spec", "replicas"}, 1) - 1));
        sim.patch(object_path(api_version, "machinedeployments", md_ns, md), scale);
        return;
      }
    }
    sim.remove(object_path("v1", "nodes", "", json::name(node)));
  }

  // --- scale-up

  void scale_up(Simulation& sim, const Snapshot& snap, kube::TimePoint now, std::map<std::string, int>& group_size) {
    std::set<std::string> pending_now;
    const model::Pod* oldest = nullptr;
    kube::TimePoint oldest_at = now;
    for (const value& p : snap.cache->list("/pods")) {
      const model::Pod* m = snap.cache->pod_of(p);
      if (!m || !m->unschedulable || m->meta.deleted || !m->node_name.empty()) continue;
      const std::string key = m->meta.namespace_.str() + "/" + m->meta.name;
      pending_now.insert(key);
      const auto since = pending_since_.try_emplace(key, now).first->second;
      if (since <= oldest_at) oldest = m, oldest_at = since;
    }
    for (auto it = pending_since_.begin(); it != pending_since_.end();)
      it = pending_now.count(it->first) ? std::next(it) : pending_since_.erase(it);
    if (!oldest || !upcoming_.empty()) return;  // one node at a time: the next scan sees its effect
    if (now - oldest_at < secs(spec_.scale_up_delay_s)) {
      sim.wake_at(oldest_at + secs(spec_.scale_up_delay_s));
      return;
    }
    // The smallest group (balance-similar-node-groups) whose template the pod could run on.
    const model::Node* like = nullptr;
    std::string best;
    for (const model::Node* n : snap.cache->node_models()) {
      const value* node = snap.cache->get("/nodes", n->meta.name);
      if (!node || !oldest->spec || !planner::matches_node_affinity(*oldest->spec, *n)) continue;
      bool volumes_allow = true;
      for (const auto& terms : oldest->spec->volume_node_affinity) volumes_allow = volumes_allow && planner::matches_terms(terms, *n);
      if (!volumes_allow) continue;
      const auto g = group_of(*node);
      if (group_size[g] >= spec_.max_nodes_per_group) continue;
      if (!like || group_size[g] < group_size[best] || (group_size[g] == group_size[best] && g < best)) like = n, best = g;
    }
    if (!like) return;
    const value* template_node = snap.cache->get("/nodes", like->meta.name);
    const auto pool = str(*template_node, {"metadata", "labels", kPoolLabel});
    const auto zone = str(*template_node, {"metadata", "labels", kZoneLabel});
    value node = new_node_like(sim, *template_node, pool + "-" + zone + "-ca-" + std::to_string(++serial_));
    // The group's launch template, not whatever the node it was shaped on was patched to.
    if (!sim.api().store().get("/configmaps", "kube-system", "nonevent-sim-provisioner"))
      for (const auto& p : sim.spec().pools)
        if (p.name == pool) node["metadata"]["labels"]["nonevent.dev/image-version"] = value::string(p.image_version);
    // Fresh from the template: none of the shaping node's cordon or taints (new_node_like
    // copies none of its annotations).
    for (const char* k : {"unschedulable", "taints"})
      if (node.at("spec").has_field(k)) node["spec"].erase(k);
    upcoming_.push_back({now + secs(sim.spec().timings.node_provision_s), best, std::move(node)});
    ++group_size[best];
    sim.wake_at(upcoming_.back().due);
  }

  void create_due_nodes(Simulation& sim, const Snapshot&, kube::TimePoint now) {
    for (auto it = upcoming_.begin(); it != upcoming_.end();) {
      if (now < it->due) {
        sim.wake_at(it->due);
        ++it;
        continue;
      }
      sim.create(object_path("v1", "nodes", ""), it->node);
      it = upcoming_.erase(it);
    }
  }

  struct Upcoming {
    kube::TimePoint due;
    std::string group;
    value node;
  };
  ClusterAutoscalerSpec spec_;
  std::optional<kube::TimePoint> next_scan_;
  std::map<std::string, kube::TimePoint> unneeded_since_;  // node → first scan it was unneeded
  std::map<std::string, kube::TimePoint> deleting_;        // node → when it was tainted
  std::map<std::string, kube::TimePoint> pending_since_;   // pod key → first scan it was unschedulable
  std::vector<Upcoming> upcoming_;
  int serial_ = 0;
};

}  // namespace

std::unique_ptr<SimController> make_cluster_autoscaler(const ClusterAutoscalerSpec& spec) {
  return std::make_unique<ClusterAutoscaler>(spec);
}

}  // namespace nonevent::sim
