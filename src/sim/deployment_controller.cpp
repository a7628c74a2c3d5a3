// The Deployment controller as kube-controller-manager's pkg/controller/deployment runs it:
// one ReplicaSet per pod template (<name>-<hash>, annotated with its revision), rolled out
// by the strategy — RollingUpdate within maxSurge and maxUnavailable (rolling.go: the new
// ReplicaSet scaled up first, old ones scaled down only as far as availability allows, their
// unhealthy pods first), or Recreate (recreate.go: old pods gone before new ones start) —
// with paused Deployments left alone, a rollback (an older template) taking a new revision,
// old ReplicaSets beyond revisionHistoryLimit deleted, and the status and the Available and
// Progressing conditions written as sync.go and progress.go write them (minReadySeconds
// counts towards availability; progressDeadlineSeconds turns Progressing False).
#include <algorithm>
#include <set>
#include <unordered_map>

#include "model/objects.h"
#include "sim/controllers.h"
#include "sim/json_util.h"
#include "sim/key_timers.h"
#include "sim/object_store.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

constexpr const char* kRevision = "deployment.kubernetes.io/revision";


// maxSurge / maxUnavailable of `total` (model::IntOrPercent::scaled), `fallback` when unset;
// 0 for a value that is neither an integer nor a percentage.
int64_t scaled(const value* v, int64_t total, bool round_up, const char* fallback) {
  const std::string text = v ? (v->is_string() ? v->as_string() : v->serialize()) : fallback;
  return model::IntOrPercent::parse(text).value_or(model::IntOrPercent{}).scaled(total, round_up);
}

