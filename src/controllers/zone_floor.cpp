#include "controllers/zone_floor.h"

#include "controllers/drain.h"

namespace nonevent::controllers {

std::set<std::string> zones_left_schedulable(const std::vector<std::shared_ptr<const model::Node>>& nodes, const std::string& zone_label,
                                             const std::set<std::string>& leaving, const std::set<std::string>& zones_out) {
  std::set<std::string> open;
  for (const auto& n : nodes) {
    const model::IStr* z = model::find_label(n->meta.label_set(), zone_label);
    if (!z || zones_out.count(z->str()) || !n->ready || n->unschedulable || leaving.count(n->meta.name)) continue;
    if (claim_of(*n) && read_node_state(*n).state != NodeState::kSurging) continue;  // claimed: going, or gone
    open.insert(z->str());
  }
  return open;
}

bool window_stands_aside(const web::json::value& window, const std::vector<std::shared_ptr<const model::Node>>& nodes) {
  const auto* status = window.is_object() && window.has_field("status") ? &window.at("status") : nullptr;
  if (!status || !status->is_object() || !status->has_field("phase") || !status->at("phase").is_string() ||
      status->at("phase").as_string() != "Blocked")
    return false;
  const auto& meta = window.at("metadata");
  const std::string claim = claim_for("MaintenanceWindow", meta.has_field("name") ? meta.at("name").as_string() : std::string());
  for (const auto& n : nodes)
    if (const auto* c = claim_of(*n); c && *c == claim) return false;
  return true;
}

std::set<std::string> zones_present(const std::vector<std::shared_ptr<const model::Node>>& nodes, const std::string& zone_label) {
  std::set<std::string> all;
  for (const auto& n : nodes)
    if (const model::IStr* z = model::find_label(n->meta.label_set(), zone_label)) all.insert(z->str());
  return all;
}

}  // namespace nonevent::controllers
