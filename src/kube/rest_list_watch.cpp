#include "kube/rest_list_watch.h"

namespace nonevent::kube {

RestListWatch::RestListWatch(std::shared_ptr<RestClient> client, GroupVersionResource gvr,
                             std::string ns, std::string label_selector,
                             std::string field_selector)
    : client_(std::move(client)), gvr_(std::move(gvr)), ns_(std::move(ns)),
      label_selector_(std::move(label_selector)), field_selector_(std::move(field_selector)) {}

ListOptions RestListWatch::with_selectors(ListOptions o) const {
  if (o.label_selector.empty()) o.label_selector = label_selector_;
  if (o.field_selector.empty()) o.field_selector = field_selector_;
  return o;
}

Result<std::string> RestListWatch::list(const ListOptions& opts) {
  auto r = client_->list(gvr_, ns_, with_selectors(opts));
  if (!r.ok() && r.error().is_not_found() && absent_type_lists_empty_)
    return std::string(R"({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[]})");
  return r;
}

Status RestListWatch::watch(const ListOptions& opts,
                            const std::function<bool(std::string_view)>& on_line,
                            CancelToken* cancel) {
  return client_->watch(gvr_, ns_, with_selectors(opts), on_line, cancel);
}

}  // namespace nonevent::kube
