#include "sim/yaml_json.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>

namespace nonevent::sim {

using web::json::value;

namespace {

value scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return value::string(s);  // quoted: always a string
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return value::null();
  if (s == "true" || s == "True" || s == "TRUE") return value::boolean(true);
  if (s == "false" || s == "False" || s == "FALSE") return value::boolean(false);
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex floating("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(s, integer)) {
    try {
      return value::number(static_cast<int64_t>(std::stoll(s)));
    } catch (const std::exception&) {
      return value::string(s);
    }
  }
  if (std::regex_match(s, floating)) return value::number(std::strtod(s.c_str(), nullptr));
  return value::string(s);
}

}  // namespace

value yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return value::null();
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      value arr = value::array();
      size_t i = 0;
      for (const auto& item : node) arr[i++] = yaml_to_json(item);
      return arr;
    }
    case YAML::NodeType::Map: {
      value obj = value::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return obj;
    }
  }
  return value::null();
}

std::vector<value> parse_yaml_documents(const std::string& text) {
  std::vector<value> out;
  for (const auto& doc : YAML::LoadAll(text)) {
    if (!doc || doc.IsNull()) continue;
    out.push_back(yaml_to_json(doc));
  }
  return out;
}

std::vector<std::string> manifest_files(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::recursive_directory_iterator(path)) {
      const auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
  } else {
    out.push_back(path);
  }
  return out;
}

}  // namespace nonevent::sim
