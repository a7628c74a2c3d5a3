#pragma once
// Design 7.2's cluster-wide rule: never fewer than minAvailableZones schedulable zones,
// counting every claim whoever made it (windows, campaigns, other operators) and every zone a
// window holds or is about to evacuate. One computation for every controller, so two of our
// CRs that each respect the floor cannot break it together.
#include <cpprest/json.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "model/objects.h"

namespace nonevent::controllers {

// The zones (values of `zone_label`) that keep a Ready, schedulable node nobody has claimed
// for disruption once the nodes in `leaving` go, less the zones in `zones_out` (held by a
// window). A surge claim keeps its node schedulable, so it does not count as leaving.
std::set<std::string> zones_left_schedulable(const std::vector<std::shared_ptr<const model::Node>>& nodes, const std::string& zone_label,
                                             const std::set<std::string>& leaving, const std::set<std::string>& zones_out);

// Every zone some node of the cluster is in.
std::set<std::string> zones_present(const std::vector<std::shared_ptr<const model::Node>>& nodes, const std::string& zone_label);

// A window that is Blocked and holds no node (it touched nothing: bad input, the zone floor,
// a failed preflight) takes no zone from anyone: other windows and campaigns do not count
// its zones as going. `window` is the MaintenanceWindow object as stored.
bool window_stands_aside(const web::json::value& window, const std::vector<std::shared_ptr<const model::Node>>& nodes);

// The default floor when no window states one (design 1.1: safety.minAvailableZones: 2).
inline constexpr int kDefaultMinAvailableZones = 2;

}  // namespace nonevent::controllers
