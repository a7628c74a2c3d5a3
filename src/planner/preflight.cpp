#include "planner/preflight.h"

#include <algorithm>
#include <cmath>

#include "planner/drain_prediction.h"

namespace nonevent::planner {

std::string workload_of(const model::Pod& pod) {
  const auto* c = pod.meta.controller();
  if (!c) return "Pod/" + pod.meta.name;
  std::string name = c->name.str();
  if (c->kind == "ReplicaSet") {
    // A Deployment's ReplicaSet is "<deployment>-<pod-template-hash>".
    if (const auto* h = model::find_label(pod.meta.label_set(), "pod-template-hash")) {
      const std::string suffix = "-" + h->str();
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        return "Deployment/" + name.substr(0, name.size() - suffix.size());
    }
  }
  return c->kind.str() + "/" + name;
}

std::string policy_blocker(const model::Pod& pod, const PreflightPolicy& policy, std::string* message) {
  std::string why, msg;
  if (pod.do_not_evict) why = "DoNotEvict", msg = "annotated nonevent.dev/do-not-evict: \"true\"";
  else if (!pod.meta.controller() && !policy.evict_unmanaged_pods)
    why = "UnmanagedPod", msg = "a bare pod: nothing would recreate it (drain.evictUnmanagedPods is false)";
  else if (pod.volumes && pod.volumes->has_empty_dir && !policy.delete_empty_dir_data)
    why = "EmptyDir", msg = "its emptyDir data would be lost (drain.deleteEmptyDirData is false)";
  if (message) *message = msg;
  return why;
}

namespace {

std::string zone_of(const model::Node& n, const std::string& zone_label) {
  const model::IStr* z = model::find_label(n.meta.label_set(), zone_label);
  return z ? z->str() : "";
}

// The zone spread constraint that makes a cordoned zone a trap: DoNotSchedule over zones,
// counting tainted (cordoned) nodes' domains (nodeTaintsPolicy Ignore, the default).
const model::TopologySpreadConstraint* trap_constraint(const model::Pod& pod, const std::string& zone_label) {
  if (!pod.spec) return nullptr;
  for (const auto& c : pod.spec->spread)
    if (c.topology_key == zone_label && c.do_not_schedule && !c.honor_node_taints) return &c;
  return nullptr;
}

}  // namespace

Preflight preflight(const std::vector<const model::Node*>& nodes, const std::vector<const model::Pod*>& pods,
                    const std::vector<const model::PodDisruptionBudget*>& pdbs, const std::set<std::string>& drained,
                    const std::string& zone_label, const PreflightPolicy& policy) {
  Preflight out;
  std::map<std::string, std::string> node_zone;
  std::set<std::string> open_zones;
  for (const auto* n : nodes) {
    node_zone[n->meta.name] = zone_of(*n, zone_label);
    if (drained.count(n->meta.name)) ++out.nodes;
    else if (!n->unschedulable && n->ready && !node_zone[n->meta.name].empty()) open_zones.insert(node_zone[n->meta.name]);
  }
  auto block = [&](const std::string& kind, const std::string& ns, const std::string& name, const std::string& reason,
                   const std::string& message) { out.blockers.push_back({kind, ns, name, reason, message}); };

  // Pods that must move, and those the policy will not move.
  std::vector<const model::Pod*> moving;
  for (const auto* p : pods) {
    if (!drained.count(p->node_name.str()) || !evicted_by_drain(*p)) continue;
    const std::string ns(p->meta.namespace_.view());
    std::string message;
    if (auto why = policy_blocker(*p, policy, &message); !why.empty()) block("Pod", ns, p->meta.name, why, message);
    if (p->volumes && !p->volumes->claims.empty())
      block("Pod", ns, p->meta.name, "ZonalVolume",
            "mounts PersistentVolumeClaim " + p->volumes->claims.front().str() +
                ": if its volume is zonal (most cloud disks are), the pod can only start again in its zone");
    moving.push_back(p);
  }
  out.pods_to_evict = static_cast<int>(moving.size());

  // PDBs: already at zero, or binding (more pods to move than they allow at once).
  // A workload's pods share one (interned) label set: count the moving pods per namespace and
  // label set once, so each PDB matches its selector against a namespace's few label sets
  // rather than against every moving pod (5,000 PDBs x 50,000 pods at the 5,000-node scale).
  std::map<std::string, std::map<const model::Labels*, int>> moving_by_labels;  // ns → label set → pods
  for (const auto* p : moving) ++moving_by_labels[std::string(p->meta.namespace_.view())][&p->meta.label_set()];
  double rounds = moving.empty() ? 0 : 1;
  for (const auto* pdb : pdbs) {
    if (!pdb->selector) continue;
    int n = 0;
    if (auto in_ns = moving_by_labels.find(std::string(pdb->meta.namespace_.view())); in_ns != moving_by_labels.end())
      for (const auto& [labels, count] : in_ns->second)
        if (pdb->selector->matches(*labels)) n += count;
    if (n == 0) continue;
    const std::string ns(pdb->meta.namespace_.view());
    if (pdb->disruptions_allowed <= 0 && policy.rollout_when_blocked) {
      // Only what a Deployment (through its ReplicaSet) owns can be moved by it.
      int by_deployment = 0;
      for (const auto* p : moving)
        if (p->meta.namespace_.view() == ns && pdb->selector->matches(p->meta.label_set()) && p->meta.controller() &&
            p->meta.controller()->kind == "ReplicaSet")
          ++by_deployment;
      if (by_deployment == n) {
        out.moved_by_deployment.push_back(ns + "/" + pdb->meta.name + ": " + std::to_string(n) +
                                          " pod(s) moved by their Deployment (drain.rollout: a rollout, or one replica more and back)");
        continue;
      }
    }
    if (pdb->disruptions_allowed <= 0) {
      block("PodDisruptionBudget", ns, pdb->meta.name, "PDBAtZero",
            "allows no disruption now (" + std::to_string(pdb->current_healthy) + " healthy, " +
                std::to_string(pdb->desired_healthy) + " desired): " + std::to_string(n) + " pod(s) would wait");
      continue;
    }
    if (n > pdb->disruptions_allowed) {
      out.binding_pdbs.push_back(ns + "/" + pdb->meta.name + ": " + std::to_string(n) + " pods to move, " +
                                 std::to_string(pdb->disruptions_allowed) + " at a time");
      rounds = std::max(rounds, std::ceil(static_cast<double>(n) / pdb->disruptions_allowed));
    }
  }
  out.lower_bound_seconds = rounds * (policy.pod_start_seconds + policy.pod_ready_seconds);

  // Where replacements would go (the scheduler's rules), and who would stay Pending.
  const auto prediction = predict_drain(nodes, pods, drained);
  std::set<std::string> trap_reported;
  for (const auto& u : prediction.unplaceable) {
    const auto& p = *u.pod;
    const std::string ns(p.meta.namespace_.view());
    if (const auto* c = trap_constraint(p, zone_label); c && u.reason.find("topology spread") != std::string::npos) {
      const std::string w = workload_of(p);
      if (trap_reported.insert(ns + "/" + w).second)
        block("Workload", ns, w, "SpreadTrap",
              "topologySpreadConstraints (maxSkew " + std::to_string(c->max_skew) +
                  ", DoNotSchedule) count the cordoned zone as a domain (nodeTaintsPolicy defaults to Ignore), so its "
                  "replacements stay Pending; fix: set nodeTaintsPolicy: Honor on the constraint");
      continue;
    }
    block("Pod", ns, p.meta.name, u.reason.find("Insufficient") != std::string::npos ? "Capacity" : "Unschedulable",
          (p.node_name.empty() ? "already Pending, and would stay so: " : "its replacement would stay Pending: ") + u.reason);
  }

  // Spread per workload, before and after.
  std::map<std::string, WorkloadSpread> spread;
  auto entry = [&](const model::Pod& p) -> WorkloadSpread& {
    const std::string ns(p.meta.namespace_.view());
    auto& w = spread[ns + "/" + workload_of(p)];
    w.ns = ns;
    w.workload = workload_of(p);
    if (p.spec)
      for (const auto& c : p.spec->spread)
        if (c.topology_key == zone_label) w.max_skew = c.max_skew;
    return w;
  };
  for (const auto* p : pods) {
    if (p->node_name.empty() || p->meta.deleted || p->finished()) continue;
    const auto* c = p->meta.controller();
    if (c && c->kind == "DaemonSet") continue;
    auto& w = entry(*p);
    const auto& z = node_zone[p->node_name.str()];
    ++w.before[z];
    if (!drained.count(p->node_name.str())) ++w.after[z];
  }
  for (const auto& pl : prediction.placed)
    if (pl.pod->meta.controller()) ++entry(*pl.pod).after[node_zone[pl.node]];  // a bare pod is not recreated
  for (const auto& u : prediction.unplaceable) ++entry(*u.pod).pending_after;
  for (auto& [key, w] : spread) {
    int lo = INT32_MAX, hi = 0;
    for (const auto& z : open_zones) {
      const int k = w.after.count(z) ? w.after.at(z) : 0;
      lo = std::min(lo, k);
      hi = std::max(hi, k);
    }
    w.skew_after = open_zones.empty() ? 0 : hi - lo;
    out.workloads.push_back(std::move(w));
  }
  return out;
}

}  // namespace nonevent::planner
