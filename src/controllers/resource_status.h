#pragma once
// Writing a custom resource's status and finalizers the way API conventions ask: conditions
// with observedGeneration and a lastTransitionTime that only moves when the status flips;
// writes that start from a fresh read (the cache may lag behind our own last write) and are
// conditional on its resourceVersion, retried on conflict; nothing written when unchanged.
#include <cpprest/json.h>

#include <functional>
#include <string>

#include "kube/clock.h"
#include "kube/rest_client.h"
#include "planner/preflight.h"

namespace nonevent::controllers {

web::json::value condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
                           int64_t generation, const web::json::value& old_status, kube::TimePoint now);

// A status.blockers list (the CRDs bound it to 20 entries: the first, most important ones).
web::json::value blockers_json(const std::vector<planner::PreflightBlocker>& blockers, size_t limit = 20);

bool condition_is_true(const web::json::value& status, const std::string& type);

// The JSON merge patch that turns `current` into `target`: `target` with every field it lacks
// nulled, at every depth of nested objects (arrays are replaced whole).
web::json::value merge_patch_to(const web::json::value& current, const web::json::value& target);

class ResourceWriter {
 public:
  ResourceWriter(kube::RestClient& client, kube::GroupVersionResource gvr, std::string name)
      : client_(client), gvr_(std::move(gvr)), name_(std::move(name)) {}
  kube::Result<web::json::value> fresh() const;
  // Sets status to what `build(current status)` returns, unless equal. `known`, when given,
  // is taken as the current object (no GET first); a conflict reads it fresh and builds again.
  kube::Status write_status(const std::function<web::json::value(const web::json::value& current)>& build,
                            const web::json::value* known = nullptr) const;
  // Merge-patches spec fields (the controller pausing a campaign by itself).
  kube::Status patch_spec(const web::json::value& spec_patch) const;
  kube::Status add_finalizer(const std::string& finalizer) const;
  kube::Status remove_finalizer(const std::string& finalizer) const;
  // The resourceVersion of the newest version this writer read or wrote ("" if none): a
  // cache holding exactly this version is as fresh as a GET would be.
  const std::string& newest_seen() const { return newest_seen_; }

 private:
  void saw(const std::string& body) const;
  kube::Status patch_metadata_finalizers(const std::function<web::json::value(const web::json::value&)>& edit) const;
  kube::RestClient& client_;
  kube::GroupVersionResource gvr_;
  std::string name_;
  mutable std::string newest_seen_;
};

bool has_finalizer(const web::json::value& obj, const std::string& finalizer);

}  // namespace nonevent::controllers
