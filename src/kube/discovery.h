#pragma once
// Resolves what a user types ("po", "deploy", "nodes", "mw", "deployments.apps") to a
// resource, the way kubectl does: from the server's discovery documents.
#include <optional>
#include <string>
#include <vector>

#include "kube/rest_client.h"

namespace nonevent::kube {

struct ApiResource {
  GroupVersionResource gvr;
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> verbs;
  std::vector<std::string> categories;
};

// Reads /api/v1 and every group's preferred version under /apis. Subresources are skipped.
Result<std::vector<ApiResource>> discover(RestClient& client);

// Matches plural, singular, short name, or Kind (case-insensitive), optionally with a
// ".group" suffix. Core and well-known groups win ties, as kubectl's priority does.
std::optional<ApiResource> find_resource(const std::vector<ApiResource>& all, const std::string& name);

}  // namespace nonevent::kube
