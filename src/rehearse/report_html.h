#pragma once
// The rehearsal as one self-contained HTML file (`nonevent rehearse --report`): inline SVG and
// CSS, no script from anywhere, so it opens offline and can be attached to a change request.
// Ready replicas per zone over time for each workload that moved (a spread trap shows as a zone
// that never fills again), nodes per state over time, PodDisruptionBudget waits as bars, and a
// campaign's batches on a timeline.
#include <cpprest/json.h>

#include <string>

namespace nonevent::rehearse {

// `timeline`: RehearsalResult::timeline.
std::string report_html(const web::json::value& timeline);

}  // namespace nonevent::rehearse
