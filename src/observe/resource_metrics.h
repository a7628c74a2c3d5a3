#pragma once
// Metrics about the MaintenanceWindows and PatchCampaigns themselves, computed at scrape
// time from the manager's caches (the kube-state-metrics pattern): their status is the
// truth, so every replica reports the same numbers and a restart loses nothing. Labels are
// the object's name (few objects) plus small fixed sets (zone, state, phase).
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>

#include "controllers/manager.h"
#include "kube/clock.h"

namespace nonevent::observe {

class ResourceMetrics final : public prometheus::Collectable {
 public:
  ResourceMetrics(const controllers::Manager& manager, std::shared_ptr<kube::Clock> clock)
      : manager_(manager), clock_(std::move(clock)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const controllers::Manager& manager_;
  std::shared_ptr<kube::Clock> clock_;
};

}  // namespace nonevent::observe
