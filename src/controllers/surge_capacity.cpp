#include "controllers/surge_capacity.h"

#include "controllers/json_path.h"

#include <cpprest/json.h>

#include <charconv>
#include <set>

namespace nonevent::controllers {

using kube::PatchType;
using web::json::value;

namespace {

constexpr const char* kDeploymentNameLabel = "cluster.x-k8s.io/deployment-name";
constexpr const char* kDeleteMachine = "cluster.x-k8s.io/delete-machine";

using json_path::at;
using json_path::text;


std::pair<std::string, std::string> split(const std::string& key) {
  const auto slash = key.find('/');
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// One MachineDeployment to its base replicas plus `add`: a conditional patch, or none when it
// is there already.
kube::Status scale_for_surge(kube::RestClient& client, const value& md, const std::string& mine, int add,
                             std::vector<std::string>* conflicts) {
  const std::string key = text(md, {"metadata", "namespace"}) + "/" + text(md, {"metadata", "name"});
  const std::string by = text(md, {"metadata", "labels", kSurgedByLabel});
  if (!by.empty() && by != mine) {
    if (conflicts) conflicts->push_back(key + " is being surged by PatchCampaign " + by);
    return kube::Unit{};
  }
  const value* replicas = at(md, {"spec", "replicas"});
  const int64_t current = replicas && replicas->is_number() ? replicas->as_number().to_int64() : 1;
  const std::string base_text = text(md, {"metadata", "annotations", kSurgeBaseReplicas});
  int64_t base = current;
  if (!base_text.empty() && std::from_chars(base_text.data(), base_text.data() + base_text.size(), base).ec != std::errc{})
    base = current;  // not a number anyone could have meant: keep what the deployment has
  value p = value::object();
  // Conditional on what was read: a concurrent scale (an autoscaler) is read again, never
  // overwritten.
  p["metadata"]["resourceVersion"] = value::string(text(md, {"metadata", "resourceVersion"}));
  if (add > 0) {
    if (by == mine && current == base + add) return kube::Unit{};
    p["metadata"]["labels"][kSurgedByLabel] = value::string(mine);
    p["metadata"]["annotations"][kSurgeBaseReplicas] = value::string(std::to_string(base));
    p["spec"]["replicas"] = value::number(base + add);
  } else {
    if (by.empty() && base_text.empty()) return kube::Unit{};
    p["metadata"]["labels"][kSurgedByLabel] = value::null();
    p["metadata"]["annotations"][kSurgeBaseReplicas] = value::null();
    p["spec"]["replicas"] = value::number(base);
  }
  const auto [ns, name] = split(key);
  auto r = client.patch(kube::resources::machine_deployments(), ns, name, kube::PatchType::kMerge, p.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}

}  // namespace

kube::Result<std::optional<std::string>> machine_deployment_of(kube::RestClient& client, const model::Node& node) {
  const auto* machine = node.annotation(kCapiMachine);
  const auto* machine_ns = node.annotation(kCapiClusterNamespace);
  if (!machine || !machine_ns) return std::optional<std::string>{};
  auto r = client.get(kube::resources::machines(), *machine_ns, *machine);
  if (!r.ok()) return r.error().is_not_found() ? kube::Result<std::optional<std::string>>(std::optional<std::string>{})
                                               : kube::Result<std::optional<std::string>>(r.error());
  std::error_code ec;
  const auto md = text(value::parse(r.value(), ec), {"metadata", "labels", kDeploymentNameLabel});
  if (md.empty()) return std::optional<std::string>{};
  return std::optional<std::string>{*machine_ns + "/" + md};
}

kube::Status mark_machine_for_deletion(kube::RestClient& client, const model::Node& node) {
  const auto* machine = node.annotation(kCapiMachine);
  const auto* machine_ns = node.annotation(kCapiClusterNamespace);
  if (!machine || !machine_ns) return kube::ApiError{.code = 404, .reason = "NotFound", .message = "no Machine"};
  value p = value::object();
  p["metadata"]["annotations"][kDeleteMachine] = value::string("nonevent.dev");
  auto r = client.patch(kube::resources::machines(), *machine_ns, *machine, PatchType::kMerge, p.serialize());
  if (!r.ok()) return r.error();
  return kube::Unit{};
}

kube::Status reconcile_surge_capacity(kube::RestClient& client, const std::string& campaign,
                                      const std::map<std::string, int>& extra, std::vector<std::string>* conflicts) {
  const auto mds = kube::resources::machine_deployments();
  const std::string mine = kube::bounded_name(campaign);  // a label value
  // The deployments this campaign scaled before (found again after a restart by their label).
  std::map<std::string, value> known;
  kube::ListOptions opts;
  opts.label_selector = std::string(kSurgedByLabel) + "=" + mine;
  auto listed = client.list(mds, "", opts);
  if (!listed.ok()) {
    // No Cluster API in this cluster: nothing was scaled, and nothing can be.
    if (listed.error().is_not_found() && extra.empty()) return kube::Unit{};
    return listed.error();
  }
  std::error_code ec;
  const value list = value::parse(listed.value(), ec);
  if (const value* items = at(list, {"items"}); items && items->is_array())
    for (const auto& md : items->as_array()) known[text(md, {"metadata", "namespace"}) + "/" + text(md, {"metadata", "name"})] = md;
  std::set<std::string> keys;
  for (const auto& [k, _] : known) keys.insert(k);
  for (const auto& [k, n] : extra)
    if (n > 0) keys.insert(k);

  for (const auto& key : keys) {
    const auto [ns, name] = split(key);
    const auto it = extra.find(key);
    const int add = it == extra.end() ? 0 : it->second;
    std::optional<value> md;
    if (auto k = known.find(key); k != known.end()) md = k->second;
    // A conflict is someone else's write in between (Cluster API's own status updates, an
    // autoscaler): read again and decide again, a few times, before leaving it to the requeue.
    for (int attempt = 0;; ++attempt) {
      if (!md) {
        auto got = client.get(mds, ns, name);
        if (!got.ok()) return got.error();
        md = value::parse(got.value(), ec);
      }
      auto r = scale_for_surge(client, *md, mine, add, conflicts);
      if (r.ok()) break;
      if (!r.error().is_conflict() || attempt == 2) return r.error();
      md.reset();
    }
  }
  return kube::Unit{};
}

}  // namespace nonevent::controllers
