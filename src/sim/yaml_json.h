#pragma once
// YAML documents (manifests, cluster files, kubectl -o yaml snapshots) as JSON values.
// Plain scalars are typed as YAML 1.2's core schema says (true/false, null, numbers);
// quoted scalars stay strings.
#include <cpprest/json.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace nonevent::sim {

web::json::value yaml_to_json(const YAML::Node& node);
// Every non-empty document of a (multi-document) YAML text. Throws YAML::Exception with the
// line and column of a syntax error.
std::vector<web::json::value> parse_yaml_documents(const std::string& text);
// Files under `path` (a file, or a directory walked in name order for .yaml/.yml/.json).
std::vector<std::string> manifest_files(const std::string& path);

}  // namespace nonevent::sim
