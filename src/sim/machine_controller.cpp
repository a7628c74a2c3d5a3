// Cluster API's part when a Machine is deleted: its Node goes too (the provisioner then
// brings a replacement into the zone, as a MachineSet would). Only what the operator's
// Replace strategy relies on; the Machine CRD is whatever a test or user applies.
#include "sim/controllers.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

class MachineController final : public SimController {
 public:
  const char* name() const override { return "machine"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    for (const auto& ch : snap.cache->changed("cluster.x-k8s.io/machines")) {
      if (ch.object) continue;
      const auto node = str(ch.last(), {"status", "nodeRef", "name"});
      if (!node.empty()) sim.remove(object_path("v1", "nodes", "", node));
    }
  }
};

}  // namespace

std::unique_ptr<SimController> make_machine_controller() { return std::make_unique<MachineController>(); }

}  // namespace nonevent::sim
