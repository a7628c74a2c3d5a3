// ReplicaSet (and ReplicationController), StatefulSet, DaemonSet and Job controllers: enough
// of kube-controller-manager's behaviour for drains and rollouts to look real (replacements
// are created when pods go; statuses count ready replicas). Deployments roll out in
// deployment_controller.cpp.
#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>

#include "sim/controllers.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

value pod_from_template(const value& owner, const std::string& pod_name, kube::TimePoint now) {
  value pod = value::object();
  pod["apiVersion"] = value::string("v1");
  pod["kind"] = value::string("Pod");
  const value* tmpl = at(owner, {"spec", "template"});
  value meta = tmpl && tmpl->has_field("metadata") ? tmpl->at("metadata") : value::object();
  meta["name"] = value::string(pod_name);
  meta["namespace"] = value::string(ns(owner));
  meta["ownerReferences"][0] = owner_ref(owner);
  meta["creationTimestamp"] = value::string(now_text(now));
  pod["metadata"] = std::move(meta);
  const value* spec = tmpl ? at(*tmpl, {"spec"}) : nullptr;
  pod["spec"] = spec ? *spec : value::object();  // the one copy the pod needs of its template
  pod["status"]["phase"] = value::string("Pending");
  return pod;
}

std::string template_hash(const value& tmpl) {
  const auto text = tmpl.serialize();
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < 10; ++i) {
    s.push_back(alphabet[h % 27]);
    h /= 27;
  }
  return s;
}

namespace {

std::string suffix(std::mt19937_64& rng) {
  static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(alphabet[rng() % 27]);
  return s;
}

// Creates `owner`'s pod named `base` and a random suffix, shaped by `adjust` (a DaemonSet's
// node affinity, a Job's label). A name already taken is tried again with another suffix, as
// kube-controller-manager's next sync would: a cluster loaded from a snapshot of a simulation
// with the same seed holds the very names this one draws first, and a pod whose create failed
// was never created at all (nothing else wakes its owner).
void create_pod(Simulation& sim, const value& owner, const std::string& base, const std::function<void(value&)>& adjust = {}) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    value pod = pod_from_template(owner, base + suffix(sim.rng()), sim.now());
    if (adjust) adjust(pod);
    if (sim.request_dom("POST", object_path("v1", "pods", ns(owner)), std::move(pod)) != 409) return;
  }
}

std::vector<const value*> owned_pods(const Snapshot& snap, const value& owner) {
  return snap.pods_owned_by(uid(owner)).items;
}

void set_status(Simulation& sim, const value& obj, const std::string& resource_path, value status) {
  sim.set_status(resource_path, obj, std::move(status));
}

// Scales the pods a ReplicaSet owns to `want`: creates with generated names, deletes in
// kube-controller-manager's order (controller.ActivePodsWithRanks): unscheduled before
// scheduled, Pending before Running, not Ready before Ready, lower pod-deletion-cost first,
// pods doubled up on a node with their siblings first, Ready for less time first, newer
// first. Reads the cache's decoded pods: every eviction makes its ReplicaSet scale, and
// building its 30 pods' DOMs each time cost more than the rest of the controller.
void scale_pods(Simulation& sim, const Snapshot& snap, const value& owner, int want) {
  std::vector<const model::Pod*> active;
  for (const auto* p : snap.cache->pod_models_owned_by(uid(owner)))
    if (!p->meta.deleted && !p->finished()) active.push_back(p);
  const int have = static_cast<int>(active.size());
  if (have < want) {
    const auto base = name(owner) + "-";
    for (int i = have; i < want; ++i)
      create_pod(sim, owner, base);
  } else if (have > want) {
    std::unordered_map<std::string_view, int> on_node;
    for (const auto* p : active)
      if (!p->node_name.empty()) ++on_node[p->node_name.view()];
    auto phase_rank = [](const model::Pod* p) { return p->phase == model::PodPhase::kPending ? 0 : p->phase == model::PodPhase::kRunning ? 2 : 1; };
    std::sort(active.begin(), active.end(), [&](const model::Pod* a, const model::Pod* b) {
      if (a->node_name.empty() != b->node_name.empty()) return a->node_name.empty();
      if (phase_rank(a) != phase_rank(b)) return phase_rank(a) < phase_rank(b);
      if (a->ready != b->ready) return !a->ready;
      if (a->deletion_cost != b->deletion_cost) return a->deletion_cost < b->deletion_cost;
      const int da = a->node_name.empty() ? 0 : on_node[a->node_name.view()], db = b->node_name.empty() ? 0 : on_node[b->node_name.view()];
      if (da != db) return da > db;
      if (a->ready && b->ready && a->ready_since && b->ready_since && *a->ready_since != *b->ready_since)
        return *a->ready_since > *b->ready_since;
      return a->meta.created > b->meta.created;
    });
    for (int i = 0; i < have - want; ++i)
      sim.remove(object_path("v1", "pods", ns(owner), active[static_cast<size_t>(i)]->meta.name));
  }
}

