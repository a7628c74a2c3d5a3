#include "support/object_store.h"

#include <cpprest/json.h>

#include "sim/patch.h"

namespace nonevent::testing {

using web::json::value;

TestResponse ObjectStore::handle(const TestRequest& r) {
  std::lock_guard g(mu_);
  // /…/<resource>[/<name>]: collections are even-length paths under /api/v1 or /apis/g/v.
  std::string path = r.path;
  std::string collection = path, name;
  const bool core = path.rfind("/api/", 0) == 0;
  const size_t base_segments = core ? 3 : 4;  // /api/v1/<res> or /apis/g/v/<res>
  size_t segments = 0;
  for (char c : path) segments += c == '/';
  const bool namespaced = path.find("/namespaces/") != std::string::npos;
  const size_t collection_segments = base_segments + (namespaced ? 2 : 0);
  if (segments > collection_segments) {
    const auto slash = path.rfind('/');
    collection = path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  auto& coll = data_[collection];
  std::error_code ec;
  if (r.method == "GET") {
    if (name.empty()) {
      std::string items;
      for (auto& [n, j] : coll) items += (items.empty() ? "" : ",") + j;
      return {200, R"({"kind":"List","metadata":{"resourceVersion":")" + std::to_string(rv_) + R"("},"items":[)" + items + "]}"};
    }
    auto it = coll.find(name);
    if (it == coll.end()) return {404, status_body(404, "NotFound", name + " not found")};
    return {200, it->second};
  }
  if (r.method == "POST") {
    auto obj = value::parse(r.body, ec);
    if (ec) return {400, status_body(400, "BadRequest", "bad json")};
    const auto n = obj["metadata"]["name"].as_string();
    if (coll.count(n)) return {409, status_body(409, "AlreadyExists", n + " already exists")};
    obj["metadata"]["resourceVersion"] = value::string(std::to_string(++rv_));
    coll[n] = obj.serialize();
    ++writes_;
    return {201, coll[n]};
  }
  auto it = coll.find(name);
  if (it == coll.end()) return {404, status_body(404, "NotFound", name + " not found")};
  auto current = value::parse(it->second, ec);
  if (r.method == "PUT") {
    auto obj = value::parse(r.body, ec);
    const auto want = obj["metadata"].has_field("resourceVersion") ? obj["metadata"]["resourceVersion"].as_string() : "";
    if (!want.empty() && want != current["metadata"]["resourceVersion"].as_string())
      return {409, status_body(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again")};
    obj["metadata"]["resourceVersion"] = value::string(std::to_string(++rv_));
    it->second = obj.serialize();
    ++writes_;
    return {200, it->second};
  }
  if (r.method == "PATCH") {
    if (r.headers.at("content-type") != "application/merge-patch+json" &&
        r.headers.at("content-type") != "application/strategic-merge-patch+json")
      return {415, status_body(415, "UnsupportedMediaType", "unsupported patch type")};
    sim::apply_merge_patch(current, value::parse(r.body, ec));
    current["metadata"]["resourceVersion"] = value::string(std::to_string(++rv_));
    it->second = current.serialize();
    ++writes_;
    return {200, it->second};
  }
  if (r.method == "DELETE") {
    auto body = it->second;
    coll.erase(it);
    ++writes_;
    return {200, body};
  }
  return {405, status_body(405, "MethodNotAllowed", r.method)};
}

std::map<std::string, std::string> ObjectStore::objects(const std::string& collection) const {
  std::lock_guard g(mu_);
  auto it = data_.find(collection);
  return it == data_.end() ? std::map<std::string, std::string>{} : it->second;
}

std::string ObjectStore::get(const std::string& collection, const std::string& name) const {
  auto objs = objects(collection);
  auto it = objs.find(name);
  return it == objs.end() ? "" : it->second;
}

long ObjectStore::writes() const {
  std::lock_guard g(mu_);
  return writes_;
}

}  // namespace nonevent::testing
