#include "sim/schema_validation.h"

#include <regex>

#include "sim/cel.h"
#include "sim/api_request_util.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using detail::str;

// Applies a CRD's structural-schema defaults to an object (recursively, where absent).
namespace {
void prune(value& obj, const value& schema, const std::string& path, bool root, std::vector<std::string>& out) {
  if (!schema.is_object()) return;
  if (schema.has_field("x-kubernetes-preserve-unknown-fields") && schema.at("x-kubernetes-preserve-unknown-fields").is_boolean() &&
      schema.at("x-kubernetes-preserve-unknown-fields").as_bool())
    return;
  if (obj.is_array() && schema.has_field("items")) {
    for (size_t i = 0; i < obj.size(); ++i) prune(obj[i], schema.at("items"), path + "[" + std::to_string(i) + "]", false, out);
    return;
  }
  if (!obj.is_object() || !schema.has_field("properties") || schema.has_field("additionalProperties")) return;
  const auto& props = schema.at("properties");
  std::vector<std::string> gone;
  for (const auto& [k, v] : obj.as_object()) {
    if (root && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
    if (!props.has_field(k)) gone.push_back(k);
  }
  for (const auto& k : gone) {
    obj.erase(k);
    out.push_back(path.empty() ? k : path + "." + k);
  }
  for (auto& [k, v] : obj.as_object())
    if (props.has_field(k)) prune(v, props.at(k), path.empty() ? k : path + "." + k, false, out);
}
}  // namespace

std::vector<std::string> prune_unknown_fields(value& obj, const value& schema) {
  std::vector<std::string> out;
  prune(obj, schema, "", true, out);
  return out;
}

void apply_defaults(value& obj, const value& schema) {
  if (!schema.is_object()) return;
  if (obj.is_object() && schema.has_field("properties") && schema.at("properties").is_object()) {
    for (const auto& [k, sub] : schema.at("properties").as_object()) {
      if (!obj.has_field(k) && sub.has_field("default")) obj[k] = sub.at("default");
      if (obj.has_field(k)) apply_defaults(obj[k], sub);
    }
  }
  if (obj.is_array() && schema.has_field("items"))
    for (size_t i = 0; i < obj.size(); ++i) apply_defaults(obj[i], schema.at("items"));
}

// x-kubernetes-validations: each CEL rule with `self` = the value at `path`; a false rule or an
// evaluation error is the rule's message at the path (or the rule's fieldPath under it), as
// kube-apiserver words it. A rule outside the CEL subset sim/cel.h evaluates is skipped.
static void validate_rules(const value& obj, const value& schema, const std::string& path, std::vector<std::string>& errs) {
  if (!schema.has_field("x-kubernetes-validations") || !schema.at("x-kubernetes-validations").is_array()) return;
  const char* kind = obj.is_object() ? "object" : obj.is_array() ? "array" : obj.is_string() ? "string" : obj.is_boolean() ? "boolean"
                                                                                                          : obj.is_integer() ? "integer" : "number";
  for (const auto& r : schema.at("x-kubernetes-validations").as_array()) {
    const std::string rule = str(r, "rule");
    std::string err;
    auto program = cel::Program::compile(rule, err);
    if (!program) continue;
    auto ok = program->evaluate(obj, err);
    if (ok && *ok) continue;
    std::string message = str(r, "message");
    if (message.empty()) message = "failed rule: " + rule;
    if (!ok) message = err + " evaluating rule: " + rule;
    errs.push_back(path + str(r, "fieldPath") + ": Invalid value: \"" + kind + "\": " + message);
  }
}

// Structural validation of the schema subset CRDs use most: types, required, enum, minimum,
// maximum, minItems, maxItems, minLength, pattern; then the CEL rules. Errors are "field: message".
void validate(const value& obj, const value& schema, const std::string& path, std::vector<std::string>& errs) {
  if (!schema.is_object()) return;
  if (schema.has_field("x-kubernetes-int-or-string") && schema.at("x-kubernetes-int-or-string").as_bool()) {
    if (!obj.is_string() && !obj.is_integer()) errs.push_back(path + ": Invalid value: must be an integer or a string");
    else validate_rules(obj, schema, path, errs);
    return;
  }
  const size_t errs_before = errs.size();
  const std::string type = str(schema, "type");
  auto bad_type = [&](const char* want) { errs.push_back(path + ": Invalid value: \"" + obj.serialize() + "\": " + path + " in body must be of type " + want); };
  if (type == "object" && !obj.is_object()) return bad_type("object");
  if (type == "array" && !obj.is_array()) return bad_type("array");
  if (type == "string" && !obj.is_string()) return bad_type("string");
  if (type == "integer" && !obj.is_integer()) return bad_type("integer");
  if (type == "number" && !obj.is_number()) return bad_type("number");
  if (type == "boolean" && !obj.is_boolean()) return bad_type("boolean");
  if (schema.has_field("enum") && schema.at("enum").is_array()) {
    bool found = false;
    for (const auto& e : schema.at("enum").as_array()) found = found || e.serialize() == obj.serialize();
    if (!found) {
      std::string allowed;
      for (const auto& e : schema.at("enum").as_array()) allowed += (allowed.empty() ? "" : ", ") + e.serialize();
      errs.push_back(path + ": Unsupported value: " + obj.serialize() + ": supported values: " + allowed);
    }
  }
  if (obj.is_number()) {
    if (schema.has_field("minimum") && obj.as_double() < schema.at("minimum").as_double())
      errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should be greater than or equal to " + schema.at("minimum").serialize());
    if (schema.has_field("maximum") && obj.as_double() > schema.at("maximum").as_double())
      errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should be less than or equal to " + schema.at("maximum").serialize());
  }
  if (obj.is_array()) {
    if (schema.has_field("minItems") && obj.size() < static_cast<size_t>(schema.at("minItems").as_integer()))
      errs.push_back(path + ": Invalid value: " + std::to_string(obj.size()) + ": " + path + " in body should have at least " + schema.at("minItems").serialize() + " items");
    if (schema.has_field("maxItems") && obj.size() > static_cast<size_t>(schema.at("maxItems").as_integer()))
      errs.push_back(path + ": Too many: " + std::to_string(obj.size()) + ": must have at most " + schema.at("maxItems").serialize() + " items");
    if (schema.has_field("items"))
      for (size_t i = 0; i < obj.size(); ++i) validate(obj.at(i), schema.at("items"), path + "[" + std::to_string(i) + "]", errs);
    // x-kubernetes-list-type: set: every item once (kube-apiserver's words).
    if (str(schema, "x-kubernetes-list-type") == "set")
      for (size_t i = 1; i < obj.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (obj.at(i) == obj.at(j)) {
            errs.push_back(path + "[" + std::to_string(i) + "]: Duplicate value: " + obj.at(i).serialize());
            break;
          }
  }
  if (obj.is_string() && schema.has_field("pattern")) {
    try {
      if (!std::regex_search(obj.as_string(), std::regex(schema.at("pattern").as_string())))
        errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should match '" +
                       schema.at("pattern").as_string() + "'");
    } catch (const std::regex_error&) {
      // A pattern std::regex cannot compile (RE2-only syntax) is not enforced here.
    }
  }
  if (obj.is_string() && str(schema, "format") == "date-time" && !kube::parse_rfc3339(obj.as_string()))
    errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body must be of type date-time");
  if (obj.is_string() && schema.has_field("minLength") &&
      obj.as_string().size() < static_cast<size_t>(schema.at("minLength").as_integer()))
    errs.push_back(path + ": Invalid value: " + obj.serialize() + ": " + path + " in body should be at least " + schema.at("minLength").serialize() + " chars long");
  if (obj.is_object()) {
    if (schema.has_field("required") && schema.at("required").is_array())
      for (const auto& r : schema.at("required").as_array())
        if (!obj.has_field(r.as_string())) errs.push_back(path + "." + r.as_string() + ": Required value");
    if (schema.has_field("properties") && schema.at("properties").is_object()) {
      const auto& props = schema.at("properties");
      for (const auto& [k, v] : obj.as_object()) {
        if (props.has_field(k)) validate(v, props.at(k), path + "." + k, errs);
      }
    }
    if (schema.has_field("additionalProperties") && schema.at("additionalProperties").is_object())
      for (const auto& [k, v] : obj.as_object()) validate(v, schema.at("additionalProperties"), path + "." + k, errs);
  }
  // Rules judge a value that is well-formed (as the API server does, they would only add noise).
  if (errs.size() == errs_before) validate_rules(obj, schema, path, errs);
}

}  // namespace nonevent::sim
