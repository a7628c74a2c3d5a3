#pragma once
// cpprest's DOM (web::json::value) to JSON text, byte for byte what value::serialize() writes,
// but straight into one string: cpprest's own writer formats every integer with snprintf and
// every key through a character-at-a-time escape, and the embedded cluster serializes each
// object it stores (over a million writes in sim_scale), which made it a sixteenth of the run.
#include <cpprest/json.h>

#include <string>
#include <string_view>

namespace nonevent::model {

// Appends `v` as compact JSON (no whitespace; object members in the DOM's order).
void append_json(std::string& out, const web::json::value& v);
// Whether `s` has a character JSON escapes (a control character, '"' or '\\'): what cpprest
// works out, a byte at a time, for every string value it makes unless told.
bool json_needs_escape(std::string_view s);
// Appends `s` as a JSON string (quoted and escaped as append_json does).
void append_json_string(std::string& out, const std::string& s);
std::string to_json(const web::json::value& v);

}  // namespace nonevent::model
