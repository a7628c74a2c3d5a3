#pragma once
// Releases claims whose owner is gone (design 2.2, issue 23.3): a node claimed by a
// MaintenanceWindow or PatchCampaign that no longer exists (its finalizer stripped, its CRD
// deleted, an operator that died between claim and status) is released exactly as the owner's
// own restore would (uncordoned only if we cordoned it), with a Warning Event on the node and a
// log line. Keyed by node; runs for every claimed node when the caches sync and whenever an
// owner disappears.
#include <memory>
#include <string>

#include "controllers/drain.h"
#include "controllers/other_disruptors.h"
#include "controllers/reconciler.h"

namespace nonevent::controllers {

class ClaimSweeper final : public Reconciler {
 public:
  ClaimSweeper(std::shared_ptr<kube::RestClient> client, NodeInformer& nodes, PodInformer& pods, PdbInformer* pdbs,
               GenericInformer& windows, GenericInformer& campaigns, kube::EventRecorder& events,
               OtherDisruptorSources others = {});
  // `name` is a node's.
  ReconcileResult reconcile(const std::string& name) override;
  // The owner a claim names ("MaintenanceWindow/x" → windows cache, name x), or null for a
  // claim this operator does not make.
  static std::pair<const char*, std::string> owner_of(const std::string& claim);

 private:
  std::shared_ptr<kube::RestClient> client_;
  NodeInformer& nodes_;
  GenericInformer& windows_;
  GenericInformer& campaigns_;
  kube::EventRecorder& events_;
  Drainer drainer_;
  OtherDisruptorSources others_;
};

}  // namespace nonevent::controllers
