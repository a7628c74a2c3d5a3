#include "model/json_parse.h"

#include <simdjson.h>

#include <utility>
#include <vector>

#include "model/json_write.h"

namespace nonevent::model {

using web::json::value;

namespace {

value build(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::OBJECT: {
      const simdjson::dom::object o = e.get_object().value_unsafe();
      std::vector<std::pair<utility::string_t, value>> members;
      members.reserve(o.size());
      for (const auto field : o) members.emplace_back(std::string(field.key), build(field.value));
      return value::object(std::move(members));  // sorted by key, as cpprest's parser leaves them
    }
    case T::ARRAY: {
      const simdjson::dom::array a = e.get_array().value_unsafe();
      std::vector<value> items;
      items.reserve(a.size());
      for (const auto item : a) items.push_back(build(item));
      return value::array(std::move(items));
    }
    case T::STRING: {
      // Telling cpprest whether it needs escaping spares its byte-at-a-time look.
      const std::string_view s = e.get_string().value_unsafe();
      return value::string(std::string(s), json_needs_escape(s));
    }
    case T::INT64: return value::number(e.get_int64().value_unsafe());
    case T::UINT64: return value::number(e.get_uint64().value_unsafe());
    case T::DOUBLE: return value::number(e.get_double().value_unsafe());
    case T::BOOL: return value::boolean(e.get_bool().value_unsafe());
    case T::NULL_VALUE: break;
  }
  return value::null();
}

}  // namespace

value parse_json(std::string_view text, std::error_code& ec) {
  return parse_json_member(text, {}, ec);
}

value parse_json_member(std::string_view text, std::initializer_list<const char*> path, std::error_code& ec) {
  ec.clear();
  thread_local simdjson::dom::parser parser;  // reuses its buffers from call to call
  simdjson::dom::element e;
  if (parser.parse(text.data(), text.size()).get(e) != simdjson::SUCCESS) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return value::null();
  }
  for (const char* key : path) {
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS || o[key].get(e) != simdjson::SUCCESS) return value::null();
  }
  return build(e);
}

}  // namespace nonevent::model