// A template with nulls and empty objects and arrays left out, for comparing two that mean
// the same.
value normalized(const value& v) {
  if (v.is_object()) {
    value out = value::object();
    for (const auto& [k, x] : v.as_object()) {
      value n = normalized(x);
      if (n.is_null() || (n.is_object() && n.size() == 0) || (n.is_array() && n.size() == 0)) continue;
      out[k] = std::move(n);
    }
    return out;
  }
  if (v.is_array()) {
    value out = value::array(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = normalized(v.at(i));
    return out;
  }
  return v;
}

int64_t revision_of(const value& rs) {
  const std::string r = str(rs, {"metadata", "annotations", kRevision});
  return r.empty() ? 0 : std::atoll(r.c_str());
}

// One ReplicaSet as the rollout sees it.
struct Set {
  const value* obj;
  std::string name;
  int64_t replicas;   // spec
  int64_t active;     // pods not terminating
  int64_t ready;
  int64_t available;  // ready for minReadySeconds
  int64_t revision;
  std::string path;
};

class DeploymentController final : public SimController {
 public:
  const char* name() const override { return "deployment"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    for (const auto& ch : snap.cache->changed("apps/deployments"))
      if (!ch.object) hash_by_uid_.erase(uid(ch.last()));
    std::map<std::string, const value*> todo;
    for (const auto& d : snap.cache->touched("apps/deployments")) todo[store_key(ns(d), json::name(d))] = &d;
    for (auto& k : timers_.take_due(sim.now()))
      if (const value* d = snap.cache->get("apps/deployments", k)) todo[k] = d;
    for (const auto& [key, d] : todo) {
      timers_.cancel(key);
      if (!terminating(*d)) sync(sim, snap, *d, key);
    }
    if (auto t = timers_.earliest()) sim.wake_at(*t);
  }

 private:
  void sync(Simulation& sim, const Snapshot& snap, const value& d, const std::string& key) {
    const value* tmpl = at(d, {"spec", "template"});
    if (!tmpl) return;
    const std::string hash = hash_of(d, *tmpl);
    const int64_t want = num(d, {"spec", "replicas"}, 1);
    const int64_t min_ready_s = num(d, {"spec", "minReadySeconds"});
    Set* fresh = nullptr;
    std::vector<Set> sets;
    for (const auto& rs : snap.cache->owned_by("apps/replicasets", uid(d))) {
      Set s{&rs, json::name(rs), num(rs, {"spec", "replicas"}, 1), 0, 0, 0, revision_of(rs),
            object_path("apps/v1", "replicasets", ns(rs), json::name(rs))};
      count(sim, snap, s, min_ready_s, key);
      sets.push_back(s);
    }
    for (auto& s : sets)
      if (str(*s.obj, {"metadata", "labels", "pod-template-hash"}) == hash) fresh = &s;
    // A template put back from an old ReplicaSet (kubectl rollout undo) reads a little
    // differently (Go's typed client adds creationTimestamp: null and empty members): that
    // ReplicaSet is the new one again, as deployment/util.EqualIgnoreHash finds it.
    if (!fresh) {
      const value wanted = normalized(*tmpl);
      for (auto& s : sets)
        if (const value* t = at(*s.obj, {"spec", "template"})) {
          value theirs = *t;
          if (theirs.has_field("metadata") && theirs.at("metadata").has_field("labels") &&
              theirs.at("metadata").at("labels").has_field("pod-template-hash"))
            theirs["metadata"]["labels"].erase("pod-template-hash");
          if (normalized(theirs) == wanted) fresh = &s;
        }
    }
    std::vector<Set*> old;
    int64_t max_old_revision = 0;
    for (auto& s : sets)
      if (&s != fresh) {
        old.push_back(&s);
        max_old_revision = std::max(max_old_revision, s.revision);
      }
    // Oldest first, as the old ReplicaSets are scaled down (controller.ReplicaSetsByCreationTimestamp).
    std::sort(old.begin(), old.end(), [](const Set* a, const Set* b) {
      const auto ca = str(*a->obj, {"metadata", "creationTimestamp"}), cb = str(*b->obj, {"metadata", "creationTimestamp"});
      return ca != cb ? ca < cb : a->name < b->name;
    });
    const bool paused = flag(d, {"spec", "paused"});
    const bool recreate = str(d, {"spec", "strategy", "type"}) == "Recreate";
    const int64_t surge = recreate ? 0 : scaled(at(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}), want, true, "25%");
    int64_t unavailable = recreate ? 0 : scaled(at(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), want, false, "25%");
    if (!recreate && surge == 0 && unavailable == 0) unavailable = 1;  // deployment/util.ResolveFenceposts
    std::string progress_reason;  // set when this sync moved the rollout on

    auto scale = [&](Set& s, int64_t to) {
      if (s.replicas == to) return;
      value p = value::object();
      p["spec"]["replicas"] = value::number(to);
      p["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = value::string(std::to_string(want));
      p["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = value::string(std::to_string(want + surge));
      sim.patch(s.path, p);
      s.replicas = to;
      progress_reason = "ReplicaSetUpdated";
    };
    // Old pods still running, terminating ones included (recreate.go's oldPodsRunning):
    // Recreate starts nothing new until they are all gone.
    int64_t old_replicas = 0, old_active = 0;
    for (const auto* s : old) {
      old_replicas += s->replicas;
      if (recreate) {
        for (const auto* p : snap.cache->pod_models_owned_by(uid(*s->obj))) old_active += !p->finished();
      } else {
        old_active += s->active;
      }
    }

    if (!fresh && !paused) {
      // A new template: its ReplicaSet, with the next revision, starting at what the strategy allows.
      const int64_t start = recreate ? (old_active == 0 && old_replicas == 0 ? want : 0)
                                     : std::clamp(want + surge - old_replicas, int64_t{0}, want);
      create_replica_set(sim, d, *tmpl, hash, start, max_old_revision + 1, want, surge);
      set_revision(sim, d, max_old_revision + 1);
      write_status(sim, d, sets, nullptr, want, unavailable, "NewReplicaSetCreated",
                   "Created new replica set \"" + json::name(d) + "-" + hash + "\"", key);
      return;
    }
    if (fresh) {
      // An older template again (kubectl rollout undo): it becomes the newest revision.
      if (fresh->revision <= max_old_revision) {
        value p = value::object();
        p["metadata"]["annotations"][kRevision] = value::string(std::to_string(max_old_revision + 1));
        sim.patch(fresh->path, p);
        fresh->revision = max_old_revision + 1;
      }
      if (str(d, {"metadata", "annotations", kRevision}) != std::to_string(fresh->revision)) set_revision(sim, d, fresh->revision);
    }
    if (fresh && !paused) {
      if (recreate) {
        for (auto* s : old) scale(*s, 0);
        if (old_active == 0 && old_replicas == 0) scale(*fresh, want);
      } else {
        roll(*fresh, old, want, surge, unavailable, scale);
      }
    }
    prune_history(sim, d, old);
    write_status(sim, d, sets, fresh, want, unavailable, progress_reason, "", key);
  }

  // rolling.go's rolloutRolling: scale the new ReplicaSet up within maxSurge; if it did not
  // grow, scale old ones down without going below want - maxUnavailable available pods.
  template <typename Scale>
  static void roll(Set& fresh, std::vector<Set*>& old, int64_t want, int64_t surge, int64_t unavailable, Scale&& scale) {
    int64_t all = fresh.replicas;
    for (const auto* s : old) all += s->replicas;
    if (fresh.replicas > want) {
      scale(fresh, want);
      return;
    }
    if (fresh.replicas < want) {
      const int64_t room = want + surge - all;
      if (room > 0) {
        scale(fresh, fresh.replicas + std::min(room, want - fresh.replicas));
        return;
      }
    }
    int64_t old_count = 0;
    for (const auto* s : old) old_count += s->replicas;
    if (old_count == 0) return;
    const int64_t min_available = want - unavailable;
    const int64_t new_unavailable = fresh.replicas - fresh.available;
    int64_t max_down = all - min_available - new_unavailable;
    if (max_down <= 0) return;
    // Unhealthy old pods first (cleanupUnhealthyReplicas).
    for (auto* s : old) {
      if (max_down <= 0) break;
      const int64_t unhealthy = s->replicas - s->available;
      if (unhealthy <= 0) continue;
      const int64_t n = std::min(max_down, unhealthy);
      scale(*s, s->replicas - n);
      max_down -= n;
    }
    // Then available ones, as far as availability allows (scaleDownOldReplicaSetsForRollingUpdate).
    int64_t available = fresh.available;
    for (const auto* s : old) available += s->available;
    int64_t total_down = std::min(max_down, available - min_available);
    for (auto* s : old) {
      if (total_down <= 0) break;
      const int64_t n = std::min(s->replicas, total_down);
      if (n <= 0) continue;
      scale(*s, s->replicas - n);
      total_down -= n;
    }
  }

  // Pods of the set: active, ready, and available (Ready for minReadySeconds; a wake-up is
  // asked for when the next one will be).
  void count(Simulation& sim, const Snapshot& snap, Set& s, int64_t min_ready_s, const std::string& key) {
    const auto& tally = snap.cache->owner_tally(uid(*s.obj));
    s.active = static_cast<int64_t>(tally.active);
    s.ready = static_cast<int64_t>(tally.active_ready);
    if (min_ready_s <= 0) {
      s.available = s.ready;
      return;
    }
    const auto now = sim.now();
    for (const auto* p : snap.cache->pod_models_owned_by(uid(*s.obj))) {
      if (p->meta.deleted || p->finished() || !p->ready || !p->ready_since) continue;
      const auto when = *p->ready_since + std::chrono::seconds(min_ready_s);
      if (when <= now) ++s.available;
      else wake(key, when);
    }
  }

  void wake(const std::string& key, kube::TimePoint t) {
    auto e = timers_.earliest_for(key);
    if (!e || t < *e) timers_.at(key, t);
  }

  void create_replica_set(Simulation& sim, const value& d, const value& tmpl, const std::string& hash, int64_t replicas,
                          int64_t revision, int64_t want, int64_t surge) {
    value rs = value::object();
    rs["apiVersion"] = value::string("apps/v1");
    rs["kind"] = value::string("ReplicaSet");
    rs["metadata"]["name"] = value::string(json::name(d) + "-" + hash);
    rs["metadata"]["namespace"] = value::string(ns(d));
    value lbls = at(tmpl, {"metadata", "labels"}) ? tmpl.at("metadata").at("labels") : value::object();
    lbls["pod-template-hash"] = value::string(hash);
    rs["metadata"]["labels"] = lbls;
    rs["metadata"]["annotations"][kRevision] = value::string(std::to_string(revision));
    rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = value::string(std::to_string(want));
    rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = value::string(std::to_string(want + surge));
    rs["metadata"]["ownerReferences"][0] = owner_ref(d);
    rs["spec"]["replicas"] = value::number(replicas);
    if (const value* mrs = at(d, {"spec", "minReadySeconds"})) rs["spec"]["minReadySeconds"] = *mrs;
    rs["spec"]["selector"] = at(d, {"spec", "selector"}) ? d.at("spec").at("selector") : value::object();
    rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] = value::string(hash);
    rs["spec"]["template"] = tmpl;
    rs["spec"]["template"]["metadata"]["labels"] = lbls;
    sim.create(object_path("apps/v1", "replicasets", ns(d)), rs);
  }

  static void set_revision(Simulation& sim, const value& d, int64_t revision) {
    value p = value::object();
    p["metadata"]["annotations"][kRevision] = value::string(std::to_string(revision));
    sim.patch(object_path("apps/v1", "deployments", ns(d), json::name(d)), p);
  }

  // Old ReplicaSets scaled to 0 and empty, beyond spec.revisionHistoryLimit (default 10),
  // oldest first (sync.go cleanupDeployment).
  static void prune_history(Simulation& sim, const value& d, const std::vector<Set*>& old) {
    const int64_t limit = num(d, {"spec", "revisionHistoryLimit"}, 10);
    std::vector<const Set*> idle;
    for (const auto* s : old)
      if (s->replicas == 0 && s->active == 0) idle.push_back(s);
    std::sort(idle.begin(), idle.end(), [](const Set* a, const Set* b) { return a->revision < b->revision; });
    for (size_t i = 0; static_cast<int64_t>(idle.size() - i) > limit; ++i) sim.remove(idle[i]->path);
  }

  void write_status(Simulation& sim, const value& d, const std::vector<Set>& sets, const Set* fresh, int64_t want, int64_t unavailable,
                    const std::string& progress_reason, const std::string& progress_message, const std::string& key) {
    int64_t active = 0, ready = 0, available = 0;
    for (const auto& s : sets) active += s.active, ready += s.ready, available += s.available;
    const int64_t updated = fresh ? fresh->active : 0;
    value st = value::object();
    st["observedGeneration"] = value::number(num(d, {"metadata", "generation"}, 1));
    st["replicas"] = value::number(active);
    st["updatedReplicas"] = value::number(updated);
    st["readyReplicas"] = value::number(ready);
    st["availableReplicas"] = value::number(available);
    if (want - available > 0) st["unavailableReplicas"] = value::number(want - available);
    const std::string now = now_text(sim.now());
    const value* old_conditions = at(d, {"status", "conditions"});
    auto previous = [&](const char* type) -> const value* {
      if (old_conditions && old_conditions->is_array())
        for (const auto& c : old_conditions->as_array())
          if (str(c, {"type"}) == type) return &c;
      return nullptr;
    };
    auto condition = [&](const char* type, const std::string& status, const std::string& reason, const std::string& message,
                         bool progressed) {
      value c = value::object();
      c["type"] = value::string(type);
      c["status"] = value::string(status);
      c["reason"] = value::string(reason);
      c["message"] = value::string(message);
      const value* was = previous(type);
      const bool same = was && str(*was, {"status"}) == status;
      c["lastTransitionTime"] = value::string(same ? str(*was, {"lastTransitionTime"}, now) : now);
      c["lastUpdateTime"] = value::string(same && !progressed && str(*was, {"reason"}) == reason ? str(*was, {"lastUpdateTime"}, now) : now);
      return c;
    };
    const bool available_ok = available >= want - unavailable;
    value conds = value::array();
    conds[0] = condition("Available", available_ok ? "True" : "False", available_ok ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                         available_ok ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", false);
    const std::string rs_name = fresh ? fresh->name : json::name(d) + "-" + hash_by_uid_[uid(d)].second;
    const bool complete = fresh && updated == want && active == want && available == want;
    const int64_t deadline_s = num(d, {"spec", "progressDeadlineSeconds"}, 600);
    const value* was = previous("Progressing");
    // Progress: counts that moved since the status last written, or a step this sync took.
    const bool moved = !progress_reason.empty() || num(d, {"status", "updatedReplicas"}) != updated ||
                       num(d, {"status", "availableReplicas"}) != available || num(d, {"status", "replicas"}) != active;
    if (flag(d, {"spec", "paused"})) {
      conds[1] = condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", false);
    } else if (complete) {
      conds[1] = condition("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet \"" + rs_name + "\" has successfully progressed.", moved);
    } else if (moved || !was) {
      conds[1] = condition("Progressing", "True", progress_reason == "NewReplicaSetCreated" ? "NewReplicaSetCreated" : "ReplicaSetUpdated",
                           !progress_message.empty() ? progress_message : "ReplicaSet \"" + rs_name + "\" is progressing.", true);
      wake(key, sim.now() + std::chrono::seconds(deadline_s) + std::chrono::seconds(1));
    } else {
      // No progress: past the deadline since the last, Progressing turns False.
      const auto last = kube::parse_rfc3339(str(*was, {"lastUpdateTime"}));
      if (str(*was, {"reason"}) != "ProgressDeadlineExceeded" && last && sim.now() >= *last + std::chrono::seconds(deadline_s)) {
        conds[1] = condition("Progressing", "False", "ProgressDeadlineExceeded", "ReplicaSet \"" + rs_name + "\" has timed out progressing.", true);
      } else {
        conds[1] = *was;
        if (str(*was, {"status"}) == "True" && last) wake(key, *last + std::chrono::seconds(deadline_s) + std::chrono::seconds(1));
      }
    }
    st["conditions"] = conds;
    set_status_if_changed(sim, d, std::move(st));
  }

  static void set_status_if_changed(Simulation& sim, const value& d, value st) {
    sim.set_status(object_path("apps/v1", "deployments", ns(d), json::name(d)), d, std::move(st));
  }

  // The template's hash, computed again only when the spec changed (a new generation).
  const std::string& hash_of(const value& d, const value& tmpl) {
    auto& [generation, hash] = hash_by_uid_[uid(d)];
    const auto g = num(d, {"metadata", "generation"}, 1);
    if (hash.empty() || generation != g) {
      generation = g;
      hash = template_hash(tmpl);
    }
    return hash;
  }
  std::unordered_map<std::string, std::pair<int64_t, std::string>> hash_by_uid_;  // uid → (generation, hash)
  KeyTimers timers_;
};

}  // namespace

std::unique_ptr<SimController> make_deployment_controller() { return std::make_unique<DeploymentController>(); }

}  // namespace nonevent::sim
