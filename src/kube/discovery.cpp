#include "kube/discovery.h"

#include <cpprest/json.h>

#include <algorithm>

namespace nonevent::kube {

using web::json::value;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> strings(const value& v, const char* key) {
  std::vector<std::string> out;
  if (!v.has_field(key) || !v.at(key).is_array()) return out;
  for (const auto& s : v.at(key).as_array())
    if (s.is_string()) out.push_back(s.as_string());
  return out;
}

Status read_group_version(RestClient& client, const std::string& group, const std::string& version,
                          const std::string& path, std::vector<ApiResource>& out) {
  auto body = client.raw_get(path);
  if (!body.ok()) return body.error();
  std::error_code ec;
  auto doc = value::parse(body.value(), ec);
  if (ec || !doc.has_field("resources")) return ApiError::transport("discovery " + path + ": not an APIResourceList");
  for (const auto& r : doc.at("resources").as_array()) {
    const auto name = r.at("name").as_string();
    if (name.find('/') != std::string::npos) continue;  // subresource
    ApiResource a;
    a.gvr = {group, version, name, r.has_field("namespaced") && r.at("namespaced").as_bool(),
             r.has_field("kind") ? r.at("kind").as_string() : ""};
    if (r.has_field("singularName")) a.singular = r.at("singularName").as_string();
    a.short_names = strings(r, "shortNames");
    a.verbs = strings(r, "verbs");
    a.categories = strings(r, "categories");
    out.push_back(std::move(a));
  }
  return Unit{};
}

}  // namespace

Result<std::vector<ApiResource>> discover(RestClient& client) {
  std::vector<ApiResource> out;
  auto core = read_group_version(client, "", "v1", "/api/v1", out);
  if (!core.ok()) return core.error();
  auto groups = client.raw_get("/apis");
  if (!groups.ok()) return groups.error();
  std::error_code ec;
  auto doc = value::parse(groups.value(), ec);
  if (ec || !doc.has_field("groups")) return ApiError::transport("discovery /apis: not an APIGroupList");
  for (const auto& g : doc.at("groups").as_array()) {
    const auto name = g.at("name").as_string();
    std::string version;
    if (g.has_field("preferredVersion")) version = g.at("preferredVersion").at("version").as_string();
    else if (g.has_field("versions") && g.at("versions").size() > 0) version = g.at("versions").at(0).at("version").as_string();
    if (version.empty()) continue;
    auto st = read_group_version(client, name, version, "/apis/" + name + "/" + version, out);
    if (!st.ok() && !st.error().is_not_found()) return st.error();
  }
  return out;
}

std::optional<ApiResource> find_resource(const std::vector<ApiResource>& all, const std::string& typed) {
  std::string name = lower(typed), group;
  if (auto dot = name.find('.'); dot != std::string::npos) {
    group = name.substr(dot + 1);
    name = name.substr(0, dot);
  }
  auto priority = [](const std::string& g) {
    static const std::vector<std::string> order = {"", "apps", "batch", "policy", "coordination.k8s.io"};
    auto it = std::find(order.begin(), order.end(), g);
    return it == order.end() ? order.size() : static_cast<size_t>(it - order.begin());
  };
  std::optional<ApiResource> best;
  for (const auto& r : all) {
    if (!group.empty() && r.gvr.group != group) continue;
    const bool match = r.gvr.resource == name || r.singular == name || lower(r.gvr.kind) == name ||
                       std::find(r.short_names.begin(), r.short_names.end(), name) != r.short_names.end();
    if (match && (!best || priority(r.gvr.group) < priority(best->gvr.group))) best = r;
  }
  return best;
}

}  // namespace nonevent::kube
