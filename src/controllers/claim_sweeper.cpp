#include "controllers/claim_sweeper.h"

#include "kube/log.h"

namespace nonevent::controllers {

ClaimSweeper::ClaimSweeper(std::shared_ptr<kube::RestClient> client, NodeInformer& nodes, PodInformer& pods, PdbInformer* pdbs,
                           GenericInformer& windows, GenericInformer& campaigns, kube::EventRecorder& events,
                           OtherDisruptorSources others)
    : client_(std::move(client)), nodes_(nodes), windows_(windows), campaigns_(campaigns), events_(events),
      drainer_(*client_, events_, pods, pdbs), others_(others) {}

std::pair<const char*, std::string> ClaimSweeper::owner_of(const std::string& claim) {
  for (const char* kind : {"MaintenanceWindow", "PatchCampaign"}) {
    const std::string prefix = std::string(kind) + "/";
    if (claim.rfind(prefix, 0) == 0) return {kind, claim.substr(prefix.size())};
  }
  return {nullptr, ""};
}

ReconcileResult ClaimSweeper::reconcile(const std::string& name) {
  const auto node = nodes_.get(name);
  if (!node) return done();
  // A patched node's scale-down protection outliving its campaign.
  if (const auto* by = node->annotation(kProtectedBy)) {
    const auto [kind, owner] = owner_of(*by);
    if (kind && !campaigns_.get(owner)) {
      logging::warn("claimsweeper", "ending a protection whose campaign no longer exists", {{"node", name}, {"protectedBy", *by}});
      if (auto st = drainer_.unprotect(*node); !st.ok()) return st.error();
    }
  }
  const auto* claim = claim_of(*node);
  if (!claim) return done();
  const auto [kind, owner] = owner_of(*claim);
  if (!kind) {
    logging::warn("claimsweeper", "claim names no kind this operator knows; left alone", {{"node", name}, {"claim", *claim}});
    return done();
  }
  GenericInformer& owners = std::string(kind) == "MaintenanceWindow" ? windows_ : campaigns_;
  if (owners.get(owner)) return done();  // alive: its controller holds the node
  const std::string why = "its owner " + *claim + " no longer exists (orphaned claim)";
  logging::warn("claimsweeper", "releasing an orphaned claim: its owner no longer exists", {{"node", name}, {"claim", *claim}});
  // Not uncordoned under another tool that took the node meanwhile (as a restore would not).
  if (auto st = release_unless_taken(drainer_, *node, other_holds({node}, others_), false, why); !st.ok()) return st.error();
  events_.record(node_ref(*node), "Warning", "OrphanedClaimReleased", why + ": released as its owner's restore would");
  return done();
}

}  // namespace nonevent::controllers
