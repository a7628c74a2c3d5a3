#include "sim/yaml_json.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

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

namespace {
// Counts documents and builds nothing.
struct DocumentCounter : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7's LoadAll never ends on a ',' after a top-level node (`[a],`, `"a",`): it
// yields empty documents without consuming it until memory runs out (found by tests/fuzz
// resource_specs). A stream has at most one document per character, so counting them first
// with a parser that builds nothing finds that loop cheaply.
void refuse_endless_streams(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  size_t documents = 0;
  while (parser.HandleNextDocument(counter))
    if (++documents > text.size() + 1)
      throw YAML::ParserException(YAML::Mark::null_mark(), "malformed YAML: a stray ',' outside a flow collection");
}
}  // namespace

std::vector<value> parse_yaml_documents(const std::string& text) {
  std::vector<value> out;
  refuse_endless_streams(text);
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
