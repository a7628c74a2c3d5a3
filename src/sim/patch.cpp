#include "sim/patch.h"

#include <algorithm>
#include <map>

namespace nonevent::sim {

using web::json::value;

// ---------- RFC 6902 ----------
namespace {

std::vector<std::string> pointer_tokens(const std::string& ptr, bool& ok) {
  std::vector<std::string> out;
  ok = true;
  if (ptr.empty()) return out;
  if (ptr[0] != '/') {
    ok = false;
    return out;
  }
  size_t start = 1;
  while (start <= ptr.size()) {
    auto slash = ptr.find('/', start);
    if (slash == std::string::npos) slash = ptr.size();
    std::string tok = ptr.substr(start, slash - start);
    std::string un;
    for (size_t i = 0; i < tok.size(); ++i) {
      if (tok[i] == '~' && i + 1 < tok.size() && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
        un.push_back(tok[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        un.push_back(tok[i]);
      }
    }
    out.push_back(un);
    start = slash + 1;
  }
  return out;
}

// The parent container of the location and the last token.
value* resolve_parent(value& root, const std::vector<std::string>& toks) {
  value* cur = &root;
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    const auto& t = toks[i];
    if (cur->is_object()) {
      if (!cur->has_field(t)) return nullptr;
      cur = &cur->at(t);
    } else if (cur->is_array()) {
      size_t idx;
      try {
        idx = std::stoul(t);
      } catch (const std::exception&) {
        return nullptr;
      }
      if (idx >= cur->size()) return nullptr;
      cur = &cur->at(idx);
    } else {
      return nullptr;
    }
  }
  return cur;
}

value* resolve(value& root, const std::vector<std::string>& toks) {
  if (toks.empty()) return &root;
  value* parent = resolve_parent(root, toks);
  if (!parent) return nullptr;
  const auto& last = toks.back();
  if (parent->is_object()) return parent->has_field(last) ? &parent->at(last) : nullptr;
  if (parent->is_array()) {
    try {
      size_t idx = std::stoul(last);
      return idx < parent->size() ? &parent->at(idx) : nullptr;
    } catch (const std::exception&) {
      return nullptr;
    }
  }
  return nullptr;
}

bool remove_at(value& root, const std::vector<std::string>& toks, value* removed) {
  if (toks.empty()) return false;
  value* parent = resolve_parent(root, toks);
  if (!parent) return false;
  const auto& last = toks.back();
  if (parent->is_object()) {
    if (!parent->has_field(last)) return false;
    if (removed) *removed = parent->at(last);
    parent->erase(last);
    return true;
  }
  if (parent->is_array()) {
    size_t idx;
    try {
      idx = std::stoul(last);
    } catch (const std::exception&) {
      return false;
    }
    if (idx >= parent->size()) return false;
    if (removed) *removed = parent->at(idx);
    value arr = value::array();
    size_t j = 0;
    for (size_t i = 0; i < parent->size(); ++i)
      if (i != idx) arr[j++] = parent->at(i);
    *parent = arr;
    return true;
  }
  return false;
}

bool add_at(value& root, const std::vector<std::string>& toks, const value& v) {
  if (toks.empty()) {
    root = v;
    return true;
  }
  value* parent = resolve_parent(root, toks);
  if (!parent) return false;
  const auto& last = toks.back();
  if (parent->is_object()) {
    (*parent)[last] = v;
    return true;
  }
  if (parent->is_array()) {
    size_t idx = parent->size();
    if (last != "-") {
      try {
        idx = std::stoul(last);
      } catch (const std::exception&) {
        return false;
      }
      if (idx > parent->size()) return false;
    }
    value arr = value::array();
    size_t j = 0;
    for (size_t i = 0; i <= parent->size(); ++i) {
      if (i == idx) arr[j++] = v;
      if (i < parent->size()) arr[j++] = parent->at(i);
    }
    *parent = arr;
    return true;
  }
  return false;
}

PatchResult fail(int code, std::string msg) { return {false, code, std::move(msg)}; }

}  // namespace

namespace {
// A member of the wrong JSON type anywhere in a patch ("$patch": 1, "op": []) is a bad
// request, answered 400, not an exception out of the server (found by tests/fuzz
// patch_engine). As with any failed patch the target is left part-patched, and callers
// discard it.
template <typename Apply>
PatchResult guarded(value& target, Apply apply) {
  try {
    return apply(target);
  } catch (const web::json::json_exception& e) {
    return fail(400, std::string("malformed patch: ") + e.what());
  }
}
}  // namespace

namespace {
PatchResult json_patch(value& target, const value& patch) {
  if (!patch.is_array()) return fail(400, "a JSON patch must be an array of operations");
  for (const auto& op : patch.as_array()) {
    if (!op.is_object() || !op.has_field("op") || !op.has_field("path"))
      return fail(400, "each JSON patch operation needs \"op\" and \"path\"");
    const auto kind = op.at("op").as_string();
    const auto path = op.at("path").as_string();
    bool ok;
    auto toks = pointer_tokens(path, ok);
    if (!ok) return fail(400, "invalid JSON pointer \"" + path + "\"");
    if (kind == "add" || kind == "replace") {
      if (!op.has_field("value")) return fail(400, kind + " " + path + ": missing value");
      if (kind == "replace" && !resolve(target, toks))
        return fail(422, "replace operation does not apply: doc is missing path: " + path);
      if (kind == "replace" && !toks.empty()) {
        *resolve(target, toks) = op.at("value");
      } else if (!add_at(target, toks, op.at("value"))) {
        return fail(422, "add operation does not apply: doc is missing path: " + path);
      }
    } else if (kind == "remove") {
      if (!remove_at(target, toks, nullptr))
        return fail(422, "remove operation does not apply: doc is missing path: " + path);
    } else if (kind == "move" || kind == "copy") {
      if (!op.has_field("from")) return fail(400, kind + ": missing from");
      auto from = pointer_tokens(op.at("from").as_string(), ok);
      value* src = resolve(target, from);
      if (!ok || !src) return fail(422, kind + " operation does not apply: doc is missing from path");
      value v = *src;
      if (kind == "move") remove_at(target, from, nullptr);
      if (!add_at(target, toks, v)) return fail(422, kind + " operation does not apply: doc is missing path: " + path);
    } else if (kind == "test") {
      value* at = resolve(target, toks);
      if (!at || !op.has_field("value") || at->serialize() != op.at("value").serialize())
        return fail(422, "testing value " + path + " failed");
    } else {
      return fail(400, "unknown JSON patch operation \"" + kind + "\"");
    }
  }
  return {};
}

// ---------- RFC 7386 ----------
}  // namespace

PatchResult apply_json_patch(value& target, const value& patch) {
  return guarded(target, [&](value& t) { return json_patch(t, patch); });
}

void apply_merge_patch(value& target, const value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = value::object();
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      if (target.has_field(k)) target.erase(k);
    } else {
      apply_merge_patch(target[k], v);
    }
  }
}

