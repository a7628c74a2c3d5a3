#pragma once
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

 private:
  ListOptions with_selectors(ListOptions o) const;
  std::shared_ptr<RestClient> client_;
  const GroupVersionResource gvr_;
  const std::string ns_, label_selector_, field_selector_;
};

}  // namespace nonevent::kube
