// The CEL subset of the CRDs' validation rules: any bytes as "<rule>\n<JSON self>", compiled
// (or refused) and evaluated (or an error) without a crash.
#include <cstdint>
#include <string>

#include "model/json_parse.h"
#include "sim/cel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string rule = in.substr(0, nl);
  std::error_code ec;
  web::json::value self = nl == std::string::npos ? web::json::value::object() : nonevent::model::parse_json(in.substr(nl + 1), ec);
  if (ec) self = web::json::value::object();
  std::string error;
  auto program = nonevent::sim::cel::Program::compile(rule, error);
  if (program) (void)program->evaluate(self, error);
  return 0;
}
