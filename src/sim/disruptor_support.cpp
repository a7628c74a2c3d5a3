// What the simulated disruptors share: kubectl drain's eviction pass, taints, and the objects
// they install (disruptors.h).
#include "planner/drain_prediction.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

int evict_node_pods(Simulation& sim, const Snapshot& snap, const std::string& node) {
  int remaining = 0;
  for (const auto& key : snap.cache->pod_keys_on_node(node)) {
    const model::Pod* pod = snap.cache->pod_model(key);
    if (!pod || pod->finished() || planner::never_drained(*pod)) continue;
    ++remaining;
    if (pod->meta.deleted) continue;  // already leaving
    value eviction = value::object();
    eviction["apiVersion"] = value::string("policy/v1");
    eviction["kind"] = value::string("Eviction");
    eviction["metadata"]["name"] = value::string(pod->meta.name);
    eviction["metadata"]["namespace"] = value::string(pod->meta.namespace_.str());
    // A refusal (429: a PDB allows no disruption now) is tried again on a later pass, as
    // kubectl drain retries every 5 s.
    if (sim.request_dom("POST", object_path("v1", "pods", pod->meta.namespace_.str(), pod->meta.name) + "/eviction",
                        std::move(eviction)) == 429)
      sim.wake_at(sim.now() + std::chrono::seconds(5));
  }
  return remaining;
}

bool has_taint(const value& node, const std::string& key) {
  if (const value* ts = at(node, {"spec", "taints"}); ts && ts->is_array())
    for (const auto& t : ts->as_array())
      if (str(t, {"key"}) == key) return true;
  return false;
}

value taints_with(const value& node, const std::string& key, const std::string& effect, bool present, kube::TimePoint now) {
  value taints = value::array();
  size_t i = 0;
  if (const value* ts = at(node, {"spec", "taints"}); ts && ts->is_array())
    for (const auto& t : ts->as_array())
      if (str(t, {"key"}) != key) taints[i++] = t;
  if (present) {
    value t = value::object();
    t["key"] = value::string(key);
    t["effect"] = value::string(effect);
    t["timeAdded"] = value::string(now_text(now));
    taints[i++] = t;
  }
  value p = value::object();
  p["spec"]["taints"] = taints;
  return p;
}

namespace {

// kured's DaemonSet as its chart installs it (the lock annotation lives on it).
value kured_daemon_set() {
  return value::parse(R"({
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": {"name": "kured", "namespace": "kube-system", "labels": {"app.kubernetes.io/name": "kured"}},
    "spec": {
      "selector": {"matchLabels": {"app.kubernetes.io/name": "kured"}},
      "template": {
        "metadata": {"labels": {"app.kubernetes.io/name": "kured"}},
        "spec": {
          "serviceAccountName": "kured",
          "tolerations": [{"operator": "Exists"}],
          "containers": [{"name": "kured", "image": "ghcr.io/kubereboot/kured:1.17.1",
                          "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}]
        }
      }
    }
  })");
}

// node-maintenance-operator's CRD (nodemaintenance.medik8s.io/v1beta1, cluster-scoped as in
// NMO 0.12 and later), with its status subresource; the schema keeps unknown fields.
value node_maintenance_crd() {
  return value::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "nodemaintenances.nodemaintenance.medik8s.io"},
    "spec": {
      "group": "nodemaintenance.medik8s.io",
      "scope": "Cluster",
      "names": {"plural": "nodemaintenances", "singular": "nodemaintenance", "kind": "NodeMaintenance",
                "listKind": "NodeMaintenanceList", "shortNames": ["nm"]},
      "versions": [{
        "name": "v1beta1", "served": true, "storage": true,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "required": ["nodeName"], "properties": {
            "nodeName": {"type": "string"}, "reason": {"type": "string"}}},
          "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}
      }]
    }
  })");
}

}  // namespace

void install_disruptors(ApiServer& api, const ClusterSpec& spec, kube::TimePoint) {
  // Created once: a simulation restarted on the same storage finds them there already.
  if (spec.disruptors.kured) api.create_object(kured_daemon_set());
  if (spec.disruptors.node_maintenance) api.create_object(node_maintenance_crd());
}

}  // namespace nonevent::sim
