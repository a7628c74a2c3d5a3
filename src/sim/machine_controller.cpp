// Cluster API's part, as far as the operator's Replace strategy relies on it (the CRDs are
// whatever a test or user applies):
// - a deleted Machine takes its Node with it;
// - a MachineDeployment keeps spec.replicas Machines. The sim leaves out the MachineSet in
//   between: its Machines are those labelled cluster.x-k8s.io/deployment-name=<name> in its
//   namespace (as real ones are), and the ones it makes are owned by it directly. A new Machine's Node appears after
//   nodeProvisionSeconds in spec.template.spec.failureDomain, shaped like the deployment's
//   other nodes; scaling down deletes Machines in Cluster API's order: those annotated
//   cluster.x-k8s.io/delete-machine first, then those without a Node, then the newest.
#include <algorithm>

#include "sim/controllers.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

constexpr const char* kMachines = "cluster.x-k8s.io/machines";
constexpr const char* kMachineDeployments = "cluster.x-k8s.io/machinedeployments";
constexpr const char* kDeploymentNameLabel = "cluster.x-k8s.io/deployment-name";
constexpr const char* kDeleteMachineAnnotation = "cluster.x-k8s.io/delete-machine";

// Through the status subresource when the CRD has one (Cluster API's do), else the object.
void patch_status(Simulation& sim, const std::string& path, const value& status) {
  const value body = value::object({{"status", status}});
  if (!sim.patch(path + "/status", body)) sim.patch(path, body);
}

class MachineController final : public SimController {
 public:
  const char* name() const override { return "machine"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    for (const auto& ch : snap.cache->changed(kMachines)) {
      if (ch.object) continue;
      const auto node = str(ch.last(), {"status", "nodeRef", "name"});
      if (!node.empty()) sim.remove(object_path("v1", "nodes", "", node));
    }
    for (const value& md : snap.cache->list(kMachineDeployments)) reconcile_deployment(sim, snap, md);
  }

 private:
  void reconcile_deployment(Simulation& sim, const Snapshot& snap, const value& md) {
    if (terminating(md)) return;
    const auto api_version = str(md, {"apiVersion"});
    const auto md_ns = ns(md);
    const auto md_name = json::name(md);
    const auto zone = str(md, {"spec", "template", "spec", "failureDomain"});
    std::vector<const value*> live;
    // Its Machines by label, as a MachineSet's selector finds them (so Machines made before
    // the deployment, as a test or an import does, are adopted rather than doubled).
    for (const value& m : snap.cache->list(kMachines))
      if (!terminating(m) && json::ns(m) == md_ns && str(m, {"metadata", "labels", kDeploymentNameLabel}) == md_name)
        live.push_back(&m);

    // Nodes for Machines whose provisioning time is up.
    const value* like = nullptr;
    for (const auto* m : live)
      if (const value* n = snap.cache->get("/nodes", str(*m, {"status", "nodeRef", "name"}))) like = n;
    if (!like)
      for (const value& n : snap.nodes())
        if (str(n, {"metadata", "labels", "topology.kubernetes.io/zone"}) == zone) like = &n;
    int ready = 0;
    for (const auto* m : live) {
      if (const auto node = str(*m, {"status", "nodeRef", "name"}); !node.empty()) {
        if (const value* n = snap.cache->get("/nodes", node); n && condition_true(*n, "Ready")) ++ready;
        continue;
      }
      const auto due = after(kube::parse_rfc3339(str(*m, {"metadata", "creationTimestamp"})).value_or(sim.now()),
                             sim.spec().timings.node_provision_s);
      if (sim.now() < due) {
        sim.wake_at(due);
        continue;
      }
      if (!like) continue;  // nothing to shape a node on in this zone
      value node = new_node_like(sim, *like, json::name(*m));
      node["metadata"]["labels"]["topology.kubernetes.io/zone"] = value::string(zone);
      value& ann = node["metadata"]["annotations"];
      ann["cluster.x-k8s.io/machine"] = value::string(json::name(*m));
      ann["cluster.x-k8s.io/cluster-namespace"] = value::string(md_ns);
      ann["cluster.x-k8s.io/owner-kind"] = value::string("MachineDeployment");
      ann["cluster.x-k8s.io/owner-name"] = value::string(md_name);
      if (!sim.create(object_path("v1", "nodes", ""), node) && !snap.cache->get("/nodes", json::name(*m))) continue;
      value status = m->has_field("status") ? m->at("status") : value::object();
      status["nodeRef"]["kind"] = value::string("Node");
      status["nodeRef"]["name"] = value::string(json::name(*m));
      status["phase"] = value::string("Running");
      patch_status(sim, object_path(api_version, "machines", md_ns, json::name(*m)), status);
    }

    // Scale to spec.replicas.
    const auto want = num(md, {"spec", "replicas"}, 1);
    if (static_cast<int64_t>(live.size()) < want) {
      for (auto k = static_cast<int64_t>(live.size()); k < want; ++k) {
        value m = value::object();
        m["apiVersion"] = value::string(api_version);
        m["kind"] = value::string("Machine");
        m["metadata"]["name"] = value::string(md_name + "-" + std::to_string(next_serial(snap, md_ns, md_name)));
        m["metadata"]["namespace"] = value::string(md_ns);
        m["metadata"]["labels"][kDeploymentNameLabel] = value::string(md_name);
        m["metadata"]["ownerReferences"][0] = owner_ref(md);
        m["spec"]["clusterName"] = value::string(str(md, {"spec", "clusterName"}));
        if (!zone.empty()) m["spec"]["failureDomain"] = value::string(zone);
        m["status"]["phase"] = value::string("Provisioning");
        sim.create(object_path(api_version, "machines", md_ns), m);
      }
    } else if (static_cast<int64_t>(live.size()) > want) {
      auto rank = [](const value* m) {
        const int priority = at(*m, {"metadata", "annotations", kDeleteMachineAnnotation}) ? 0
                             : str(*m, {"status", "nodeRef", "name"}).empty()             ? 1
                                                                                            : 2;
        return std::pair(priority, str(*m, {"metadata", "creationTimestamp"}));
      };
      std::sort(live.begin(), live.end(), [&](const value* a, const value* b) {
        const auto ra = rank(a), rb = rank(b);
        return ra.first != rb.first ? ra.first < rb.first : ra.second > rb.second;  // newest first within a priority
      });
      for (size_t k = 0; k < live.size() - static_cast<size_t>(want); ++k)
        sim.remove(object_path(api_version, "machines", md_ns, json::name(*live[k])));
    }

    value status = md.has_field("status") ? md.at("status") : value::object();
    status["replicas"] = value::number(static_cast<int64_t>(live.size()));
    status["readyReplicas"] = value::number(ready);
    status["availableReplicas"] = value::number(ready);
    if (!md.has_field("status") || md.at("status").serialize() != status.serialize())
      patch_status(sim, object_path(api_version, "machinedeployments", md_ns, md_name), status);
  }

  // Machine names go on from the highest one the deployment has had (a deleted name is not
  // reused while its Node may still be going).
  int next_serial(const Snapshot& snap, const std::string& md_ns, const std::string& md_name) {
    int& serial = serials_[md_ns + "/" + md_name];
    while (snap.cache->get(kMachines, md_ns + "/" + md_name + "-" + std::to_string(serial + 1)) ||
           snap.cache->get("/nodes", md_name + "-" + std::to_string(serial + 1)))
      ++serial;
    return ++serial;
  }
  std::map<std::string, int> serials_;
};

}  // namespace

std::unique_ptr<SimController> make_machine_controller() { return std::make_unique<MachineController>(); }

}  // namespace nonevent::sim
