#pragma once
// The three patch formats the API server accepts for built-in kinds (custom resources take
// the first two; a strategic merge patch on one is 415, as in Kubernetes).
#include <cpprest/json.h>

#include <string>

#include "sim/builtin_schemas.h"

namespace nonevent::sim {

// On failure the target is left partly patched: callers discard it.
struct PatchResult {
  bool ok = true;
  int code = 200;       // 400/422 on a bad patch
  std::string message;  // what was wrong
};

// RFC 6902: add, remove, replace, move, copy, test, with JSON pointers.
PatchResult apply_json_patch(web::json::value& target, const web::json::value& patch);
// RFC 7386: objects merge, null deletes, everything else replaces.
void apply_merge_patch(web::json::value& target, const web::json::value& patch);
// Kubernetes strategic merge patch: as merge patch, but lists with a merge key in the object's
// schema (containers by name, conditions by type, ...) merge element-wise; `$patch: delete|replace|merge`,
// `$setElementOrder/<list>`, `$retainKeys` and `$deleteFromPrimitiveList/<list>` directives.
PatchResult apply_strategic_merge_patch(web::json::value& target, const web::json::value& patch, const SchemaNode& schema);

}  // namespace nonevent::sim
