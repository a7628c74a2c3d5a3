// Any bytes as YAML manifests: each document's spec read as a MaintenanceWindow's and as a
// PatchCampaign's. Bad input is a list of problems, never a crash; a spec read as valid
// resolves its next occurrence without one either; health checks read as valid are evaluated
// (no Prometheus, no cluster: every Prometheus check fails closed) and their gate is run over
// the document's own status.health, as a restarted operator reads what it wrote.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "controllers/campaign_spec.h"
#include "controllers/health_checks.h"
#include "controllers/window_spec.h"
#include "kube/clock.h"
#include "sim/yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<web::json::value> docs;
  try {
    docs = nonevent::sim::parse_yaml_documents(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const YAML::Exception&) {
    return 0;
  }
  for (const auto& d : docs) {
    const auto spec = d.is_object() && d.has_field("spec") ? d.at("spec") : d;
    auto w = nonevent::controllers::parse_window_spec(spec);
    if (w.spec) (void)w.spec->resolve(*nonevent::kube::parse_rfc3339("2026-12-01T00:00:00Z"));
    // A schedule read as valid is asked what is open and when work would end (spec.schedule).
    auto c = nonevent::controllers::parse_campaign_spec(spec);
    if (c.spec && c.spec->schedule) {
      const auto t = *nonevent::kube::parse_rfc3339("2026-12-01T00:00:00Z");
      (void)c.spec->schedule->gate(t);
      (void)c.spec->schedule->finish_after(t, std::chrono::hours(30));
    }
    if (c.spec && c.spec->health) {
      const auto t = *nonevent::kube::parse_rfc3339("2026-12-01T00:00:00Z");
      const web::json::value status = d.is_object() && d.has_field("status") && d.at("status").is_object() && d.at("status").has_field("health")
                                          ? d.at("status").at("health")
                                          : web::json::value::null();
      const auto& h = *c.spec->health;
      (void)nonevent::controllers::run_health_gate(h, status, t, false, [&] { return nonevent::controllers::evaluate_health(h, nullptr, {}, t); });
    }
  }
  return 0;
}