// `total` active pods, `ready` of them Ready.
value replica_status(const value& owner, int64_t total, int64_t ready) {
  value st = value::object();
  st["replicas"] = value::number(total);
  st["fullyLabeledReplicas"] = value::number(total);
  st["readyReplicas"] = value::number(ready);
  st["availableReplicas"] = value::number(ready);
  st["observedGeneration"] = value::number(num(owner, {"metadata", "generation"}, 1));
  return st;
}

// From the cache's count of the pods `owner` controls.
value replica_status(const Snapshot& snap, const value& owner) {
  const auto& owned = snap.cache->owner_tally(uid(owner));
  return replica_status(owner, static_cast<int64_t>(owned.active), static_cast<int64_t>(owned.active_ready));
}

// ReplicaSets, and ReplicationControllers, which kube-controller-manager runs through the
// same controller (pkg/controller/replication wraps the ReplicaSet one).
class ReplicaSetController final : public SimController {
 public:
  const char* name() const override { return "replicaset"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    reconcile(sim, snap, "apps/replicasets", "apps/v1", "replicasets");
    reconcile(sim, snap, "/replicationcontrollers", "v1", "replicationcontrollers");
  }

 private:
  static void reconcile(Simulation& sim, const Snapshot& snap, const char* key, const char* api_version, const char* resource) {
    for (const auto& rs : snap.cache->touched(key)) {
      if (terminating(rs)) continue;
      // Counted by the cache; the pods themselves are looked at only to scale.
      const auto& owned = snap.cache->owner_tally(uid(rs));
      const int want = static_cast<int>(num(rs, {"spec", "replicas"}, 1));
      if (static_cast<int>(owned.active) != want) scale_pods(sim, snap, rs, want);
      set_status(sim, rs, object_path(api_version, resource, ns(rs), json::name(rs)), replica_status(snap, rs));
    }
  }
};

// StatefulSets as kube-controller-manager's pkg/controller/statefulset runs them with
// OrderedReady: pods created lowest ordinal first, each once the one below is Ready, removed
// highest first; a new template rolled out highest ordinal first, one pod at a time once all
// are Ready, down to spec.updateStrategy.rollingUpdate.partition (pods below it keep the old
// revision); with OnDelete, a pod takes the new template only when someone deletes it. Pods
// carry controller-revision-hash; the status counts current and updated replicas.
class StatefulSetController final : public SimController {
 public:
  const char* name() const override { return "statefulset"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    for (const auto& sts : snap.cache->touched("apps/statefulsets")) {
      if (terminating(sts)) continue;
      const auto want = num(sts, {"spec", "replicas"}, 1);
      const value* tmpl = at(sts, {"spec", "template"});
      const std::string update_rev = json::name(sts) + "-" + (tmpl ? template_hash(*tmpl) : std::string("none"));
      auto pods = owned_pods(snap, sts);
      std::map<int64_t, const value*> by_ordinal;
      const auto prefix = json::name(sts) + "-";
      for (const auto* p : pods) {
        const auto n = json::name(*p);
        if (n.rfind(prefix, 0) != 0) continue;
        try {
          by_ordinal[std::stol(n.substr(prefix.size()))] = p;
        } catch (const std::exception&) {
        }
      }
      auto revision = [](const value& p) { return str(p, {"metadata", "labels", "controller-revision-hash"}); };
      // OrderedReady: create the lowest missing ordinal once every lower one is Ready.
      bool all_ready = true;
      for (int64_t i = 0; i < want; ++i) {
        auto it = by_ordinal.find(i);
        if (it == by_ordinal.end()) {
          auto pod = pod_from_template(sts, prefix + std::to_string(i), sim.now());
          pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = value::string(prefix + std::to_string(i));
          pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] = value::string(std::to_string(i));
          pod["metadata"]["labels"]["controller-revision-hash"] = value::string(update_rev);
          pod["spec"]["hostname"] = value::string(prefix + std::to_string(i));
          if (auto svc = str(sts, {"spec", "serviceName"}); !svc.empty()) pod["spec"]["subdomain"] = value::string(svc);
          sim.create(object_path("v1", "pods", ns(sts)), pod);
          all_ready = false;
          break;
        }
        if (!pod_ready(*it->second) || terminating(*it->second)) {
          all_ready = false;
          break;
        }
      }
      bool removing = false;
      for (auto it = by_ordinal.rbegin(); it != by_ordinal.rend(); ++it)
        if (it->first >= want && !terminating(*it->second)) {
          sim.remove(object_path("v1", "pods", ns(sts), json::name(*it->second)));
          removing = true;
          break;  // one at a time, highest first
        }
      // RollingUpdate: the highest ordinal at or above the partition still on the old revision
      // is deleted (and recreated from the new template above), one at a time, all Ready first.
      const bool on_delete = str(sts, {"spec", "updateStrategy", "type"}) == "OnDelete";
      const int64_t partition = num(sts, {"spec", "updateStrategy", "rollingUpdate", "partition"}, 0);
      if (!on_delete && all_ready && !removing)
        for (auto it = by_ordinal.rbegin(); it != by_ordinal.rend(); ++it) {
          if (it->first >= want || it->first < partition) continue;
          if (terminating(*it->second)) break;
          if (revision(*it->second) != update_rev) {
            sim.remove(object_path("v1", "pods", ns(sts), json::name(*it->second)));
            break;
          }
        }
      int64_t updated = 0;
      std::string current_rev = str(sts, {"status", "currentRevision"}, update_rev);
      for (const auto& [i, p] : by_ordinal)
        if (i < want && !terminating(*p) && revision(*p) == update_rev) ++updated;
      if (updated == want) current_rev = update_rev;
      auto st = replica_status(snap, sts);
      st.erase("fullyLabeledReplicas");
      st.erase("availableReplicas");
      st["currentReplicas"] = value::number(current_rev == update_rev ? updated : num(st, {"replicas"}) - updated);
      st["updatedReplicas"] = value::number(updated);
      st["availableReplicas"] = st["readyReplicas"];
      st["currentRevision"] = value::string(current_rev);
      st["updateRevision"] = value::string(update_rev);
      set_status(sim, sts, object_path("apps/v1", "statefulsets", ns(sts), json::name(sts)), st);
    }
  }
};

