#pragma once
// The embedded Kubernetes API server's request handling, free of sockets: a request comes
// in, a response (or a watch session producing event lines) goes out. http_server.cpp puts
// it on the wire; tests and in-process controllers can call it directly.
#include <chrono>
#include <iosfwd>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "kube/clock.h"
#include "sim/faults.h"
#include "sim/object_store.h"
#include "sim/pdb_selector_index.h"
#include "sim/builtin_schemas.h"
#include "sim/authentication.h"
#include "sim/rbac_authorizer.h"
#include "sim/resource_types.h"

namespace nonevent::sim {

struct ApiRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // An in-process caller's body as a DOM (the simulated cluster's controllers), used instead
  // of `body` and taken (moved out) by the handler that reads it: writing the DOM out only
  // for the server to parse it back was a tenth of a big simulation. Everything else about
  // the request is served as the same body in JSON would be.
  mutable std::optional<web::json::value> body_value;
  // An in-process caller's whole new status for a PATCH of a status subresource (the
  // simulated kubelets'), as the store writes JSON (compact, members in key order): served
  // as the JSON patch adding /status with it would be, and spliced into the stored text as it
  // is when the object allows (ObjectStore::update_status_text), without a DOM on either
  // side. The caller vouches for its form; a pod's two status writes were a fifth of a big
  // simulation, most of it building, writing out and reading back the status's DOM.
  std::optional<std::string> status_json;
  // An in-process caller that reads only the answer's code (the simulated cluster's
  // components): a successful write's answer then carries no object. Copying the stored
  // object into every answer, 1.3 million of them in a big simulation, was work nobody read.
  bool object_unread = false;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Produces the lines of one watch response, then ends.
class WatchSession {
 public:
  virtual ~WatchSession() = default;
  // The next event line (newline-terminated JSON), waiting up to `wait`. Empty when there was
  // nothing to send in that time. done() says the watch is over.
  virtual std::optional<std::string> next(std::chrono::milliseconds wait) = 0;
  virtual bool done() const = 0;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  std::shared_ptr<WatchSession> watch;  // set: stream this instead of body
};

struct ApiServerOptions {
  // The cluster admin's token (authentication.h); empty: no authentication, everyone is admin.
  std::string bearer_token;
  // Authorize each request by the cluster's own RBAC objects (rbac_authorizer.h); needs a
  // bearer_token, since an anonymous request has no one to authorize.
  bool rbac = false;
  std::chrono::milliseconds bookmark_interval{60'000};
  std::string server_version = "v1.32.0-nonevent-sim";
};

// Records each request's verb and resource (the RBAC test compares the chart with this).
struct RequestRecord {
  std::string user_agent, verb, group, resource, subresource, ns;
  int code = 0;
  long count = 0;  // how many times this exact request was seen
};

class ApiServer {
 public:
  ApiServer(std::shared_ptr<ObjectStore> store, std::shared_ptr<kube::Clock> clock, ApiServerOptions opts = {});
  // Fills `store` with storage saved by ObjectStore::save (`sim serve --state`), indexed as this
  // server indexes what it writes; done before a server is made on the store, which then serves
  // it as a restarted kube-apiserver serves etcd's (CRDs registered, PDBs and RBAC indexed).
  static void restore_storage(ObjectStore& store, std::istream& saved);
  ApiResponse handle(const ApiRequest& req);
  // Creates an object given as a whole (manifests, snapshots): its apiVersion and kind say
  // where it goes. Lists (kind: List or *List with items) create each item.
  // The token clients must present (empty: none). The simulated components present it too, as
  // kube-controller-manager and the kubelets present their credentials.
  const std::string& bearer_token() const { return opts_.bearer_token; }
  ApiResponse create_object(const web::json::value& obj);

  ObjectStore& store() { return *store_; }
  // With kubelets simulated, deleting a pod bound to a node marks it terminating and the
  // kubelet removes it after its grace period; without them deletion is immediate.
  void set_graceful_pod_deletion(bool on) { graceful_pods_ = on; }
  ResourceTypes& types() { return types_; }
  std::vector<RequestRecord> requests() const;
  FaultInjector& faults() { return faults_; }
  // Ends every open watch cleanly (clients re-watch from their last resourceVersion), as a
  // dropped connection or an API server restart would.
  void drop_watches() { store_->close_watches(); }

