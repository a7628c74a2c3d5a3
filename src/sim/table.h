#pragma once
// meta.k8s.io/v1 Table rendering for `kubectl get`: the columns kubectl users expect for
// the kinds they look at most, CRD printer columns, NAME/AGE for the rest.
#include <cpprest/json.h>

#include <string>
#include <vector>

#include "kube/clock.h"
#include "sim/resource_types.h"

namespace nonevent::sim {

// `objects` are full objects; rows carry PartialObjectMetadata (or the object when
// include_object is "Object").
web::json::value render_table(const ResourceType& type, const std::vector<web::json::value>& objects,
                              kube::TimePoint now, const std::string& include_object,
                              const std::string& resource_version, const std::string& continue_token);

// "5m", "3h", "2d" as kubectl prints ages.
std::string human_age(kube::TimePoint created, kube::TimePoint now);

}  // namespace nonevent::sim
