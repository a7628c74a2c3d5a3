#pragma once
// A CustomResourceDefinition's structural schema applied to an object, as kube-apiserver's
// apiextensions-apiserver does (pkg/apiserver/schema/defaulting, pkg/apiserver/validation and
// pkg/apiserver/schema/cel): defaults filled where absent, then types, enums, bounds,
// patterns and required fields checked, then x-kubernetes-validations (the CEL subset of
// sim/cel.h). Errors are kube-apiserver's field-path messages.
#include <cpprest/json.h>

#include <string>
#include <vector>

namespace nonevent::sim {

// Drops every field `schema` does not declare (an object's properties, unless it has
// x-kubernetes-preserve-unknown-fields or additionalProperties; apiVersion, kind and metadata
// at the top stay), and returns their paths ("spec.evacuateBefor").
std::vector<std::string> prune_unknown_fields(web::json::value& obj, const web::json::value& schema);
// Applies the schema's defaults to `obj` (recursively, where absent).
void apply_defaults(web::json::value& obj, const web::json::value& schema);
// Appends to `errs` every way `obj` (at `path`, e.g. "spec") breaks `schema`.
void validate(const web::json::value& obj, const web::json::value& schema, const std::string& path, std::vector<std::string>& errs);

}  // namespace nonevent::sim
