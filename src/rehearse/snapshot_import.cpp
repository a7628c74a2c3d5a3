#include "rehearse/snapshot_import.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "sim/json_util.h"

namespace nonevent::rehearse {

using web::json::value;
using namespace sim::json;

namespace {

// The kinds a rehearsal runs on, and where the store keeps each.
const std::map<std::string, std::string>& kept_kinds() {
  static const std::map<std::string, std::string> kinds{
      {"Namespace", "/namespaces"},       {"Node", "/nodes"},
      {"Pod", "/pods"},                   {"PodDisruptionBudget", "policy/poddisruptionbudgets"},
      {"Deployment", "apps/deployments"}, {"ReplicaSet", "apps/replicasets"},
      {"StatefulSet", "apps/statefulsets"}, {"DaemonSet", "apps/daemonsets"}};
  return kinds;
}

void collect(const value& doc, std::map<std::string, std::vector<value>>& by_kind, std::map<std::string, int>& ignored) {
  if (!doc.is_object()) return;
  if (doc.has_field("items") && doc.at("items").is_array()) {
    for (const auto& item : doc.at("items").as_array()) collect(item, by_kind, ignored);
    return;
  }
  const std::string kind = str(doc, {"kind"});
  if (kept_kinds().count(kind)) by_kind[kind].push_back(doc);
  else if (!kind.empty()) ++ignored[kind];
}

// As the store keeps an object: what the server owns (resourceVersion, managedFields) goes;
// uids, owners, creation times and status stay, so owners adopt and kubelets find pods running.
value cleaned(value obj) {
  if (obj.has_field("metadata") && obj.at("metadata").is_object()) {
    auto& meta = obj["metadata"];
    for (const char* k : {"resourceVersion", "managedFields", "selfLink", "generateName"})
      if (meta.has_field(k)) meta.erase(k);
  }
  return obj;
}

std::optional<kube::TimePoint> condition_time(const value& obj, const char* type, const char* key = "lastTransitionTime") {
  if (const value* cs = at(obj, {"status", "conditions"}); cs && cs->is_array())
    for (const auto& c : cs->as_array())
      if (str(c, {"type"}) == type && str(c, {"status"}) == "True") return kube::parse_rfc3339(str(c, {key}));
  return std::nullopt;
}

const value* controller_ref(const value& obj) {
  if (const value* refs = at(obj, {"metadata", "ownerReferences"}); refs && refs->is_array())
    for (const auto& r : refs->as_array())
      if (r.has_field("controller") && r.at("controller").is_boolean() && r.at("controller").as_bool()) return &r;
  return nullptr;
}

std::string zone_of(const value& node) {
  for (const char* label : {"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"})
    if (const std::string z = str(node, {"metadata", "labels", label}); !z.empty()) return z;
  return "";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

std::string workload_of(const value& pod, const std::map<std::string, std::string>& replica_set_owner) {
  const std::string ns = str(pod, {"metadata", "namespace"});
  const value* c = controller_ref(pod);
  if (!c) return ns + "/Pod/" + str(pod, {"metadata", "name"});
  const std::string kind = str(*c, {"kind"}), owner = str(*c, {"name"});
  if (kind == "ReplicaSet")
    if (auto d = replica_set_owner.find(ns + "/" + owner); d != replica_set_owner.end()) return ns + "/Deployment/" + d->second;
  return ns + "/" + kind + "/" + owner;
}

ImportedCluster import_snapshot(const std::vector<value>& documents, sim::ObjectStore& store, const sim::Timings& defaults) {
  ImportedCluster out;
  out.spec.timings = defaults;
  std::map<std::string, std::vector<value>> by_kind;
  std::map<std::string, int> ignored;
  for (const auto& d : documents) collect(d, by_kind, ignored);
  if (by_kind["Node"].empty())
    throw std::runtime_error("no Node in the snapshot (kubectl get nodes,pods,pdb,deployments,replicasets,statefulsets,daemonsets -A -o yaml)");

  // When it was taken: the newest time it shows (node heartbeats are the freshest).
  kube::TimePoint newest{};
  auto see = [&](std::optional<kube::TimePoint> t) {
    if (t && *t > newest) newest = *t;
  };
  for (const auto& n : by_kind["Node"]) see(condition_time(n, "Ready", "lastHeartbeatTime"));
  for (const auto& [kind, objs] : by_kind)
    for (const auto& o : objs) see(kube::parse_rfc3339(str(o, {"metadata", "creationTimestamp"})));
  out.taken_at = std::chrono::ceil<std::chrono::seconds>(newest);

  std::set<std::string> zones;
  for (const auto& n : by_kind["Node"])
    if (const std::string z = zone_of(n); !z.empty()) zones.insert(z);
  out.spec.zones.assign(zones.begin(), zones.end());
  if (zones.empty()) out.warnings.push_back("no node has a topology.kubernetes.io/zone label: the whole cluster is one zone");

  // Which objects exist, by namespace/name and by uid, to find owners the snapshot lacks.
  std::set<std::string> uids;
  std::map<std::string, std::string> replica_set_owner;  // "ns/rs" → its Deployment
  for (const auto& [kind, objs] : by_kind)
    for (const auto& o : objs) uids.insert(str(o, {"metadata", "uid"}));
  for (const auto& rs : by_kind["ReplicaSet"])
    if (const value* c = controller_ref(rs); c && str(*c, {"kind"}) == "Deployment")
      replica_set_owner[str(rs, {"metadata", "namespace"}) + "/" + str(rs, {"metadata", "name"})] = str(*c, {"name"});

  // What evictions will do to pods whose owner is missing.
  std::map<std::string, int> orphaned;  // "Kind ns/name" of a missing owner → its pods
  std::vector<std::string> bare;
  for (const auto& p : by_kind["Pod"]) {
    if (const std::string phase = str(p, {"status", "phase"}); phase == "Succeeded" || phase == "Failed") continue;
    const value* c = controller_ref(p);
    const std::string name = str(p, {"metadata", "namespace"}) + "/" + str(p, {"metadata", "name"});
    if (!c) {
      if (str(p, {"metadata", "annotations", "kubernetes.io/config.mirror"}).empty()) bare.push_back(name);
    } else if (!uids.count(str(*c, {"uid"}))) {
      ++orphaned[str(*c, {"kind"}) + " " + str(p, {"metadata", "namespace"}) + "/" + str(*c, {"name"})];
    }
  }
  for (const auto& [owner, pods] : orphaned)
    out.warnings.push_back(std::to_string(pods) + " pod(s) of " + owner + ", which is not in the snapshot: an evicted one is not " +
                           "replaced in the rehearsal (include deployments,replicasets,statefulsets,daemonsets in the kubectl get)");
  for (size_t i = 0; i < bare.size() && i < 5; ++i)
    out.warnings.push_back("pod " + bare[i] + " has no owner: once evicted it is gone for good, as on the cluster");
  if (bare.size() > 5) out.warnings.push_back(std::to_string(bare.size() - 5) + " more pods without an owner");
  if (by_kind["PodDisruptionBudget"].empty())
    out.warnings.push_back("no PodDisruptionBudget in the snapshot: nothing limits how many replicas a drain takes at once "
                           "(include pdb in the kubectl get, or the rehearsal is faster than the real thing)");
  if (by_kind["Pod"].empty()) out.warnings.push_back("no Pod in the snapshot: nothing moves (include pods in the kubectl get)");
  for (const auto& [kind, n] : ignored)
    if (kind != "List") out.warnings.push_back("ignored " + std::to_string(n) + " " + kind + "(s): a rehearsal does not run them");

  // Timings: per workload, from scheduled to Ready (less the cluster's start time, which the
  // kubelet adds), the median over its pods; the rest defaulted.
  std::map<std::string, std::vector<double>> ready_by_workload;
  std::map<std::string, std::set<std::string>> owners_by_workload;
  std::vector<double> all;
  for (const auto& p : by_kind["Pod"]) {
    const auto scheduled = condition_time(p, "PodScheduled"), ready = condition_time(p, "Ready");
    if (!scheduled || !ready || *ready < *scheduled) continue;
    const double s = std::chrono::duration<double>(*ready - *scheduled).count();
    if (s > 3600) continue;  // a pod that became Ready again after a restart says nothing of its start
    const std::string w = workload_of(p, replica_set_owner);
    ready_by_workload[w].push_back(s);
    all.push_back(s);
    if (const value* c = controller_ref(p)) owners_by_workload[w].insert(str(*c, {"uid"}));
  }
  for (const auto& [w, samples] : ready_by_workload) {
    const double total = median(samples);
    const double ready_s = std::max(0.0, total - defaults.pod_start_s);
    out.timings.push_back({w, total, static_cast<int>(samples.size())});
    for (const auto& uid : owners_by_workload[w]) out.spec.timings.ready_s_by_owner[uid] = ready_s;
  }
  if (!all.empty()) out.spec.timings.pod_ready_s = std::max(0.0, median(all) - defaults.pod_start_s);
  else out.defaulted.push_back("pod start to Ready: " + std::to_string(static_cast<int>(defaults.pod_start_s + defaults.pod_ready_s)) +
                               "s (no pod in the snapshot shows both PodScheduled and Ready)");
  out.defaulted.push_back("pod termination: " + std::to_string(static_cast<int>(defaults.termination_s)) +
                          "s or its grace period if shorter (--termination-seconds; a snapshot does not show how long pods take to stop)");
  out.defaulted.push_back("node reboot: " + std::to_string(static_cast<int>(defaults.node_reboot_s)) + "s (--node-reboot-seconds)");

  // Into the store: namespaces first, owners before what they own.
  std::set<std::string> namespaces;
  for (const auto& ns : by_kind["Namespace"]) namespaces.insert(str(ns, {"metadata", "name"}));
  for (const auto& [kind, objs] : by_kind)
    for (const auto& o : objs)
      if (const std::string ns = str(o, {"metadata", "namespace"}); !ns.empty() && !namespaces.count(ns)) {
        value n = value::object();
        n["apiVersion"] = value::string("v1");
        n["kind"] = value::string("Namespace");
        n["metadata"]["name"] = value::string(ns);
        n["status"]["phase"] = value::string("Active");
        by_kind["Namespace"].push_back(n);
        namespaces.insert(ns);
      }
  for (const char* kind : {"Namespace", "Node", "PodDisruptionBudget", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Pod"}) {
    const std::string& resource = kept_kinds().at(kind);
    for (const auto& o : by_kind[kind]) {
      if (kind == std::string("Namespace") && store.get(resource, "", str(o, {"metadata", "name"}))) continue;
      auto r = store.create(resource, cleaned(o));
      if (!r.ok())
        throw std::runtime_error(std::string("cannot load ") + kind + " " + str(o, {"metadata", "namespace"}) + "/" + str(o, {"metadata", "name"}) +
                                 ": " + r.error().to_string());
      ++out.kinds[kind];
    }
  }
  return out;
}

}  // namespace nonevent::rehearse
