// How a drained node gets its new version, per spec.strategy.type (one function each, as
// kube-controller-manager's rolling.go and recreate.go are one file each):
//   InPlace   a Job pinned to the node patches it          → patching
//   External  an annotation asks an outside agent          → patching
//   Replace   the node (or its Machine) is deleted          → gone; its replacement is counted
//             with maxSurge: its new node is already there  → replacing
#include "controllers/campaign_pass.h"
#include "controllers/surge_capacity.h"
#include "planner/drain_prediction.h"

namespace nonevent::controllers {

using kube::PatchType;
using web::json::value;

kube::Status PatchCampaignController::start_patch(Pass& p, const model::Node& n) {
  switch (p.c().strategy) {
    case Strategy::kInPlace: {
      auto made = start_in_place(p, n);
      if (!made.ok()) return made.error();
      if (!made.value()) return kube::Unit{};  // an old failed Job is going: made again next pass
      return drainer_.set_state(n, NodeState::kPatching, p.now);
    }
    case Strategy::kExternal:
      if (auto st = start_external(p, n); !st.ok()) return st;
      return drainer_.set_state(n, NodeState::kPatching, p.now);
    case Strategy::kReplace:
      if (n.annotation(kSurgeFrom)) return hand_back_surged(p, n);
      return start_replace(p, n);
  }
  return kube::Unit{};
}

kube::Result<bool> PatchCampaignController::start_in_place(Pass& p, const model::Node& n) {
  const CampaignSpec& c = p.c();
  const std::string job_name = patch_job_name(p.name, n.meta.name);
  value job = value::object();
  job["apiVersion"] = value::string("batch/v1");
  job["kind"] = value::string("Job");
  job["metadata"]["name"] = value::string(job_name);
  job["metadata"]["namespace"] = value::string(opts_.job_namespace);
  job["metadata"]["labels"][planner::kPatchPodLabel] = value::string(p.name);
  job["metadata"]["annotations"]["nonevent.dev/node"] = value::string(n.meta.name);
  job["metadata"]["annotations"][kTargetVersionAnnotation] = value::string(c.version);
  value owner = value::object();
  owner["apiVersion"] = value::string("nonevent.dev/v1alpha1");
  owner["kind"] = value::string("PatchCampaign");
  owner["name"] = value::string(p.name);
  owner["uid"] = p.obj.at("metadata").at("uid");
  job["metadata"]["ownerReferences"][0] = owner;
  job["spec"]["backoffLimit"] = value::number(0);  // a failed patch is a failed node, not a retry loop
  value tpl = opts_.limits.bounded_job_template(c.job_template);
  tpl["metadata"]["labels"][planner::kPatchPodLabel] = value::string(p.name);
  tpl["metadata"]["annotations"][kTargetVersionAnnotation] = value::string(c.version);
  tpl["spec"]["nodeName"] = value::string(n.meta.name);  // pinned: no scheduler involved
  if (!tpl["spec"].has_field("restartPolicy")) tpl["spec"]["restartPolicy"] = value::string("Never");
  // It must run on a cordoned node and survive the reboot's not-ready taint.
  value tols = tpl["spec"].has_field("tolerations") ? tpl["spec"]["tolerations"] : value::array();
  value all = value::object();
  all["operator"] = value::string("Exists");
  tols[tols.size()] = all;
  tpl["spec"]["tolerations"] = tols;
  job["spec"]["template"] = tpl;
  auto r = client_->create(kube::resources::jobs(), opts_.job_namespace, job.serialize());
  if (r.ok()) return true;
  if (r.error().code != 409) return r.error();
  // A Job of an earlier attempt (the node failed, the campaign was resumed): a failed one is
  // removed and made again on the next pass; any other is this attempt's own.
  auto old = client_->get(kube::resources::jobs(), opts_.job_namespace, job_name);
  std::error_code ec;
  if (old.ok() && integer(field(value::parse(old.value(), ec), "status"), "failed") > 0) {
    kube::DeleteOptions del;
    del.propagation_policy = "Background";
    auto gone = client_->remove(kube::resources::jobs(), opts_.job_namespace, job_name, del);
    if (!gone.ok() && !gone.error().is_not_found()) return gone.error();
    return false;
  }
  return true;
}

kube::Status PatchCampaignController::start_external(Pass& p, const model::Node& n) {
  value patch = value::object();
  patch["metadata"]["annotations"][p.c().external_annotation] = value::string(p.c().version);
  auto r = client_->patch(kube::resources::nodes(), "", n.meta.name, PatchType::kStrategicMerge, patch.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}

kube::Status PatchCampaignController::hand_back_surged(Pass& p, const model::Node& n) {
  // Its new node is already there: give the old one back to Cluster API. The Machine is
  // marked first, so the scale-down (at the end of this pass) deletes this one.
  const std::string surge_from = *n.annotation(kSurgeFrom);
  auto m = mark_machine_for_deletion(*client_, n);
  if (!m.ok() && !m.error().is_not_found()) return m.error();
  if (!m.ok()) {
    // The Machine is gone already (its MachineSet made another): only the Node is left.
    auto r = client_->remove(kube::resources::nodes(), "", n.meta.name, {});
    if (!r.ok() && !r.error().is_not_found()) return r.error();
  }
  if (auto st = drainer_.set_state(n, NodeState::kReplacing, p.now); !st.ok()) return st;
  --p.surge_extra[surge_from];
  const auto* replacement = n.annotation(kReplacement);
  events_.record(node_ref(n), "Normal", "NodeReplaced",
                 p.claim + ": replaced by " + (replacement ? *replacement : std::string("a new node")) + "; MachineDeployment " +
                     surge_from + " scaled back");
  return kube::Unit{};
}

kube::Status PatchCampaignController::start_replace(Pass& p, const model::Node& n) {
  // The node goes; its replacement (from the cloud's node group or Cluster API) is awaited as
  // zone capacity in step 3, and counted as done when it arrives. A node Cluster API manages
  // goes through its Machine (deleting only the Node would leave the Machine to bring the
  // same instance back).
  kube::DeleteOptions opts;
  const auto* machine = n.annotation(kCapiMachine);
  const auto* machine_ns = n.annotation(kCapiClusterNamespace);
  if (machine && machine_ns) {
    auto m = client_->remove(kube::resources::machines(), *machine_ns, *machine, opts);
    if (m.ok()) {
      events_.record(node_ref(n), "Normal", "NodeReplaced", p.claim + ": Machine " + *machine_ns + "/" + *machine + " deleted for replacement");
      return kube::Unit{};
    }
    if (!m.error().is_not_found()) return m.error();  // gone already: the Node itself goes below
  }
  auto r = client_->remove(kube::resources::nodes(), "", n.meta.name, opts);
  if (!r.ok() && !r.error().is_not_found()) return r.error();
  events_.record(node_ref(n), "Normal", "NodeReplaced", p.claim + ": deleted for replacement");
  return kube::Unit{};
}

}  // namespace nonevent::controllers
