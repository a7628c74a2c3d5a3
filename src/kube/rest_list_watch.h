#pragma once
#include <atomic>
#include <chrono>
#include <optional>
#include <memory>

#include "kube/rest_client.h"
#include "kube/watch_types.h"

namespace nonevent::kube {

// Lists and watches one resource (optionally one namespace, label/field selector) on the
// API server.
class RestListWatch final : public ListWatchSource {
 public:
  RestListWatch(std::shared_ptr<RestClient> client, GroupVersionResource gvr,
                std::string ns = {}, std::string label_selector = {},
                std::string field_selector = {});
  Result<std::string> list(const ListOptions& opts) override;
  Status watch(const ListOptions& opts, const std::function<bool(std::string_view)>& on_line,
               CancelToken* cancel) override;
  std::string describe() const override { return gvr_.resource; }
  // Asks for protobuf first, as client-go's controllers do for built-in types
  // (kube-controller-manager's --kube-api-content-type): for pods, whose codec reads it
  // (model/codecs_protobuf.h). A server that has no protobuf answers JSON, which is read too.
  RestListWatch& prefer_protobuf() {
    accept_ = "application/vnd.kubernetes.protobuf, application/json";
    return *this;
  }
  // For a custom resource: while its type is not served (404: the CRD is absent or deleted),
  // lists answer empty instead of failing, so a cache of it syncs as empty and its objects
  // read as gone (the operator then releases what they held). Watches still fail, and the
  // watcher lists again after its backoff, so the objects come back with the CRD.
  RestListWatch& absent_type_lists_empty() {
    absent_type_lists_empty_ = true;
    return *this;
  }
  // For another tool's type that may never be installed (medik8s' NodeMaintenance): lists
  // answer empty while it is not served, as above, and a watch then waits quietly for
  // `recheck` and asks for a relist (410), so the cache syncs, stays empty without ever
  // counting as failing (readiness), and finds the type within `recheck` once it is installed.
  RestListWatch& optional_type(std::chrono::milliseconds recheck = std::chrono::seconds(30)) {
    absent_type_lists_empty_ = true;
    optional_recheck_ = recheck;
    return *this;
  }

 private:
  ListOptions with_selectors(ListOptions o) const;
  std::shared_ptr<RestClient> client_;
  const GroupVersionResource gvr_;
  const std::string ns_, label_selector_, field_selector_;
  std::string accept_;  // empty: JSON
  bool absent_type_lists_empty_ = false;
  std::optional<std::chrono::milliseconds> optional_recheck_;
  std::atomic<bool> absent_{false};  // the last list found the type not served
};

}  // namespace nonevent::kube
