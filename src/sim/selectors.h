#pragma once
// Label and field selectors in the API server's query syntax
// ("app=web,tier in (a,b),!canary", "spec.nodeName=n1,status.phase!=Failed").
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nonevent::sim {

using StringMap = std::map<std::string, std::string>;

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
  bool matches(const StringMap& m) const;
};

struct Selector {
  std::vector<Requirement> requirements;
  bool empty() const { return requirements.empty(); }
  bool matches(const StringMap& m) const;
};

// Parse errors name the offending part, for a 400 BadRequest the user can act on.
struct SelectorParse {
  std::optional<Selector> selector;
  std::string error;
};
SelectorParse parse_label_selector(const std::string& text);
// Field selectors allow only =, == and != (as the API server does).
SelectorParse parse_field_selector(const std::string& text);

}  // namespace nonevent::sim
