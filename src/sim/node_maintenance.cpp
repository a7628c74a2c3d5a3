// medik8s node-maintenance-operator (controllers/nodemaintenance_controller.go) for the
// NodeMaintenance CRs users create: it adds its finalizer, takes the node's Lease (namespace
// medik8s-leases, named node-<node>, holder "node-maintenance", an hour long), labels the node
// remediation.medik8s.io/exclude-from-remediation=true, taints it medik8s.io/drain:NoSchedule,
// cordons it and drains it through evictions (status.phase Running, then Succeeded). Deleting
// the CR undoes all of it: taint and label off, the node uncordoned (whatever it was before:
// NMO does not remember), the Lease dropped, the finalizer removed.
#include <set>

#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

constexpr const char* kFinalizer = "foregroundDeleteNodeMaintenance";
constexpr const char* kDrainTaint = "medik8s.io/drain";
constexpr const char* kLeaseNamespace = "medik8s-leases";

class NodeMaintenanceOperator final : public SimController {
 public:
  const char* name() const override { return "node-maintenance-operator"; }

  void reconcile(Simulation& sim, const Snapshot& snap) override {
    const auto now = sim.now();
    for (const value& nm : snap.cache->list(kNodeMaintenances)) {
      const auto path = object_path("nodemaintenance.medik8s.io/v1beta1", "nodemaintenances", "", json::name(nm));
      const auto node_name = str(nm, {"spec", "nodeName"});
      const value* node = snap.cache->get("/nodes", node_name);
      if (terminating(nm)) {
        if (!has_finalizer(nm)) continue;
        if (node) stop_maintenance(sim, *node, now);
        sim.request("DELETE", lease_path(node_name));
        value p = value::object();
        p["metadata"]["finalizers"] = value::array();
        sim.patch(path, p);
        continue;
      }
      if (!has_finalizer(nm)) {
        value p = value::object();
        p["metadata"]["finalizers"][0] = value::string(kFinalizer);
        sim.patch(path, p);
        continue;
      }
      if (!node) {
        set_status(sim, path, nm, "Failed", "node " + node_name + " not found");
        continue;
      }
      take_lease(sim, node_name, now);
      value p = taints_with(*node, kDrainTaint, "NoSchedule", true, now);
      if (has_taint(*node, kDrainTaint)) p = value::object();
      p["metadata"]["labels"][kExcludeFromRemediation] = value::string("true");
      p["spec"]["unschedulable"] = value::boolean(true);
      if (!flag(*node, {"spec", "unschedulable"}) || !has_taint(*node, kDrainTaint) ||
          str(*node, {"metadata", "labels", kExcludeFromRemediation}) != "true")
        sim.patch(object_path("v1", "nodes", "", node_name), p);
      const int left = evict_node_pods(sim, snap, node_name);
      set_status(sim, path, nm, left == 0 ? "Succeeded" : "Running", "");
    }
  }

 private:
  static bool has_finalizer(const value& nm) {
    if (const value* f = at(nm, {"metadata", "finalizers"}); f && f->is_array())
      for (const auto& x : f->as_array())
        if (x.is_string() && x.as_string() == kFinalizer) return true;
    return false;
  }
  static std::string lease_path(const std::string& node) {
    return object_path("coordination.k8s.io/v1", "leases", kLeaseNamespace, "node-" + node);
  }
  void take_lease(Simulation& sim, const std::string& node, kube::TimePoint now) {
    if (leased_.count(node)) return;
    if (!namespace_made_) {
      value ns = value::object();
      ns["apiVersion"] = value::string("v1");
      ns["kind"] = value::string("Namespace");
      ns["metadata"]["name"] = value::string(kLeaseNamespace);
      sim.create(object_path("v1", "namespaces", ""), ns);
      namespace_made_ = true;
    }
    value lease = value::object();
    lease["apiVersion"] = value::string("coordination.k8s.io/v1");
    lease["kind"] = value::string("Lease");
    lease["metadata"]["name"] = value::string("node-" + node);
    lease["metadata"]["namespace"] = value::string(kLeaseNamespace);
    lease["spec"]["holderIdentity"] = value::string("node-maintenance");
    lease["spec"]["leaseDurationSeconds"] = value::number(3600);
    lease["spec"]["acquireTime"] = value::string(kube::format_rfc3339_micro(now));
    lease["spec"]["renewTime"] = value::string(kube::format_rfc3339_micro(now));
    sim.create(object_path("coordination.k8s.io/v1", "leases", kLeaseNamespace), lease);
    leased_.insert(node);
  }
  void stop_maintenance(Simulation& sim, const value& node, kube::TimePoint now) {
    value p = taints_with(node, kDrainTaint, "", false, now);
    p["metadata"]["labels"][kExcludeFromRemediation] = value::null();
    p["spec"]["unschedulable"] = value::null();
    sim.patch(object_path("v1", "nodes", "", json::name(node)), p);
    leased_.erase(json::name(node));
  }
  static void set_status(Simulation& sim, const std::string& path, const value& nm, const std::string& phase,
                         const std::string& error) {
    if (str(nm, {"status", "phase"}) == phase && str(nm, {"status", "lastError"}) == error) return;
    value st = nm.has_field("status") ? nm.at("status") : value::object();
    st["phase"] = value::string(phase);
    if (phase == "Succeeded") st["drainProgress"] = value::number(100);
    if (!error.empty()) st["lastError"] = value::string(error);
    sim.set_status(path, nm, st);
  }

  std::set<std::string> leased_;
  bool namespace_made_ = false;
};

}  // namespace

std::unique_ptr<SimController> make_node_maintenance_operator() { return std::make_unique<NodeMaintenanceOperator>(); }

}  // namespace nonevent::sim
