#include "controllers/rollout_move.h"

#include <algorithm>

#include "controllers/json_path.h"
#include "kube/log.h"

namespace nonevent::controllers {

using web::json::value;
using PatchType = kube::PatchType;

namespace {

using json_path::at;
using json_path::number;
using json_path::text;

// maxSurge / maxUnavailable of `total` as the Deployment controller scales them (25% unset).
int64_t scaled(const value* v, int64_t total, bool round_up) {
  const std::string t = v ? (v->is_string() ? v->as_string() : v->serialize()) : "25%";
  return model::IntOrPercent::parse(t).value_or(model::IntOrPercent{}).scaled(total, round_up);
}

kube::ObjectReference ref_of(const std::string& kind, const std::string& api_version, const std::string& ns, const std::string& name) {
  kube::ObjectReference r;
  r.kind = kind;
  r.api_version = api_version;
  r.ns = ns;
  r.name = name;
  return r;
}

// "ns/a,ns/b" (a node's nonevent.dev/moves).
std::vector<std::string> split_moves(const std::string& moves) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < moves.size()) {
    const size_t comma = moves.find(',', start);
    std::string key = moves.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (key.find('/') != std::string::npos) out.push_back(std::move(key));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<RolloutMover::RecordedMove> RolloutMover::moves_on(const model::Node& node) {
  std::vector<RecordedMove> out;
  const auto* moves = node.annotation(kNodeMoves);
  if (!moves || moves->empty()) return out;
  for (const auto& key : split_moves(*moves)) {
    const auto slash = key.find('/');
    RecordedMove m{key.substr(0, slash), key.substr(slash + 1), value::null(), value::null()};
    auto d = get_json(kube::resources::deployments(), m.ns, m.name);
    if (!d) continue;
    const std::string recorded = text(d.value(), {"metadata", "annotations", kMove});
    std::error_code ec;
    m.record = recorded.empty() ? value::null() : value::parse(recorded, ec);
    if (recorded.empty() || ec || text(m.record, {"node"}) != node.meta.name) continue;
    m.deployment = std::move(d.value());
    out.push_back(std::move(m));
  }
  return out;
}

kube::Result<value> RolloutMover::get_json(const kube::GroupVersionResource& r, const std::string& ns, const std::string& name) {
  auto got = client_.get(r, ns, name);
  if (!got.ok()) return got.error();
  std::error_code ec;
  value v = value::parse(got.value(), ec);
  if (ec) return kube::ApiError::transport("the body of " + r.resource + " " + name + " is not JSON");
  return v;
}

bool RolloutMover::namespace_selected(const std::string& ns, const RolloutPolicy& policy) {
  if (!policy.namespace_selector || policy.namespace_selector->empty()) return true;
  auto n = get_json(kube::resources::namespaces(), "", ns);
  if (!n) return false;
  model::Labels labels;
  if (const value* l = at(n.value(), {"metadata", "labels"}); l && l->is_object())
    for (const auto& [k, v] : l->as_object())
      if (v.is_string()) labels.emplace_back(model::IStr(k), model::IStr(v.as_string()));
  std::sort(labels.begin(), labels.end());
  return policy.namespace_selector->matches(labels);
}

bool RolloutMover::scaled_by_hpa(const std::string& ns, const std::string& deployment) {
  // autoscaling/v2. A cluster that does not serve it (404) has none; any other failure (403
  // without the chart's grant, a timeout) is not knowing, and not knowing must not let us
  // scale a Deployment an autoscaler may own: it counts as "scaled by an HPA".
  auto r = client_.raw_get("/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers");
  if (!r.ok()) {
    if (r.error().is_not_found()) return false;
    logging::warn("rollout", "cannot list HorizontalPodAutoscalers; the Deployment is treated as autoscaled",
                  {{"namespace", ns}, {"deployment", deployment}, {"error", r.error().to_string()}});
    return true;
  }
  std::error_code ec;
  const value list = value::parse(r.value(), ec);
  if (ec || !list.has_field("items") || !list.at("items").is_array()) return true;
  for (const auto& h : list.at("items").as_array())
    if (text(h, {"spec", "scaleTargetRef", "kind"}) == "Deployment" && text(h, {"spec", "scaleTargetRef", "name"}) == deployment) return true;
  return false;
}

RolloutMover::Outcome RolloutMover::move(const model::Pod& pod, const model::Node& node, const std::string& claim, const RolloutPolicy& policy,
                                         kube::TimePoint now) {
  Outcome out;
  if (policy.when != "WhenBlocked") return out;
  const std::string ns(pod.meta.namespace_.view());
  const std::string who = ns + "/" + pod.meta.name;
  auto blocker = [&](const std::string& reason, const std::string& message) {
    out.blocker = planner::PreflightBlocker{"Pod", ns, pod.meta.name, reason, message};
    return out;
  };
  if (!namespace_selected(ns, policy))
    return blocker("NotOptedIn", "namespace " + ns + " is not selected by drain.rollout.namespaceSelector: waiting on its budget");
  const auto* owner = pod.meta.controller();
  if (!owner || owner->kind != "ReplicaSet")
    return blocker("CannotSurge", std::string(owner ? owner->kind.view() : "a bare pod") + " cannot be moved by a rollout; only Deployments surge");
  auto rs = get_json(kube::resources::replica_sets(), ns, owner->name.str());
  std::string deployment_name;
  if (rs)
    if (const value* refs = at(rs.value(), {"metadata", "ownerReferences"}); refs && refs->is_array())
      for (const auto& r : refs->as_array())
        if (r.has_field("controller") && r.at("controller").as_bool() && text(r, {"kind"}) == "Deployment") deployment_name = text(r, {"name"});
  if (deployment_name.empty()) return blocker("CannotSurge", "ReplicaSet " + owner->name.str() + " has no Deployment to surge it");
  auto d = get_json(kube::resources::deployments(), ns, deployment_name);
  if (!d) return out;  // read again next pass
  const auto dref = ref_of("Deployment", "apps/v1", ns, deployment_name);
  const int64_t replicas = number(d.value(), {"spec", "replicas"}, 1);

  // A move in progress (advance() moves it on, whatever becomes of this pod), unless its node
  // no longer lists it: then nothing would ever advance it (a release whose finishing write
  // failed), and it is ended here so the Deployment can be moved again.
  if (const std::string recorded = text(d.value(), {"metadata", "annotations", kMove}); !recorded.empty()) {
    if (!move_is_orphaned(ns, deployment_name, d.value(), recorded)) {
      out.moving = true;
      return out;
    }
    return out;  // ended; a new move starts on the next pass, from the Deployment as it is then
  }
  if (claim.empty()) return out;  // claimed this pass: the node's claim is read next pass

  // A new move.
  const bool rolling = text(d.value(), {"spec", "strategy", "type"}) != "Recreate";
  const int64_t surge = rolling ? scaled(at(d.value(), {"spec", "strategy", "rollingUpdate", "maxSurge"}), replicas, true) : 0;
  const int64_t unavailable = rolling ? scaled(at(d.value(), {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), replicas, false) : 0;
  const bool by_rollout = rolling && surge >= 1 && unavailable == 0;
  if (!by_rollout && scaled_by_hpa(ns, deployment_name))
    return blocker("HorizontalPodAutoscaler", "Deployment " + deployment_name +
                                                  " is scaled by a HorizontalPodAutoscaler and does not surge (maxSurge >= 1, maxUnavailable 0): "
                                                  "scaling it would fight the autoscaler");
  value m = value::object();
  m["by"] = value::string(claim);
  m["node"] = value::string(node.meta.name);
  m["pod"] = value::string(pod.meta.name);
  m["mechanism"] = value::string(by_rollout ? "rollout" : "scale");
  m["replicas"] = value::number(replicas);
  m["phase"] = value::string(by_rollout ? "rolling" : "surge");
  m["since"] = value::string(kube::format_rfc3339(now));
  // The node first, so a release finds the move even if the operator dies right after.
  const std::string key = ns + "/" + deployment_name;
  std::string moves = node.annotation(kNodeMoves) ? *node.annotation(kNodeMoves) : "";
  if (("," + moves + ",").find("," + key + ",") == std::string::npos) {
    value np = value::object();
    np["metadata"]["annotations"][kNodeMoves] = value::string(moves.empty() ? key : moves + "," + key);
    if (!client_.patch(kube::resources::nodes(), "", node.meta.name, PatchType::kMerge, np.serialize()).ok()) return out;
  }
  value dp = value::object();
  dp["metadata"]["annotations"][kMove] = value::string(m.serialize());
  dp["metadata"]["labels"][kMovingLabel] = value::string("true");
  dp["metadata"]["resourceVersion"] = value::string(text(d.value(), {"metadata", "resourceVersion"}));
  if (by_rollout) dp["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = value::string(kube::format_rfc3339(now));
  else dp["spec"]["replicas"] = value::number(replicas + 1);
  auto r = client_.patch(kube::resources::deployments(), ns, deployment_name, PatchType::kMerge, dp.serialize());
  if (!r.ok()) {
    logging::warn("rollout", "could not start the move; tried again next pass", {{"deployment", key}, {"error", r.error().to_string()}});
    return out;
  }
  out.moving = true;
  const std::string how = by_rollout ? "a rollout (maxSurge " + std::to_string(surge) + ", maxUnavailable 0)"
                                     : "one replica more (" + std::to_string(replicas) + " -> " + std::to_string(replicas + 1) +
                                           "), then back with " + pod.meta.name + " removed";
  events_.record(dref, "Normal", by_rollout ? "MovingByRollout" : "MovingByScaleUp",
                 "moving " + pod.meta.name + " off " + node.meta.name + " for " + claim + " by " + how + ": its PodDisruptionBudget allows no eviction");
  logging::info("rollout", "moving a pod its budget holds by its Deployment",
                {{"deployment", key}, {"pod", who}, {"node", node.meta.name}, {"mechanism", by_rollout ? "rollout" : "scale"}, {"claim", claim}});
  return out;
}

void RolloutMover::advance(const model::Node& node) {
  for (const auto& [ns, name, d, m] : moves_on(node)) {
    const std::string key = ns + "/" + name;
    const int64_t replicas = number(d, {"spec", "replicas"}, 1);
    const int64_t original = number(m, {"replicas"}, replicas);
    if (text(m, {"mechanism"}) == "rollout") {
      const bool done = number(d, {"status", "observedGeneration"}) >= number(d, {"metadata", "generation"}) &&
                        number(d, {"status", "updatedReplicas"}) == replicas && number(d, {"status", "replicas"}) == replicas &&
                        number(d, {"status", "availableReplicas"}) == replicas;
      if (done) finish(ns, name, d, std::nullopt);
      continue;
    }
    // One replica more: once the pod has left (removed by the scale-back, or evicted once
    // the extra replica let its budget allow it), the replicas go back.
    const std::string victim = text(m, {"pod"});
    // Gone only when the API server says so: a read that failed (a timeout, a 403) must not
    // scale back, or the ReplicaSet would remove some other pod than the drained node's.
    auto pod = get_json(kube::resources::pods(), ns, victim);
    if (!pod.ok() && !pod.error().is_not_found()) {
      logging::warn("rollout", "cannot read the pod being moved; the move waits", {{"deployment", key}, {"pod", ns + "/" + victim}, {"error", pod.error().to_string()}});
      continue;
    }
    const bool gone = !pod.ok() || at(pod.value(), {"metadata", "deletionTimestamp"}) != nullptr;
    if (gone) {
      finish(ns, name, d, replicas != original ? std::optional<int64_t>(original) : std::nullopt);
      continue;
    }
    // The extra replica counts only once the Deployment controller has seen the scale-up: just
    // after another move scaled back, the status still says the previous extra replica is
    // available, and scaling back on it would remove no pod and leave this move stuck.
    const bool observed = number(d, {"status", "observedGeneration"}) >= number(d, {"metadata", "generation"});
    if (text(m, {"phase"}) != "surge" || !observed || number(d, {"status", "availableReplicas"}) < original + 1) continue;
    // The extra replica is available: the pod on the drained node is marked cheapest to delete
    // and the replicas put back, so the ReplicaSet removes exactly it.
    value pp = value::object();
    pp["metadata"]["annotations"][kDeletionCost] = value::string("-2147483648");
    if (!client_.patch(kube::resources::pods(), ns, victim, PatchType::kMerge, pp.serialize()).ok()) continue;
    value next = m;
    next["phase"] = value::string("shrink");
    value dp = value::object();
    dp["spec"]["replicas"] = value::number(original);
    dp["metadata"]["annotations"][kMove] = value::string(next.serialize());
    dp["metadata"]["resourceVersion"] = value::string(text(d, {"metadata", "resourceVersion"}));
    if (client_.patch(kube::resources::deployments(), ns, name, PatchType::kMerge, dp.serialize()).ok())
      logging::info("rollout", "extra replica available: scaling back, the drained node's pod first",
                    {{"deployment", key}, {"pod", ns + "/" + victim}, {"node", node.meta.name}, {"replicas", std::to_string(original)}});
  }
}

bool RolloutMover::move_is_orphaned(const std::string& ns, const std::string& name, const value& d, const std::string& recorded) {
  std::error_code ec;
  const value record = value::parse(recorded, ec);
  const std::string on = ec ? "" : text(record, {"node"});
  if (!on.empty()) {
    auto node = get_json(kube::resources::nodes(), "", on);
    if (!node.ok() && !node.error().is_not_found()) return false;  // not knowing is not orphaned
    const std::string moves = node.ok() ? text(node.value(), {"metadata", "annotations", kNodeMoves}) : "";
    const auto listed = split_moves(moves);
    if (std::find(listed.begin(), listed.end(), ns + "/" + name) != listed.end()) return false;
  }
  const bool undo = !ec && text(record, {"mechanism"}) == "scale" && number(d, {"spec", "replicas"}, 1) != number(record, {"replicas"}, 1);
  logging::warn("rollout", "a move whose node no longer lists it is ended (nothing else would)",
                {{"deployment", ns + "/" + name}, {"node", on.empty() ? "(unreadable record)" : on}, {"undo", undo ? "true" : "false"}});
  finish(ns, name, d, undo ? std::optional<int64_t>(number(record, {"replicas"}, 1)) : std::nullopt);
  return true;
}

void RolloutMover::finish(const std::string& ns, const std::string& name, const value& d, std::optional<int64_t> replicas) {
  value dp = value::object();
  dp["metadata"]["annotations"][kMove] = value::null();
  dp["metadata"]["labels"][kMovingLabel] = value::null();
  dp["metadata"]["resourceVersion"] = value::string(text(d, {"metadata", "resourceVersion"}));
  if (replicas) dp["spec"]["replicas"] = value::number(*replicas);
  auto r = client_.patch(kube::resources::deployments(), ns, name, PatchType::kMerge, dp.serialize());
  if (r.ok())
    logging::info("rollout", replicas ? "move undone: replicas put back" : "move finished", {{"deployment", ns + "/" + name}});
  else
    logging::warn("rollout", "could not end the move; tried again next pass", {{"deployment", ns + "/" + name}, {"error", r.error().to_string()}});
}

void RolloutMover::release(const model::Node& node) {
  for (const auto& [ns, name, d, m] : moves_on(node)) {
    // Still one replica more than it had: put back. A rollout finishes by itself; only the
    // record is dropped.
    const bool undo = text(m, {"mechanism"}) == "scale" && number(d, {"spec", "replicas"}, 1) != number(m, {"replicas"}, 1);
    finish(ns, name, d, undo ? std::optional<int64_t>(number(m, {"replicas"}, 1)) : std::nullopt);
    events_.record(ref_of("Deployment", "apps/v1", ns, name), "Normal", undo ? "MoveUndone" : "MoveForgotten",
                   "node " + node.meta.name + " was given back before the move ended" + (undo ? ": replicas put back" : ""));
  }
}

}  // namespace nonevent::controllers
