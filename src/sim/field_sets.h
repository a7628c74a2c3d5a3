#pragma once
// Sets of field paths, as server-side apply tracks who owns what (kubernetes-sigs/
// structured-merge-diff's fieldpath and typed packages, and the FieldsV1 form managedFields
// carries). A path is a list of elements: "f:<field>" a member of an object, "k:<json>" the
// item of a map-like list whose key fields have those values, "v:<json>" the item of a set,
// "i:<n>" an index (atomic lists are leaves, so only for lists the schema does not know).
#include <cpprest/json.h>

#include <set>
#include <string>
#include <vector>

#include "sim/builtin_schemas.h"

namespace nonevent::sim::fields {

using Path = std::vector<std::string>;
using Set = std::set<Path>;

// FieldsV1 ({"f:spec":{"f:replicas":{}}, with "." marking a member that has members too}).
web::json::value to_fields_v1(const Set& set);
Set from_fields_v1(const web::json::value& tree);

// The fields an applied configuration sets (typed/toset.go): every scalar, atomic list or
// map, and list item, and an object member only when it is empty or not a declared field.
Set of_object(const web::json::value& object, const SchemaNode& schema);

// What changed from `before` to `after` (typed/compare.go). Added and Removed hold every path
// below a field that appeared or went, Modified the leaves whose value differs.
struct Comparison {
  Set added, removed, modified;
};
Comparison compare(const web::json::value& before, const web::json::value& after, const SchemaNode& schema);

// `config` merged into `live` (typed/merge.go): objects member by member, map-like lists item
// by key, sets as unions, everything else replaced.
web::json::value merge(const web::json::value& live, const web::json::value& config, const SchemaNode& schema);

// Removes the field or list item at `path` from `object`; false when it is not there.
bool remove(web::json::value& object, const Path& path, const SchemaNode& schema);

// Whether `path` or one of its ancestors is in `set`.
bool contains(const Set& set, const Path& path);
// a minus b, a and b
Set minus(const Set& a, const Set& b);
Set both(const Set& a, const Set& b);

// "f:spec.f:replicas" -> ".spec.replicas", for conflict messages as kube-apiserver words them.
std::string describe(const Path& path);

}  // namespace nonevent::sim::fields
