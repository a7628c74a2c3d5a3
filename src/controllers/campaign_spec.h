#pragma once
// A PatchCampaign's spec (design 1.2) as the controller uses it, parsed and checked. Problems
// come back as "field: message" strings for the InvalidSpec condition and Event. The CRD's
// schema and CEL rules reject most of these at admission; the controller checks again
// because a CRD can be installed without them, and bad input must never half-run.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "controllers/campaign_schedule.h"
#include "controllers/drain_policy.h"
#include "controllers/health_checks.h"
#include "model/objects.h"

namespace nonevent::controllers {

// How a drained node gets its new version (spec.strategy.type).
enum class Strategy {
  kInPlace,   // a Job pinned to the node patches it (and reboots it)
  kReplace,   // the node (or its Cluster API Machine) is deleted and a new one awaited
  kExternal,  // an annotation asks an outside agent, which makes the node report the target
};
const char* to_string(Strategy s);
std::optional<Strategy> parse_strategy(const std::string& text);

struct CampaignSpec {
  std::string version;
  std::string source = "Label";  // Label | Annotation | OSImage | KernelVersion | KubeletVersion
  std::string key = "nonevent.dev/image-version";
  std::optional<model::LabelSelector> node_selector;
  std::vector<std::string> zones;  // empty: every zone in name order
  std::string zone_label = "topology.kubernetes.io/zone";
  Strategy strategy = Strategy::kInPlace;
  model::IntOrPercent max_unavailable{true, 10};
  model::IntOrPercent max_surge{false, 0};
  int zones_in_parallel = 1;
  int canary_nodes = 1;
  kube::Duration canary_soak = std::chrono::minutes(10);
  kube::Duration batch_soak{};
  web::json::value job_template;  // InPlace
  kube::Duration node_timeout = std::chrono::minutes(30);
  std::string external_annotation = "nonevent.dev/desired-version";
  kube::Duration deadline = std::chrono::hours(12);
  int max_failed_nodes = 1;
  std::string failure_action = "Pause";  // Pause | Abort
  bool keep_failed_cordoned = false;      // failurePolicy.keepFailedNodesCordoned
  // failurePolicy.undrainable: Quarantine leaves a node whose drain runs past drainTimeout
  // cordoned and marked and moves on; past maxQuarantinedNodes the campaign pauses instead.
  // Wait (false) waits on it as long as it takes.
  bool quarantine_undrainable = false;
  kube::Duration drain_timeout = std::chrono::minutes(30);
  int max_quarantined_nodes = 1;
  std::optional<CampaignSchedule> schedule;  // spec.schedule: when new batches may start
  std::optional<HealthChecks> health;        // spec.healthChecks: what must hold before each batch
  bool respect_windows = true;
  DrainPolicy drain;
  bool paused = false;

  // What `node` reports for the campaign's version source.
  std::string reported_version(const model::Node& node) const;
  bool selects(const model::Node& node) const;
  // maxUnavailable resolved against a zone of `zone_nodes` nodes: percentages round down,
  // but never below one node (a zone must be able to make progress).
  // Nodes a zone may have out at once: percentages round down, as a Deployment's do, and to
  // at least one unless maxSurge carries the rollout (maxUnavailable 0, maxSurge > 0).
  int max_unavailable_in(int zone_nodes) const;
  // New nodes a zone may have above its size at once (Replace): percentages round up.
  int max_surge_in(int zone_nodes) const;
  // Nodes a zone has in flight at once: maxUnavailable plus, for Replace, maxSurge; at least 1.
  int nodes_at_once_in(int zone_nodes) const;
};

struct ParsedCampaign {
  std::optional<CampaignSpec> spec;
  std::vector<std::string> problems;
};
ParsedCampaign parse_campaign_spec(const web::json::value& spec);

}  // namespace nonevent::controllers