class DaemonSetController final : public SimController {
 public:
  const char* name() const override { return "daemonset"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    // Every DaemonSet when a node changed (it may need a pod there now); else the touched ones.
    const Objects daemon_sets = snap.cache->changed("/nodes").empty() ? snap.cache->touched("apps/daemonsets") : snap.daemon_sets();
    const Objects nodes = daemon_sets.empty() ? Objects{} : snap.nodes();
    for (const auto& ds : daemon_sets) {
      if (terminating(ds)) continue;
      auto pods = owned_pods(snap, ds);
      std::map<std::string, const value*> by_node;
      for (const auto* p : pods) {
        auto target = daemon_target(*p);
        if (!target.empty() && snap.pod_active(*p)) by_node[target] = p;
      }
      int64_t desired = 0, ready = 0;
      const value* tmpl_spec = at(ds, {"spec", "template", "spec"});
      for (const auto& n : nodes) {
        if (terminating(n) || !node_matches(tmpl_spec, n)) continue;
        ++desired;
        auto it = by_node.find(json::name(n));
        if (it != by_node.end()) {
          if (pod_ready(*it->second)) ++ready;
          continue;
        }
        // As the DaemonSet controller does: pin with node affinity and tolerate what
        // cordoning and node trouble add.
        create_pod(sim, ds, json::name(ds) + "-", [&](value& pod) {
          value term = value::object();
          term["matchFields"][0]["key"] = value::string("metadata.name");
          term["matchFields"][0]["operator"] = value::string("In");
          term["matchFields"][0]["values"][0] = value::string(json::name(n));
          pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0] = term;
          auto& tol = pod["spec"]["tolerations"];
          if (!tol.is_array()) tol = value::array();
          for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/unschedulable",
                                  "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure", "node.kubernetes.io/pid-pressure"}) {
            value t = value::object();
            t["key"] = value::string(key);
            t["operator"] = value::string("Exists");
            t["effect"] = value::string(std::string(key).find("ready") != std::string::npos || std::string(key).find("unreachable") != std::string::npos ? "NoExecute" : "NoSchedule");
            tol[tol.size()] = t;
          }
        });
      }
      value st = value::object();
      st["desiredNumberScheduled"] = value::number(desired);
      st["currentNumberScheduled"] = value::number(static_cast<int64_t>(by_node.size()));
      st["numberReady"] = value::number(ready);
      st["numberAvailable"] = value::number(ready);
      st["updatedNumberScheduled"] = value::number(static_cast<int64_t>(by_node.size()));
      st["numberMisscheduled"] = value::number(0);
      st["observedGeneration"] = value::number(num(ds, {"metadata", "generation"}, 1));
      set_status(sim, ds, object_path("apps/v1", "daemonsets", ns(ds), json::name(ds)), st);
    }
  }

 private:
  static std::string daemon_target(const value& pod) {
    const value* terms = at(pod, {"spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
    if (terms && terms->is_array() && terms->size() > 0) {
      const value* mf = at(terms->at(0), {"matchFields"});
      if (mf && mf->is_array() && mf->size() > 0 && mf->at(0).has_field("values")) return mf->at(0).at("values").at(0).as_string();
    }
    return str(pod, {"spec", "nodeName"});
  }
  static bool node_matches(const value* spec, const value& node) {
    if (!spec) return true;
    const auto lbls = labels(node);
    if (const value* sel = at(*spec, {"nodeSelector"}); sel && sel->is_object())
      for (const auto& [k, v] : sel->as_object()) {
        auto it = lbls.find(k);
        if (it == lbls.end() || it->second != v.as_string()) return false;
      }
    // NoSchedule taints must be tolerated (the extra DaemonSet tolerations cover node trouble).
    if (const value* taints = at(node, {"spec", "taints"}); taints && taints->is_array())
      for (const auto& t : taints->as_array()) {
        const auto key = str(t, {"key"});
        if (key.rfind("node.kubernetes.io/", 0) == 0 || str(t, {"effect"}) == "PreferNoSchedule") continue;
        bool ok = false;
        if (const value* tol = at(*spec, {"tolerations"}); tol && tol->is_array())
          for (const auto& x : tol->as_array())
            ok = ok || (str(x, {"operator"}) == "Exists" && (str(x, {"key"}).empty() || str(x, {"key"}) == key)) ||
                 (str(x, {"key"}) == key && str(x, {"value"}) == str(t, {"value"}));
        if (!ok) return false;
      }
    return true;
  }
};

class JobController final : public SimController {
 public:
  const char* name() const override { return "job"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    for (const auto& job : snap.cache->touched("batch/jobs")) {
      if (terminating(job)) continue;
      auto pods = owned_pods(snap, job);
      int64_t active = 0, succeeded = 0, failed = 0;
      for (const auto* p : pods) {
        const auto phase = str(*p, {"status", "phase"});
        if (phase == "Succeeded") ++succeeded;
        else if (phase == "Failed") ++failed;
        else if (!terminating(*p)) ++active;
      }
      const int64_t completions = num(job, {"spec", "completions"}, 1);
      const int64_t parallelism = num(job, {"spec", "parallelism"}, 1);
      const int64_t backoff_limit = num(job, {"spec", "backoffLimit"}, 6);
      const bool done = succeeded >= completions;
      const bool gave_up = failed > backoff_limit;
      if (!done && !gave_up) {
        for (int64_t i = active; i < std::min(parallelism, completions - succeeded); ++i) {
          create_pod(sim, job, json::name(job) + "-", [&](value& pod) { pod["metadata"]["labels"]["job-name"] = value::string(json::name(job)); });
        }
      }
      value st = value::object();
      st["active"] = value::number(done || gave_up ? 0 : std::max(active, std::min(parallelism, completions - succeeded)));
      st["succeeded"] = value::number(succeeded);
      st["failed"] = value::number(failed);
      if (done || gave_up) {
        // Keep the first completion time: the status must settle.
        st["completionTime"] = value::string(str(job, {"status", "completionTime"}, now_text(sim.now())));
        value c = value::object();
        c["type"] = value::string(done ? "Complete" : "Failed");
        c["status"] = value::string("True");
        if (gave_up) c["reason"] = value::string("BackoffLimitExceeded");
        c["lastTransitionTime"] = st["completionTime"];
        st["conditions"][0] = c;
      }
      set_status(sim, job, object_path("batch/v1", "jobs", ns(job), json::name(job)), st);
    }
  }
};

}  // namespace

std::unique_ptr<SimController> make_replica_set_controller() { return std::make_unique<ReplicaSetController>(); }
std::unique_ptr<SimController> make_stateful_set_controller() { return std::make_unique<StatefulSetController>(); }
std::unique_ptr<SimController> make_daemon_set_controller() { return std::make_unique<DaemonSetController>(); }
std::unique_ptr<SimController> make_job_controller() { return std::make_unique<JobController>(); }

}  // namespace nonevent::sim
