#pragma once
// Reading members of an API object the operator fetched as JSON (a Deployment, a
// MachineDeployment): a member by path, as text or as a number, absent when missing or of
// another type. (The embedded cluster has its own, sim/json_util.h: the operator's library
// does not depend on it.)
#include <cpprest/json.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace nonevent::controllers::json_path {

inline const web::json::value* at(const web::json::value& v, std::initializer_list<const char*> path) {
  const web::json::value* cur = &v;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->has_field(k)) return nullptr;
    cur = &cur->at(k);
  }
  return cur;
}
inline std::string text(const web::json::value& v, std::initializer_list<const char*> path) {
  const web::json::value* x = at(v, path);
  return x && x->is_string() ? x->as_string() : "";
}
inline int64_t number(const web::json::value& v, std::initializer_list<const char*> path, int64_t def = 0) {
  const web::json::value* x = at(v, path);
  return x && x->is_number() ? x->as_number().to_int64() : def;
}

}  // namespace nonevent::controllers::json_path
