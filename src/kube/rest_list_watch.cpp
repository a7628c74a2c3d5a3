#include "kube/rest_list_watch.h"

#include <thread>

namespace nonevent::kube {

RestListWatch::RestListWatch(std::shared_ptr<RestClient> client, GroupVersionResource gvr,
                             std::string ns, std::string label_selector,
                             std::string field_selector)
    : client_(std::move(client)), gvr_(std::move(gvr)), ns_(std::move(ns)),
      label_selector_(std::move(label_selector)), field_selector_(std::move(field_selector)) {}

ListOptions RestListWatch::with_selectors(ListOptions o) const {
  if (o.label_selector.empty()) o.label_selector = label_selector_;
  if (o.field_selector.empty()) o.field_selector = field_selector_;
  if (o.accept.empty()) o.accept = accept_;
  return o;
}

Result<std::string> RestListWatch::list(const ListOptions& opts) {
  auto r = client_->list(gvr_, ns_, with_selectors(opts));
  absent_ = !r.ok() && r.error().is_not_found();
  if (absent_ && absent_type_lists_empty_)
    return std::string(R"({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[]})");
  return r;
}

Status RestListWatch::watch(const ListOptions& opts,
                            const std::function<bool(std::string_view)>& on_line,
                            CancelToken* cancel) {
  if (optional_recheck_ && absent_) {
    // Nothing to watch: wait (promptly cancelled), then have the watcher list again.
    const auto until = std::chrono::steady_clock::now() + *optional_recheck_;
    while (std::chrono::steady_clock::now() < until && !(cancel && cancel->cancelled()))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return ApiError::from_response(410, R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,)"
                                        R"("message":")" + gvr_.resource + R"( is not served: listing again"})");
  }
  return client_->watch(gvr_, ns_, with_selectors(opts), on_line, cancel);
}

}  // namespace nonevent::kube
