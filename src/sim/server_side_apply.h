#pragma once
// Server-side apply, and the managedFields every tracked write keeps (kube-apiserver's
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager over structured-merge-
// diff's merge.Updater): who set which field, conflicts when an apply would change a field
// another manager owns, force to take it, and fields an applier stops sending removed unless
// someone else owns them.
#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "sim/builtin_schemas.h"
#include "sim/field_sets.h"

namespace nonevent::sim {

struct ManagedEntry {
  std::string manager, operation, api_version, time, subresource;
  fields::Set set;
};
std::vector<ManagedEntry> read_managed_fields(const web::json::value& object);

struct ApplyOutcome {
  int code = 200;  // 409 on conflicts, 422/400 on a bad configuration
  std::string reason, message;
  web::json::value details;  // StatusDetails with one cause per conflicting field
  web::json::value object;   // the object to store (with managedFields) when code < 300
  bool unchanged = false;    // nothing would change: no write needed
};

struct ApplyRequest {
  const web::json::value* live = nullptr;  // null: the apply creates the object
  web::json::value config;                 // the applied configuration
  std::string manager, now, api_version;
  bool force = false;
  bool ignore_status = false;  // the kind has a status subresource: the main resource's applies ignore status
  SchemaNode schema;
};
ApplyOutcome server_side_apply(const ApplyRequest& req);

// A write other than an apply (create, update, patch) by `manager`: the fields it changed
// become its own (operation Update), taken from whoever held them. `subresource` "status"
// records only status, the main resource everything but it when `ignore_status`.
void record_update(const web::json::value* before, web::json::value& after, const std::string& manager, const std::string& subresource,
                   bool ignore_status, const std::string& api_version, const std::string& now, const SchemaNode& schema);

}  // namespace nonevent::sim
