#include "sim/field_sets.h"

#include <algorithm>
#include <iterator>
#include <map>

namespace nonevent::sim::fields {

using web::json::value;

namespace {


// The key fields of a map-like list item, in name order, as structured-merge-diff writes them.
std::string item_key(const value& item, const std::vector<std::string>& keys) {
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  value k = value::object(true);
  for (const auto& name : sorted)
    if (item.is_object() && item.has_field(name)) k[name] = item.at(name);
  return "k:" + k.serialize();
}

// The element naming list item `i` of a list field under `schema`.
std::string item_element(const SchemaNode& schema, const value& item, size_t i) {
  std::vector<std::string> keys;
  switch (schema.list_kind(keys)) {
    case SchemaNode::ListKind::Map:
      return item_key(item, keys);
    case SchemaNode::ListKind::Set:
      return "v:" + item.serialize();
    case SchemaNode::ListKind::Atomic:
      break;
  }
  return "i:" + std::to_string(i);
}

bool granular_list(const SchemaNode& schema) {
  std::vector<std::string> keys;
  return schema.list_kind(keys) != SchemaNode::ListKind::Atomic;
}

// An object whose schema names its fields (a Go struct), not a map of any keys.
bool is_struct(const SchemaNode& schema) { return schema.known() && !schema.field("\x01no-such-field").known(); }
// A member of an object the schema lists by name (a struct field), not a map's key.
bool declared(const SchemaNode& schema, const std::string& name) { return is_struct(schema) && schema.field(name).known(); }

void of_value(const value& v, const SchemaNode& schema, Path& path, Set& out);

void of_members(const value& obj, const SchemaNode& schema, Path& path, Set& out) {
  for (const auto& [k, child] : obj.as_object()) {
    path.push_back("f:" + k);
    const SchemaNode cs = schema.field(k);
    of_value(child, cs, path, out);
    if (child.is_null() || (child.is_object() && child.size() == 0) || !declared(schema, k)) out.insert(path);
    path.pop_back();
  }
}

void of_value(const value& v, const SchemaNode& schema, Path& path, Set& out) {
  if (v.is_object() && !schema.atomic_map()) {
    of_members(v, schema, path, out);
  } else if (v.is_array() && granular_list(schema)) {
    const SchemaNode item = schema.items();
    for (size_t i = 0; i < v.size(); ++i) {
      path.push_back(item_element(schema, v.at(i), i));
      if (v.at(i).is_object() && !item.atomic_map()) of_members(v.at(i), item, path, out);
      out.insert(path);
      path.pop_back();
    }
  } else {
    out.insert(path);  // a scalar, or an atomic list or map
  }
}

// Every path at and below v (what appears or goes with it); a non-empty struct is not a
// member itself, as in structured-merge-diff's comparisons (f:spec has no ".").
void all_paths(const value& v, const SchemaNode& schema, Path& path, Set& out) {
  if (!path.empty() && !(v.is_object() && v.size() > 0 && is_struct(schema) && !schema.atomic_map())) out.insert(path);
  if (v.is_object() && !schema.atomic_map()) {
    for (const auto& [k, child] : v.as_object()) {
      path.push_back("f:" + k);
      all_paths(child, schema.field(k), path, out);
      path.pop_back();
    }
  } else if (v.is_array() && granular_list(schema)) {
    for (size_t i = 0; i < v.size(); ++i) {
      path.push_back(item_element(schema, v.at(i), i));
      all_paths(v.at(i), schema.items(), path, out);
      path.pop_back();
    }
  }
}

void compare_value(const value& a, const value& b, const SchemaNode& schema, Path& path, Comparison& out) {
  if (a.is_object() && b.is_object() && !schema.atomic_map()) {
    for (const auto& [k, av] : a.as_object()) {
      path.push_back("f:" + k);
      if (!b.has_field(k)) all_paths(av, schema.field(k), path, out.removed);
      else compare_value(av, b.at(k), schema.field(k), path, out);
      path.pop_back();
    }
    for (const auto& [k, bv] : b.as_object())
      if (!a.has_field(k)) {
        path.push_back("f:" + k);
        all_paths(bv, schema.field(k), path, out.added);
        path.pop_back();
      }
    return;
  }
  if (a.is_array() && b.is_array() && granular_list(schema)) {
    const SchemaNode item = schema.items();
    std::map<std::string, const value*> before, after;
    for (size_t i = 0; i < a.size(); ++i) before.emplace(item_element(schema, a.at(i), i), &a.at(i));
    for (size_t i = 0; i < b.size(); ++i) after.emplace(item_element(schema, b.at(i), i), &b.at(i));
    for (const auto& [e, av] : before) {
      path.push_back(e);
      auto it = after.find(e);
      if (it == after.end()) all_paths(*av, item, path, out.removed);
      else compare_value(*av, *it->second, item, path, out);
      path.pop_back();
    }
    for (const auto& [e, bv] : after)
      if (!before.count(e)) {
        path.push_back(e);
        all_paths(*bv, item, path, out.added);
        path.pop_back();
      }
    return;
  }
  if (a.serialize() != b.serialize()) out.modified.insert(path);
}

value merge_value(const value& live, const value& config, const SchemaNode& schema) {
  if (config.is_object() && live.is_object() && !schema.atomic_map()) {
    value out = live;
    for (const auto& [k, cv] : config.as_object()) {
      if (cv.is_null()) continue;
      out[k] = out.has_field(k) ? merge_value(out.at(k), cv, schema.field(k)) : cv;
    }
    return out;
  }
  if (config.is_array() && live.is_array() && granular_list(schema)) {
    // Live items in their order, each merged with the config's item of the same key; the
    // config's new items after them.
    const SchemaNode item = schema.items();
    std::vector<value> items;
    std::vector<std::string> names;
    for (size_t i = 0; i < live.size(); ++i) {
      items.push_back(live.at(i));
      names.push_back(item_element(schema, live.at(i), i));
    }
    for (size_t i = 0; i < config.size(); ++i) {
      const std::string e = item_element(schema, config.at(i), i);
      auto it = std::find(names.begin(), names.end(), e);
      if (it == names.end()) {
        items.push_back(config.at(i));
        names.push_back(e);
      } else {
        auto& target = items[static_cast<size_t>(it - names.begin())];
        target = merge_value(target, config.at(i), item);
      }
    }
    value out = value::array(items.size());
    for (size_t i = 0; i < items.size(); ++i) out[i] = std::move(items[i]);
    return out;
  }
  return config;
}

std::string unprefixed(const std::string& e) { return e.size() > 2 ? e.substr(2) : ""; }

}  // namespace

value to_fields_v1(const Set& set) {
  value root = value::object();
  for (const auto& path : set) {
    value* node = &root;
    for (const auto& e : path) {
      if (!node->has_field(e)) (*node)[e] = value::object();
      node = &(*node)[e];
    }
  }
  // A member that has members of its own says so with ".".
  for (const auto& path : set) {
    if (path.empty()) continue;
    value* node = &root;
    for (const auto& e : path) node = &(*node)[e];
    if (node->size() > 0 && !node->has_field(".")) (*node)["."] = value::object();
  }
  return root;
}

namespace {
void read_tree(const value& tree, Path& path, Set& out) {
  if (!tree.is_object()) return;
  for (const auto& [k, child] : tree.as_object()) {
    if (k == ".") continue;
    path.push_back(k);
    if (!child.is_object() || child.size() == 0 || child.has_field(".")) out.insert(path);
    read_tree(child, path, out);
    path.pop_back();
  }
}
}  // namespace

Set from_fields_v1(const value& tree) {
  Set out;
  Path path;
  read_tree(tree, path, out);
  return out;
}

Set of_object(const value& object, const SchemaNode& schema) {
  Set out;
  Path path;
  if (object.is_object()) of_members(object, schema, path, out);
  return out;
}

Comparison compare(const value& before, const value& after, const SchemaNode& schema) {
  Comparison out;
  Path path;
  compare_value(before, after, schema, path, out);
  return out;
}

value merge(const value& live, const value& config, const SchemaNode& schema) { return merge_value(live, config, schema); }

bool remove(value& object, const Path& path, const SchemaNode& schema) {
  value* node = &object;
  SchemaNode s = schema;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& e = path[i];
    const bool last = i + 1 == path.size();
    if (e.starts_with("f:")) {
      const std::string name = unprefixed(e);
      if (!node->is_object() || !node->has_field(name)) return false;
      if (last) {
        node->erase(name);
        return true;
      }
      node = &node->at(name);
      s = s.field(name);
      continue;
    }
    if (!node->is_array()) return false;
    size_t found = node->size();
    for (size_t j = 0; j < node->size(); ++j)
      if (item_element(s, node->at(j), j) == e) found = j;
    if (found == node->size()) return false;
    if (last) {
      value out = value::array();
      size_t n = 0;
      for (size_t j = 0; j < node->size(); ++j)
        if (j != found) out[n++] = node->at(j);
      *node = out;
      return true;
    }
    node = &node->at(found);
    s = s.items();
  }
  return false;
}

bool contains(const Set& set, const Path& path) {
  Path prefix;
  for (const auto& e : path) {
    prefix.push_back(e);
    if (set.count(prefix)) return true;
  }
  return false;
}

Set minus(const Set& a, const Set& b) {
  Set out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

Set both(const Set& a, const Set& b) {
  Set out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

std::string describe(const Path& path) {
  std::string out;
  for (const auto& e : path) {
    if (e.starts_with("f:")) out += "." + unprefixed(e);
    else if (e.starts_with("k:")) out += "[" + unprefixed(e) + "]";
    else if (e.starts_with("v:")) out += "[=" + unprefixed(e) + "]";
    else out += "[" + unprefixed(e) + "]";
  }
  return out;
}

}  // namespace nonevent::sim::fields
