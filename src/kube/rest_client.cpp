#include "kube/rest_client.h"

#include <cpprest/json.h>

#include "kube/watch_framer.h"

namespace nonevent::kube {

std::string content_type_for(PatchType t) {
  switch (t) {
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/json";
}

std::string DeleteOptions::to_json(const std::string& kind, const std::string& api_version) const {
  using web::json::value;
  value v = value::object();
  v["kind"] = value::string(kind);
  v["apiVersion"] = value::string(api_version);
  if (grace_period_seconds) v["gracePeriodSeconds"] = value::number(static_cast<int64_t>(*grace_period_seconds));
  if (!propagation_policy.empty()) v["propagationPolicy"] = value::string(propagation_policy);
  if (!precondition_uid.empty() || !precondition_resource_version.empty()) {
    value p = value::object();
    if (!precondition_uid.empty()) p["uid"] = value::string(precondition_uid);
    if (!precondition_resource_version.empty())
      p["resourceVersion"] = value::string(precondition_resource_version);
    v["preconditions"] = p;
  }
  if (!dry_run.empty()) {
    value d = value::array();
    for (size_t i = 0; i < dry_run.size(); ++i) d[i] = value::string(dry_run[i]);
    v["dryRun"] = d;
  }
  return v.serialize();
}

RestClient::RestClient(std::shared_ptr<HttpTransport> transport) : transport_(std::move(transport)) {}

void RestClient::set_observer(RequestObserver observer) {
  std::lock_guard g(observer_mu_);
  observer_ = std::make_shared<RequestObserver>(std::move(observer));
}

void RestClient::observe(const char* verb, int code) {
  std::shared_ptr<RequestObserver> o;
  {
    std::lock_guard g(observer_mu_);
    o = observer_;
  }
  if (o && *o) (*o)(verb, code);
}

Result<std::string> RestClient::finish(const char* verb, Result<HttpResponse> r) {
  observe(verb, r.ok() ? r.value().status : 0);
  if (!r.ok()) return r.error();
  auto& resp = r.value();
  if (resp.status >= 200 && resp.status < 300) return std::move(resp.body);
  return ApiError::from_response(resp.status, resp.body, resp.retry_after);
}

Result<std::string> RestClient::get(const GroupVersionResource& r, const std::string& ns,
                                    const std::string& name, const std::string& subresource) {
  return finish("get", transport_->send({.method = "GET", .target = r.path(ns, name, subresource)}));
}

Result<std::string> RestClient::list(const GroupVersionResource& r, const std::string& ns,
                                     const ListOptions& opts) {
  HttpRequest req{.method = "GET", .target = r.path(ns) + opts.query()};
  if (!opts.accept.empty()) req.accept = opts.accept;
  return finish("list", transport_->send(req));
}

Result<std::string> RestClient::create(const GroupVersionResource& r, const std::string& ns,
                                       const std::string& body, const std::string& name,
                                       const std::string& subresource) {
  return finish("create", transport_->send({.method = "POST",
                                  .target = r.path(ns, name, subresource),
                                  .body = body,
                                  .content_type = "application/json"}));
}

Result<std::string> RestClient::update(const GroupVersionResource& r, const std::string& ns,
                                       const std::string& name, const std::string& body,
                                       const std::string& subresource) {
  return finish("update", transport_->send({.method = "PUT",
                                  .target = r.path(ns, name, subresource),
                                  .body = body,
                                  .content_type = "application/json"}));
}

Result<std::string> RestClient::patch(const GroupVersionResource& r, const std::string& ns,
                                      const std::string& name, PatchType type,
                                      const std::string& body, const std::string& subresource,
                                      const PatchOptions& opts) {
  std::string q;
  auto add = [&](const char* k, const std::string& v) {
    q += q.empty() ? '?' : '&';
    q += std::string(k) + "=" + url_encode(v);
  };
  if (!opts.field_manager.empty()) add("fieldManager", opts.field_manager);
  else if (type == PatchType::kApply) add("fieldManager", "nonevent");
  if (opts.force) add("force", "true");
  if (!opts.field_validation.empty()) add("fieldValidation", opts.field_validation);
  return finish("patch", transport_->send({.method = "PATCH",
                                  .target = r.path(ns, name, subresource) + q,
                                  .body = body,
                                  .content_type = content_type_for(type)}));
}

Result<std::string> RestClient::remove(const GroupVersionResource& r, const std::string& ns,
                                       const std::string& name, const DeleteOptions& opts) {
  return finish("delete", transport_->send({.method = "DELETE",
                                  .target = r.path(ns, name),
                                  .body = opts.to_json(),
                                  .content_type = "application/json"}));
}

Result<std::string> RestClient::evict(const std::string& ns, const std::string& name,
                                      const DeleteOptions& opts) {
  using web::json::value;
  value ev = value::object();
  ev["apiVersion"] = value::string("policy/v1");
  ev["kind"] = value::string("Eviction");
  value meta = value::object();
  meta["name"] = value::string(name);
  meta["namespace"] = value::string(ns);
  ev["metadata"] = meta;
  std::error_code ec;
  ev["deleteOptions"] = value::parse(opts.to_json("DeleteOptions", "meta.k8s.io/v1"), ec);
  return finish("create", transport_->send({.method = "POST",
                                  .target = resources::pods().path(ns, name, "eviction"),
                                  .body = ev.serialize(),
                                  .content_type = "application/json"}));
}

Status RestClient::watch(const GroupVersionResource& r, const std::string& ns,
                         const ListOptions& opts, const WatchLineHandler& on_line,
                         CancelToken* cancel) {
  std::string q = opts.query();
  q += q.empty() ? "?watch=true" : "&watch=true";
  HttpRequest req{.method = "GET", .target = r.path(ns) + q};
  if (!opts.accept.empty()) req.accept = opts.accept;
  // The server holds a watch open for timeoutSeconds; the per-read idle timeout must be
  // longer than the gap between bookmarks (about a minute on kube-apiserver).
  const long secs = opts.timeout_seconds.value_or(300);
  req.timeout = std::chrono::milliseconds((secs + 90) * 1000);
  WatchFramer splitter;  // lines of JSON, or length-prefixed protobuf when that was asked for
  bool stopped_by_handler = false;
  auto res = transport_->stream(
      req,
      [&](std::string_view data) {
        if (!splitter.feed(data, on_line)) {
          stopped_by_handler = !splitter.overflowed();
          return false;
        }
        return true;
      },
      cancel);
  observe("watch", res.ok() ? res.value().status : 0);
  if (!res.ok()) return res.error();
  if (splitter.overflowed())
    return ApiError::transport("watch " + r.resource + ": an event exceeded the line limit");
  const auto& resp = res.value();
  if (resp.status < 200 || resp.status >= 300)
    return ApiError::from_response(resp.status, resp.body, resp.retry_after);
  (void)stopped_by_handler;
  return Unit{};
}

Result<std::string> RestClient::raw_get(const std::string& path, const std::string& accept) {
  return finish("get", transport_->send({.method = "GET", .target = path, .accept = accept}));
}

std::shared_ptr<RestClient> make_rest_client(const RestConfig& config, std::shared_ptr<Clock> clock) {
  return std::make_shared<RestClient>(std::make_shared<HttpTransport>(config, std::move(clock)));
}

}  // namespace nonevent::kube
