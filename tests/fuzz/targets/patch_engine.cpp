// The embedded cluster's patch engine: any bytes as a JSON patch, a merge patch and a
// strategic-merge patch of a Deployment (with the real schema's merge keys).
#include <cstdint>
#include <string>

#include "model/json_parse.h"
#include "sim/builtin_schemas.h"
#include "sim/patch.h"

namespace {
const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"},
"finalizers":["a"]},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
"spec":{"containers":[{"name":"app","image":"nginx","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}],
"tolerations":[{"key":"k","operator":"Exists"}]}}}})";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::error_code ec;
  const web::json::value patch = nonevent::model::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  const web::json::value base = nonevent::model::parse_json(kDeployment, ec);
  if (patch.is_array()) {
    web::json::value t = base;
    (void)nonevent::sim::apply_json_patch(t, patch);
  }
  web::json::value m = base;
  nonevent::sim::apply_merge_patch(m, patch);
  web::json::value s = base;
  (void)nonevent::sim::apply_strategic_merge_patch(s, patch, nonevent::sim::SchemaNode::for_kind("apps", "v1", "Deployment"));
  return 0;
}
