// The disruption controller's arithmetic (kube-controller-manager, pkg/controller/disruption):
// expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed and the disruptedPods map
// the eviction subresource writes (entries expire after 2 minutes or when the pod goes).
#include <cmath>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "sim/controllers.h"
#include "sim/json_util.h"
#include "sim/key_timers.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

struct IntOrPercent {
  bool percent = false;
  int64_t value = 0;
};

std::optional<IntOrPercent> int_or_percent(const value& spec, const char* field) {
  if (!spec.has_field(field) || spec.at(field).is_null()) return std::nullopt;
  const auto& v = spec.at(field);
  if (v.is_number()) return IntOrPercent{false, v.as_number().to_int64()};
  auto s = v.as_string();
  IntOrPercent r;
  r.percent = !s.empty() && s.back() == '%';
  if (r.percent) s.pop_back();
  try {
    r.value = std::stol(s);
  } catch (const std::exception&) {
    r.value = 0;
  }
  return r;
}

class PdbController final : public SimController {
 public:
  const char* name() const override { return "disruption"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    // Controllers by uid, for their scale.
    auto by_uid = [&](const std::string& u) -> const value* {
      for (const char* r : {"apps/replicasets", "apps/deployments", "apps/statefulsets"})
        if (const value* o = snap.cache->by_uid(r, u)) return o;
      return nullptr;
    };
    // A controller's scale (a Deployment's for its ReplicaSets) by the controller's uid, for
    // this pass: a PDB's pods mostly share one controller, found once rather than per pod.
    struct Scale {
      std::string top_uid;  // empty: the controller is gone
      int64_t replicas = 0;
    };
    std::unordered_map<std::string_view, Scale> scale_of;  // keys: Snapshot::pod_controller_uid views
    const auto now = sim.now();
    for (const auto& pdb : touched(snap, now)) {
      const value* spec_at = at(pdb, {"spec"});
      static const value kNoSpec = value::object();
      const value& spec = spec_at ? *spec_at : kNoSpec;  // a reference: `c ? member : value::object()` copied the spec
      const auto& pdb_ns = ns(pdb);
      const Selector* selector = nullptr;  // a nil selector selects nothing
      if (auto sel = selectors_.find(store_key(pdb_ns, json::name(pdb))); sel != selectors_.end()) selector = &sel->second;
      // The selected pods as counted by the cache when the selector is one label (every
      // PDB of a Deployment's app label); otherwise walked here.
      const SimCache::LabelTally* tally = selector ? snap.cache->pods_tally(pdb_ns, *selector) : nullptr;
      std::vector<const value*> pods;
      if (selector && !tally) pods = snap.cache->pods_selected(pdb_ns, *selector).items;
      const auto min_avail = int_or_percent(spec, "minAvailable");
      const auto max_unavail = int_or_percent(spec, "maxUnavailable");
      int64_t expected = 0, desired = 0;
      if (max_unavail || (min_avail && min_avail->percent)) {
        // Expected count is the scale of the pods' controllers (a Deployment's for its RSs).
        std::set<std::string> seen;
        auto count_controller = [&](std::string_view cu, int64_t pods_of_it) {
          if (cu.empty()) {
            expected += pods_of_it;  // a bare pod counts as itself
            return;
          }
          auto [scale, fresh] = scale_of.try_emplace(cu);
          if (fresh) {
            if (const value* owner = by_uid(std::string(cu))) {
              if (const value* parent = by_uid(controller_uid(*owner))) owner = parent;
              scale->second = {uid(*owner), num(*owner, {"spec", "replicas"}, 1)};
            }
          }
          if (scale->second.top_uid.empty()) return;
          if (seen.insert(scale->second.top_uid).second) expected += scale->second.replicas;
        };
        if (tally) {
          for (const auto& [cu, n] : tally->controllers) count_controller(cu, static_cast<int64_t>(n));
        } else {
          for (const auto* p : pods) count_controller(snap.pod_controller_uid(*p), 1);
        }
        if (max_unavail) {
          const int64_t mu = max_unavail->percent
                                 ? static_cast<int64_t>(std::ceil(static_cast<double>(max_unavail->value * expected) / 100.0))
                                 : max_unavail->value;
          desired = std::max<int64_t>(0, expected - mu);
        } else {
          desired = static_cast<int64_t>(std::ceil(static_cast<double>(min_avail->value * expected) / 100.0));
        }
      } else {
        expected = static_cast<int64_t>(tally ? tally->pods : pods.size());
        desired = min_avail ? min_avail->value : 0;
      }
      // disruptedPods: kept while the pod still exists, is not terminating and is younger
      // than 2 minutes; such pods do not count as healthy.
      value disrupted = value::object();
      // The entries kept, as the cache's models (tally) or the selected pods' DOMs (walked).
      std::unordered_set<const model::Pod*> disrupted_models;
      std::unordered_set<const value*> disrupted_pods;
      if (const value* d = at(pdb, {"status", "disruptedPods"}); d && d->is_object() && d->size() > 0) {
        // The selected pods by name, once (an evacuation keeps entries in most PDBs, and
        // walking every pod's JSON for its name per entry was a sixth of this controller).
        std::unordered_map<std::string_view, const value*> by_name;
        if (!tally)
          for (const auto* p : pods)
            if (const value* n = at(*p, {"metadata", "name"}); n && n->is_string()) by_name.emplace(n->as_string(), p);
        for (const auto& [pod_name, when] : d->as_object()) {
          auto t = kube::parse_rfc3339(when.as_string());
          const model::Pod* model_pod = nullptr;
          const value* pod = nullptr;
          if (tally) {
            model_pod = snap.cache->selected_pod(pdb_ns, *selector, pod_name);
          } else if (const auto found = by_name.find(pod_name); found != by_name.end()) {
            pod = found->second;
          }
          if (!model_pod && !pod) continue;
          const bool terminating = model_pod ? model_pod->meta.deleted.has_value() : snap.pod_terminating(*pod);
          if (terminating || !t || now - *t > std::chrono::minutes(2)) continue;
          timers_.at(store_key(pdb_ns, json::name(pdb)), *t + std::chrono::minutes(2) + std::chrono::seconds(1));
          disrupted[pod_name] = when;
          if (model_pod) disrupted_models.insert(model_pod);
          else disrupted_pods.insert(pod);
        }
      }
      int64_t healthy = 0;
      if (tally) {
        healthy = static_cast<int64_t>(tally->ready_staying);
        for (const auto* p : disrupted_models) healthy -= p->ready && !p->meta.deleted ? 1 : 0;
      } else {
        for (const auto* p : pods)
          if (snap.pod_ready_and_staying(*p) && !disrupted_pods.count(p)) ++healthy;
      }
      const int64_t allowed = std::max<int64_t>(0, healthy - desired);
      value st = value::object();
      st["observedGeneration"] = value::number(num(pdb, {"metadata", "generation"}, 1));
      st["disruptionsAllowed"] = value::number(allowed);
      st["currentHealthy"] = value::number(healthy);
      st["desiredHealthy"] = value::number(desired);
      st["expectedPods"] = value::number(expected);
      if (disrupted.size() > 0) st["disruptedPods"] = disrupted;
      value c = value::object();
      c["type"] = value::string("DisruptionAllowed");
      c["status"] = value::string(allowed > 0 ? "True" : "False");
      c["reason"] = value::string(allowed > 0 ? "SufficientPods" : "InsufficientPods");
      c["message"] = value::string("");
      c["observedGeneration"] = st["observedGeneration"];
      std::string since = now_text(now);
      if (const value* cs = at(pdb, {"status", "conditions"}); cs && cs->is_array())
        for (const auto& old : cs->as_array())
          if (str(old, {"status"}) == c.at("status").as_string()) since = str(old, {"lastTransitionTime"}, since);
      c["lastTransitionTime"] = value::string(since);
      st["conditions"][0] = c;
      sim.set_status(object_path("policy/v1", "poddisruptionbudgets", ns(pdb), json::name(pdb)), pdb, std::move(st));
    }
    if (auto t = timers_.earliest()) sim.wake_at(*t);
  }

