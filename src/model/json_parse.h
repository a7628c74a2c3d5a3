#pragma once
// JSON text to cpprest's DOM (web::json::value), parsed by simdjson. The embedded cluster
// turns every stored object back into a DOM before it patches it or its controllers read it;
// cpprest's own parser reads a character at a time and was a seventh of the simulation.
// Same DOM as web::json::value::parse (object members sorted by key, integers as integers),
// but strict RFC 8259 input: invalid UTF-8 is refused rather than copied through.
#include <cpprest/json.h>

#include <initializer_list>
#include <string_view>
#include <system_error>

namespace nonevent::model {

web::json::value parse_json(std::string_view text, std::error_code& ec);
// Only the member at `path` (object keys from the root) as a DOM; null when absent. Reading one
// field this way skips building the rest of the tree, which is most of a parse's cost.
web::json::value parse_json_member(std::string_view text, std::initializer_list<const char*> path, std::error_code& ec);

}  // namespace nonevent::model