 private:
  struct Target {
    ResourceTypePtr type;
    std::string ns, name, subresource;
    bool object_unread = false;  // ApiRequest::object_unread: a write answers without the object
    // Who writes (managedFields): ?fieldManager=, else the user agent's product, as
    // kube-apiserver names a manager; `field_manager_asked` when the client named one.
    std::string field_manager;
    bool field_manager_asked = false;
    bool apply = false;  // a server-side apply's write: its managedFields are already made
    std::string field_validation;  // the fieldValidation query: Strict | Warn (default) | Ignore
  };
  ApiResponse route(const ApiRequest& req, RequestRecord& rec, const UserInfo& user);
  // 403 as kube-apiserver words it when RBAC is on and no rule allows the request.
  std::optional<ApiResponse> forbidden(const ApiRequest& req, const Target& t, const std::string& verb, const UserInfo& user) const;
  // POST serviceaccounts/<name>/token (TokenRequest), and the review APIs a secure metrics
  // endpoint asks (TokenReview, SubjectAccessReview): token_request.cpp.
  ApiResponse token_request(const ApiRequest& req, const Target& t);
  ApiResponse review(const ApiRequest& req, const Target& t);
  ApiResponse discovery(const ApiRequest& req, bool& handled);
  ApiResponse control(const ApiRequest& req);
  ApiResponse openapi_v3(const std::string& path);
  web::json::value merge_update(const Target& t, web::json::value current, web::json::value obj);
  // 422 when an update of a pod changes what pod_update_rules.h does not allow.
  std::optional<ApiResponse> pod_update_refused(const Target& t, const web::json::value& current,
                                                const web::json::value& obj);
  std::optional<Target> parse_target(const std::string& path, ApiResponse& error);

  ApiResponse get(const ApiRequest& req, const Target& t);
  ApiResponse list(const ApiRequest& req, const Target& t);
  ApiResponse watch(const ApiRequest& req, const Target& t);
  static void as_protobuf_watch_if_asked(const ApiRequest& req, const ResourceType& type, ApiResponse& r);
  ApiResponse create(const ApiRequest& req, const Target& t);
  ApiResponse replace(const ApiRequest& req, const Target& t);
  ApiResponse patch(const ApiRequest& req, const Target& t);
  // One attempt at a patch whose body is `patch_body` (nullopt: not valid JSON). The body is
  // as it was when the attempt returns (for the next attempt), though it may be moved from
  // and back meanwhile.
  ApiResponse patch_once(const ApiRequest& req, const Target& t, std::optional<web::json::value>& patch_body,
                         bool& retryable);
  // patch_once for the status subresource of a built-in kind without a DOM of the whole
  // object (status_patch.cpp); nullopt when the patch is not of the shape it takes (the
  // general path then applies it).
  std::optional<ApiResponse> patch_status_in_place(const Target& t, const StoredPtr& current, web::json::value& patch,
                                                   const std::string& content_type, bool& retryable);
  // The same for an ApiRequest::status_json.
  std::optional<ApiResponse> status_json_in_place(const Target& t, const StoredPtr& current, const std::string& status_json,
                                                  bool& retryable);
  ApiResponse remove(const ApiRequest& req, const Target& t);
  // DELETE of a collection: every object the label and field selectors select, each as a delete
  // would; answered with the list of what was deleted, as kube-apiserver does.
  ApiResponse remove_collection(const ApiRequest& req, const Target& t);
  ApiResponse evict(const ApiRequest& req, const Target& t);
  ApiResponse bind(const ApiRequest& req, const Target& t);
  // PATCH application/apply-patch+yaml (apply_patch.cpp).
  ApiResponse apply(const ApiRequest& req, const Target& t);
  SchemaNode schema_of(const ResourceType& type) const;
  // <resource>/scale (scale.cpp): an autoscaling/v1 Scale view of spec.replicas.
  ApiResponse scale(const ApiRequest& req, const Target& t, const std::string& verb);

  // Writes one object of `t` after the API server's rules (status subresource, generation,
  // immutable metadata, finalizers); `current` is null for creates.
  ApiResponse write(const Target& t, web::json::value obj, const StoredPtr& current,
                    const std::string& expected_rv, int ok_code);
  // Deletes honouring finalizers and owner-reference garbage collection.
  kube::Result<StoredPtr> delete_object(const ResourceType& type, const std::string& ns,
                                        const std::string& name, const std::string& propagation,
                                        const std::string& pre_uid, const std::string& pre_rv,
                                        std::optional<long> grace_seconds = std::nullopt);
  void collect_garbage(const std::string& owner_uid, const std::string& propagation);
  void on_crd_change(const web::json::value& crd, bool deleted);
  // A Terminating CRD: deletes its custom resources (each waits for its finalizers), and once
  // none is left lets the CRD go (crd_registration.cpp).
  void delete_custom_resources(const std::string& crd_name);
  // The name of `type`'s CRD when that CRD is Terminating, else "".
  std::string terminating_crd_of(const ResourceType& type) const;

  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<kube::Clock> clock_;
  const ApiServerOptions opts_;
  ResourceTypes types_;
  std::shared_ptr<PdbSelectorIndex> pdbs_;  // for evictions
  mutable std::mutex records_mu_;
  // Distinct requests, guarded by records_mu_. Hashed: every request files itself here, and
  // ordered keys sharing a long prefix ("nonevent-sim\npatch\n...") cost a dozen string
  // comparisons each.
  std::unordered_map<std::string, RequestRecord> records_;
  std::atomic<bool> graceful_pods_{false};
  FaultInjector faults_;
  Authenticator authn_;
  std::unique_ptr<RbacAuthorizer> authz_;  // set when opts_.rbac
};

// JSON of a metav1.Status failure (what every error response carries).
std::string status_json(int code, const std::string& reason, const std::string& message,
                        const std::string& details_json = "");
ApiResponse error_response(int code, const std::string& reason, const std::string& message,
                           const std::string& details_json = "");

}  // namespace nonevent::sim