 private:
  // The PDBs whose status may have moved: changed ones, those selecting a changed pod, all
  // of a namespace whose workloads changed scale, and those whose disruptedPods expire now.
  Objects touched(const Snapshot& snap, kube::TimePoint now) {
    std::set<std::string> keys;
    for (const auto& ch : snap.cache->changed("policy/poddisruptionbudgets"))
      if (ch.object) keys.insert(ch.key);
    std::set<std::string> workload_namespaces;
    for (const char* r : {"apps/replicasets", "apps/deployments", "apps/statefulsets"})
      for (const auto& ch : snap.cache->changed(r))
        if (ch.spec_changed) workload_namespaces.insert(ch.ns);  // its scale may have moved
    for (const auto& ch : snap.cache->changed("policy/poddisruptionbudgets")) {
      if (auto old = selectors_.find(ch.key); old != selectors_.end()) {
        by_ns_[ch.ns].erase(ch.key);
        by_label_[bucket(ch.ns, old->second)].erase(ch.key);
        selectors_.erase(old);
      }
      if (!ch.object) continue;
      const value* sel = at(ch.last(), {"spec", "selector"});
      if (!sel || sel->is_null()) continue;  // selects nothing
      const auto& parsed = selectors_[ch.key] = selector_of(*sel);
      by_ns_[ch.ns].insert(ch.key);
      by_label_[bucket(ch.ns, parsed)].insert(ch.key);
    }
    for (const auto& n : workload_namespaces)
      for (const auto& k : by_ns_[n]) keys.insert(k);
    // The PDBs a changed pod may count for: those whose equality requirement one of its
    // labels meets, and those of its namespace without one.
    for (const auto& ch : snap.cache->changed("/pods")) {
      if (!by_ns_.count(ch.ns)) continue;
      // Its labels from the decoded pod (building a changed pod's DOM for them was most of
      // what this controller cost the cache).
      StringMap pod_labels;
      if (ch.pod) {
        for (const auto& [k, v] : ch.pod->meta.label_set()) pod_labels.emplace(k.str(), v.str());
      } else {
        pod_labels = labels(ch.last());
      }
      auto consider = [&](const std::string& index_key) {
        auto it = by_label_.find(index_key);
        if (it == by_label_.end()) return;
        for (const auto& k : it->second)
          if (selectors_.at(k).matches(pod_labels)) keys.insert(k);
      };
      consider(ch.ns);
      for (const auto& [k, v] : pod_labels) consider(label_index_key(ch.ns, k, v));
    }
    for (auto& k : timers_.take_due(now)) keys.insert(std::move(k));
    Objects out;
    for (const auto& k : keys) {
      timers_.cancel(k);
      if (const value* o = snap.cache->get("policy/poddisruptionbudgets", k)) out.items.push_back(o);
    }
    return out;
  }
  KeyTimers timers_;
  std::map<std::string, Selector> selectors_;                  // PDB key → its selector
  std::map<std::string, std::set<std::string>> by_ns_;         // namespace → PDB keys with a selector
  // PDB keys by the label index key of their selector's first equality requirement, or by
  // bare namespace (which no label index key equals) when it has none.
  std::unordered_map<std::string, std::set<std::string>> by_label_;
  static std::string bucket(const std::string& ns, const Selector& sel) {
    auto k = label_index_key(ns, sel);
    return k.empty() ? ns : k;
  }
};

}  // namespace

std::unique_ptr<SimController> make_pdb_controller() { return std::make_unique<PdbController>(); }

}  // namespace nonevent::sim