// ---------- strategic merge patch ----------
namespace {

// Lists merge as the object's schema says (builtin_schemas.h): by x-kubernetes-patch-merge-key
// (containers by name, a Service's ports by port, a container's by containerPort), primitive
// lists with patch strategy "merge" as a union (finalizers), every other list replaced whole.
PatchResult smp(value& target, const value& patch, const SchemaNode& schema);

bool same_key(const value& a, const value& b, const std::string& key) {
  return a.is_object() && b.is_object() && a.has_field(key) && b.has_field(key) &&
         a.at(key).serialize() == b.at(key).serialize();
}

PatchResult merge_list(value& target, const value& patch, const std::string& key, const SchemaNode& item) {
  if (!target.is_array()) target = value::array();
  std::vector<value> items(target.as_array().begin(), target.as_array().end());
  for (const auto& p : patch.as_array()) {
    if (!p.is_object() || !p.has_field(key)) {
      // "$patch: replace" as an element replaces the whole list with the others.
      if (p.is_object() && p.has_field("$patch") && p.at("$patch").as_string() == "replace") {
        items.clear();
        continue;
      }
      return fail(400, "a list element lacks its merge key \"" + key + "\"");
    }
    auto it = std::find_if(items.begin(), items.end(), [&](const value& t) { return same_key(t, p, key); });
    const bool del = p.has_field("$patch") && p.at("$patch").as_string() == "delete";
    if (del) {
      if (it != items.end()) items.erase(it);
      continue;
    }
    if (it == items.end()) {
      value fresh = value::object();
      auto r = smp(fresh, p, item);
      if (!r.ok) return r;
      items.push_back(fresh);
    } else {
      auto r = smp(*it, p, item);
      if (!r.ok) return r;
    }
  }
  value out = value::array();
  for (size_t i = 0; i < items.size(); ++i) out[i] = items[i];
  target = out;
  return {};
}

PatchResult smp(value& target, const value& patch, const SchemaNode& schema) {
  if (!patch.is_object()) {
    target = patch;
    return {};
  }
  if (patch.has_field("$patch")) {
    const auto directive = patch.at("$patch").as_string();
    if (directive == "replace") {
      value copy = patch;
      copy.erase("$patch");
      target = copy;
      return {};
    }
    if (directive == "delete") {
      target = value::null();
      return {};
    }
  }
  if (!target.is_object()) target = value::object();
  if (patch.has_field("$retainKeys") && patch.at("$retainKeys").is_array()) {
    std::vector<std::string> keep;
    for (const auto& k : patch.at("$retainKeys").as_array()) keep.push_back(k.as_string());
    std::vector<std::string> drop;
    for (const auto& [k, v] : target.as_object())
      if (std::find(keep.begin(), keep.end(), k) == keep.end()) drop.push_back(k);
    for (const auto& k : drop) target.erase(k);
  }
  for (const auto& [k, v] : patch.as_object()) {
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder/", 0) == 0) continue;
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      const std::string field = k.substr(25);
      if (!target.has_field(field) || !target.at(field).is_array() || !v.is_array()) continue;
      value out = value::array();
      size_t j = 0;
      for (const auto& e : target.at(field).as_array()) {
        bool gone = false;
        for (const auto& d : v.as_array()) gone = gone || d.serialize() == e.serialize();
        if (!gone) out[j++] = e;
      }
      target[field] = out;
      continue;
    }
    if (v.is_null()) {
      if (target.has_field(k)) target.erase(k);
      continue;
    }
    const SchemaNode field = schema.field(k);
    if (v.is_array()) {
      if (const auto key = field.patch_merge_key(); !key.empty()) {
        auto r = merge_list(target[k], v, key, field.items());
        if (!r.ok) return r;
        continue;
      }
      if (field.patch_strategy().find("merge") != std::string::npos) {
        value& cur = target[k];
        if (!cur.is_array()) cur = value::array();
        for (const auto& e : v.as_array()) {
          bool have = false;
          for (const auto& c : cur.as_array()) have = have || c.serialize() == e.serialize();
          if (!have) cur[cur.size()] = e;
        }
        continue;
      }
      target[k] = v;  // atomic list: replace
      continue;
    }
    if (v.is_object()) {
      auto r = smp(target[k], v, field);
      if (!r.ok) return r;
      if (target.at(k).is_null()) target.erase(k);
      continue;
    }
    target[k] = v;
  }
  return {};
}

}  // namespace

PatchResult apply_strategic_merge_patch(value& target, const value& patch, const SchemaNode& schema) {
  if (!patch.is_object()) return fail(400, "a strategic merge patch must be a JSON object");
  return guarded(target, [&](value& t) { return smp(t, patch, schema); });
}

}  // namespace nonevent::sim
