#pragma once
// The part of CEL (the Common Expression Language) CRD validation rules
// (x-kubernetes-validations) are written in, evaluated the way kube-apiserver does against
// `self`: literals (int, double, string, bool, null, lists), field selection, has(),
// ! && || with CEL's error absorption (false && error is false, true || error is true),
// == != < <= > >=, `in` a list, the ternary, size(), timestamp(), duration(), int(),
// string(), type() against int/string/bool/double/list/map, and the string methods matches,
// startsWith, endsWith, contains, size. A rule using anything else (macros such as all()
// and exists(), arithmetic, messageExpression) does not compile, and the embedded API server
// skips it rather than rejecting objects it cannot judge.
#include <cpprest/json.h>

#include <memory>
#include <optional>
#include <string>

namespace nonevent::sim::cel {

struct Node;

class Program {
 public:
  // Compiles a rule; on failure returns nullopt and sets `error`.
  static std::optional<Program> compile(const std::string& rule, std::string& error);
  // Evaluates against `self`: true/false, or nullopt with `error` set (an evaluation error,
  // e.g. selecting a field that is absent, which kube-apiserver reports as a failed rule).
  std::optional<bool> evaluate(const web::json::value& self, std::string& error) const;

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace nonevent::sim::cel
