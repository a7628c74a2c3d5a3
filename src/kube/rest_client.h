#pragma once
// Generic REST access to any resource by group/version/resource. Bodies in and out are raw
// JSON text: callers decode into compact views (model/) or into web::json when convenient.
// Every failure is an ApiError built from the server's Status.
#include <functional>
#include <mutex>
#include <memory>
#include <string>

#include "kube/api_error.h"
#include "kube/http_transport.h"
#include "kube/resource.h"

namespace nonevent::kube {

enum class PatchType { kJson, kMerge, kStrategicMerge, kApply };
std::string content_type_for(PatchType t);

struct DeleteOptions {
  std::optional<long> grace_period_seconds;
  std::string propagation_policy;  // Background | Foreground | Orphan
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::vector<std::string> dry_run;
  std::string to_json(const std::string& kind = "DeleteOptions",
                      const std::string& api_version = "v1") const;
};

struct PatchOptions {
  std::string field_manager;
  bool force = false;  // server-side apply conflicts
  std::string field_validation;  // Strict | Warn | Ignore
};

// Called on each raw watch event line; return false to stop watching.
using WatchLineHandler = std::function<bool(std::string_view line)>;

// Thread-safe (the transport is).
class RestClient {
 public:
  explicit RestClient(std::shared_ptr<HttpTransport> transport);

  Result<std::string> get(const GroupVersionResource& r, const std::string& ns,
                          const std::string& name, const std::string& subresource = {});
  Result<std::string> list(const GroupVersionResource& r, const std::string& ns,
                           const ListOptions& opts = {});
  Result<std::string> create(const GroupVersionResource& r, const std::string& ns,
                             const std::string& body, const std::string& name = {},
                             const std::string& subresource = {});
  Result<std::string> update(const GroupVersionResource& r, const std::string& ns,
                             const std::string& name, const std::string& body,
                             const std::string& subresource = {});
  Result<std::string> patch(const GroupVersionResource& r, const std::string& ns,
                            const std::string& name, PatchType type, const std::string& body,
                            const std::string& subresource = {}, const PatchOptions& opts = {});
  // Returns the server's answer body (the deleted object or a Status).
  Result<std::string> remove(const GroupVersionResource& r, const std::string& ns,
                             const std::string& name, const DeleteOptions& opts = {});
  // POST policy/v1 Eviction to pods/<name>/eviction. 201 on success; 429 with cause
  // DisruptionBudget when a PDB forbids it; 500 when several PDBs match.
  Result<std::string> evict(const std::string& ns, const std::string& name,
                            const DeleteOptions& opts = {});
  // Streams watch event lines until the server ends the watch (Ok), the handler stops it,
  // `cancel` fires, or a failure (an ApiError: transport, or the server's non-2xx Status).
  Status watch(const GroupVersionResource& r, const std::string& ns, const ListOptions& opts,
               const WatchLineHandler& on_line, CancelToken* cancel = nullptr);
  // Any path (discovery, /version).
  Result<std::string> raw_get(const std::string& path, const std::string& accept = "application/json");

  HttpTransport& transport() { return *transport_; }

  // Called after every request with its verb (get, list, watch, create, update, patch,
  // delete) and the HTTP status, 0 for a transport failure (the API request metrics).
  using RequestObserver = std::function<void(const char* verb, int code)>;
  void set_observer(RequestObserver observer);

 private:
  Result<std::string> finish(const char* verb, Result<HttpResponse> r);
  void observe(const char* verb, int code);
  std::shared_ptr<HttpTransport> transport_;
  std::mutex observer_mu_;
  std::shared_ptr<RequestObserver> observer_;
};

// Convenience: a client from a RestConfig.
std::shared_ptr<RestClient> make_rest_client(const RestConfig& config,
                                             std::shared_ptr<Clock> clock = real_clock());

}  // namespace nonevent::kube
