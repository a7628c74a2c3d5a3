#include "controllers/other_disruptors.h"

#include <cpprest/json.h>

namespace nonevent::controllers {

using web::json::value;

namespace {

bool has_taint(const model::Node& n, std::string_view key) {
  for (const auto& t : n.taints)
    if (t.key.str() == key) return true;
  return false;
}

void add(OtherHolds& out, const std::string& node, std::string holder, std::string reason) {
  out.try_emplace(node, OtherHold{std::move(holder), std::move(reason)});  // the first mark found names it
}

}  // namespace

OtherHolds other_holds(const std::vector<std::shared_ptr<const model::Node>>& nodes, const OtherDisruptorSources& sources) {
  std::vector<KuredLock> locks;
  if (sources.kured)
    for (const auto& ds : sources.kured->list()) locks.push_back(read_kured_lock(*ds));
  return other_holds(nodes, sources.node_maintenances ? sources.node_maintenances->list() : std::vector<std::shared_ptr<const model::GenericObject>>{},
                     locks);
}

OtherHolds other_holds(const std::vector<std::shared_ptr<const model::Node>>& nodes,
                       const std::vector<std::shared_ptr<const model::GenericObject>>& node_maintenances,
                       const std::vector<KuredLock>& kured_locks) {
  OtherHolds out;
  std::map<std::string, std::string> maintenance;  // node → NodeMaintenance name
  for (const auto& nm : node_maintenances) {
    std::error_code ec;
    const value v = value::parse(nm->json, ec);
    if (ec || !v.has_field("spec") || !v.at("spec").has_field("nodeName") || !v.at("spec").at("nodeName").is_string()) continue;
    maintenance.emplace(v.at("spec").at("nodeName").as_string(), nm->meta.name);
  }
  std::vector<std::string> kured_nodes;
  for (const auto& lock : kured_locks) kured_nodes.insert(kured_nodes.end(), lock.holders.begin(), lock.holders.end());
  for (const auto& n : nodes) {
    const std::string& name = n->meta.name;
    if (std::find(kured_nodes.begin(), kured_nodes.end(), name) != kured_nodes.end())
      add(out, name, "kured", "kured holds its reboot lock for the node (" + std::string(kKuredLockAnnotation) + ")");
    if (auto m = maintenance.find(name); m != maintenance.end())
      add(out, name, "node-maintenance-operator", "NodeMaintenance " + m->second + " puts the node in maintenance");
    if (has_taint(*n, kNodeMaintenanceDrainTaint))
      add(out, name, "node-maintenance-operator", std::string("tainted ") + kNodeMaintenanceDrainTaint);
    if (const auto* v = model::find_label(n->meta.label_set(), kExcludeFromRemediation); v && v->str() == "true")
      add(out, name, "node-maintenance-operator", std::string("labelled ") + kExcludeFromRemediation + "=true");
    if (has_taint(*n, kKarpenterDisruptedTaint))
      add(out, name, "karpenter", std::string("tainted ") + kKarpenterDisruptedTaint + ": Karpenter is removing it");
    if (has_taint(*n, kToBeDeletedByAutoscaler))
      add(out, name, "cluster-autoscaler", std::string("tainted ") + kToBeDeletedByAutoscaler + ": the autoscaler is removing it");
    if (const auto* q = n->annotation(kQuarantinedBy); q && n->unschedulable && !claim_of(*n)) {
      const auto* why = n->annotation(kQuarantineReason);
      add(out, name, *q, "quarantined" + (why ? ": " + *why : std::string()) + " (remove " + kQuarantinedBy + " and uncordon to return it)");
    }
    if (n->unschedulable && !claim_of(*n)) add(out, name, kUnknownHolder, "cordoned by someone else (no nonevent claim)");
  }
  return out;
}

const OtherHold* held_by_tool(const OtherHolds& holds, const std::string& node) {
  const auto it = holds.find(node);
  return it != holds.end() && it->second.by_tool() ? &it->second : nullptr;
}

kube::Status release_unless_taken(Drainer& drainer, const model::Node& node, const OtherHolds& holds, bool keep_cordoned,
                                  const std::string& why) {
  if (const auto* tool = held_by_tool(holds, node.meta.name))
    return drainer.release(node, true, why + "; left cordoned: " + tool->holder + " holds it (" + tool->reason + ")");
  return drainer.release(node, keep_cordoned, why);
}

std::string describe(const OtherHolds& holds, size_t max_listed) {
  std::string out;
  size_t listed = 0;
  for (const auto& [node, h] : holds) {
    if (listed++ == max_listed) {
      out += "; and " + std::to_string(holds.size() - max_listed) + " more";
      break;
    }
    out += (out.empty() ? "" : "; ") + h.who() + " holds " + node + " (" + h.reason + ")";
  }
  return out;
}

}  // namespace nonevent::controllers
