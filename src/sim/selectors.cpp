#include "sim/selectors.h"

#include <algorithm>
#include <cctype>

namespace nonevent::sim {

bool Requirement::matches(const StringMap& m) const {
  auto it = m.find(key);
  return matches_value(it == m.end() ? nullptr : &it->second);
}

bool Requirement::matches_value(const std::string* v) const {
  const bool has = v != nullptr;
  switch (op) {
    case Op::kEquals: return has && *v == values[0];
    case Op::kNotEquals: return !has || *v != values[0];
    case Op::kIn: return has && std::find(values.begin(), values.end(), *v) != values.end();
    case Op::kNotIn: return !has || std::find(values.begin(), values.end(), *v) == values.end();
    case Op::kExists: return has;
    case Op::kDoesNotExist: return !has;
  }
  return false;
}

bool Selector::matches(const StringMap& m) const {
  return std::all_of(requirements.begin(), requirements.end(),
                     [&](const Requirement& r) { return r.matches(m); });
}

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_top(const std::string& s, std::string& error) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) {
      error = "unbalanced ')' in \"" + s + "\"";
      return {};
    }
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (depth != 0) {
    error = "unbalanced '(' in \"" + s + "\"";
    return {};
  }
  out.push_back(trim(cur));
  return out;
}

bool valid_key(const std::string& k) {
  if (k.empty()) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

std::optional<Requirement> parse_set(const std::string& part, const std::string& word,
                                     Requirement::Op op, std::string& error) {
  const auto pos = part.find(" " + word + " ");
  if (pos == std::string::npos) return std::nullopt;
  Requirement r;
  r.key = trim(part.substr(0, pos));
  r.op = op;
  std::string rest = trim(part.substr(pos + word.size() + 2));
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
    error = "\"" + part + "\": " + word + " needs a parenthesised list";
    return std::nullopt;
  }
  rest = rest.substr(1, rest.size() - 2);
  size_t start = 0;
  while (start <= rest.size()) {
    auto comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    auto v = trim(rest.substr(start, comma - start));
    if (!v.empty()) r.values.push_back(v);
    start = comma + 1;
  }
  if (r.values.empty()) {
    error = "\"" + part + "\": empty value list";
    return std::nullopt;
  }
  return r;
}

SelectorParse parse(const std::string& text, bool field) {
  SelectorParse out;
  Selector sel;
  if (trim(text).empty()) {
    out.selector = sel;
    return out;
  }
  auto parts = split_top(text, out.error);
  if (!out.error.empty()) return out;
  for (const auto& part : parts) {
    if (part.empty()) {
      out.error = "empty requirement in \"" + text + "\"";
      return out;
    }
    Requirement r;
    if (!field) {
      if (auto in = parse_set(part, "in", Requirement::Op::kIn, out.error)) {
        sel.requirements.push_back(*in);
        continue;
      }
      if (auto notin = parse_set(part, "notin", Requirement::Op::kNotIn, out.error)) {
        sel.requirements.push_back(*notin);
        continue;
      }
      if (!out.error.empty()) return out;
    }
    size_t op_pos, op_len;
    if ((op_pos = part.find("!=")) != std::string::npos) {
      r.op = Requirement::Op::kNotEquals;
      op_len = 2;
    } else if ((op_pos = part.find("==")) != std::string::npos) {
      r.op = Requirement::Op::kEquals;
      op_len = 2;
    } else if ((op_pos = part.find('=')) != std::string::npos) {
      r.op = Requirement::Op::kEquals;
      op_len = 1;
    } else if (!field && part[0] == '!') {
      r.op = Requirement::Op::kDoesNotExist;
      r.key = trim(part.substr(1));
      if (!valid_key(r.key)) {
        out.error = "invalid label key \"" + r.key + "\"";
        return out;
      }
      sel.requirements.push_back(r);
      continue;
    } else if (!field) {
      r.op = Requirement::Op::kExists;
      r.key = part;
      if (!valid_key(r.key)) {
        out.error = "invalid label key \"" + r.key + "\"";
        return out;
      }
      sel.requirements.push_back(r);
      continue;
    } else {
      out.error = "invalid field selector \"" + part + "\": expected field=value or field!=value";
      return out;
    }
    r.key = trim(part.substr(0, op_pos));
    r.values = {trim(part.substr(op_pos + op_len))};
    if (!valid_key(r.key)) {
      out.error = std::string("invalid ") + (field ? "field" : "label key") + " \"" + r.key + "\"";
      return out;
    }
    sel.requirements.push_back(r);
  }
  out.selector = sel;
  return out;
}

}  // namespace

SelectorParse parse_label_selector(const std::string& text) { return parse(text, false); }
SelectorParse parse_field_selector(const std::string& text) { return parse(text, true); }

std::string label_index_key(const std::string& ns, const std::string& key, const std::string& value) {
  return ns + '\x1f' + key + '=' + value;
}

std::string label_index_key(const std::string& ns, const Selector& selector) {
  for (const auto& r : selector.requirements)
    if ((r.op == Requirement::Op::kEquals || r.op == Requirement::Op::kIn) && r.values.size() == 1)
      return label_index_key(ns, r.key, r.values[0]);
  return "";
}

}  // namespace nonevent::sim
