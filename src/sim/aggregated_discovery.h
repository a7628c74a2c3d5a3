#pragma once
// Aggregated discovery (apidiscovery.k8s.io/v2, GA in 1.30): /api and /apis answer in one
// document with every resource of every group version, when the client asks for it in its
// Accept header as kubectl, Helm and client-go do. Saves them a request per group version.
#include <cpprest/json.h>

#include <string>
#include <utility>
#include <vector>

#include "sim/resource_types.h"

namespace nonevent::sim {

inline constexpr const char* kAggregatedDiscoveryType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

// Whether an Accept header asks for the aggregated v2 document.
bool wants_aggregated_discovery(const std::string& accept);

// The APIGroupDiscoveryList for /api (`core`: the legacy group "") or /apis (every named
// group, in `groups` order, each version's resources with their subresources).
web::json::value aggregated_discovery(const std::vector<ResourceType>& types,
                                      const std::vector<std::pair<std::string, std::vector<std::string>>>& groups, bool core);

}  // namespace nonevent::sim
