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
  // The same for the value the key has (null: the key is absent).
  bool matches_value(const std::string* value) const;
};

struct Selector {
  std::vector<Requirement> requirements;
  bool empty() const { return requirements.empty(); }
  bool matches(const StringMap& m) const;
  // Matches labels wherever they are kept: `lookup(key)` gives a key's value or null.
  template <class Lookup>
  bool matches_with(Lookup lookup) const {
    for (const auto& r : requirements)
      if (!r.matches_value(lookup(r.key))) return false;
    return true;
  }
};

// Parse errors name the offending part, for a 400 BadRequest the user can act on.
struct SelectorParse {
  std::optional<Selector> selector;
  std::string error;
};
SelectorParse parse_label_selector(const std::string& text);
// Field selectors allow only =, == and != (as the API server does).
SelectorParse parse_field_selector(const std::string& text);

// The key of a label index (the sim's cache, the PDB index): "<namespace>\x1f<key>=<value>"; for a selector, that of its
// first equality requirement ("" when it has none and only a namespace scan will do).
std::string label_index_key(const std::string& ns, const std::string& key, const std::string& value);
std::string label_index_key(const std::string& ns, const Selector& selector);

}  // namespace nonevent::sim
