// The simulated controllers' informer: what a pass sees as changed, the lookups, and the
// scheduler's running totals, kept right change by change.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "model/codecs.h"
#include "sim/json_text.h"
#include "sim/json_util.h"
#include "sim/pass_worker.h"
#include "sim/sim_cache.h"

namespace nonevent::sim {
namespace {

using web::json::value;

value pod(const std::string& name, const std::string& node, const std::string& owner_uid, const std::string& app) {
  value p = value::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","labels":{}},
    "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"250m","memory":"1Gi"}}}]},"status":{"phase":"Running"}})");
  p["metadata"]["name"] = value::string(name);
  p["metadata"]["labels"]["app"] = value::string(app);
  if (!node.empty()) p["spec"]["nodeName"] = value::string(node);
  if (!owner_uid.empty()) {
    p["metadata"]["ownerReferences"][0]["uid"] = value::string(owner_uid);
    p["metadata"]["ownerReferences"][0]["controller"] = value::boolean(true);
  }
  return p;
}

struct Fixture {
  ObjectStore store;
  SimCache cache;
  Fixture() {
    store.add_observer([this](const Change& c) { cache.on_change(c); });
  }
  std::vector<std::string> changed_keys(const std::string& r) {
    std::vector<std::string> out;
    for (const auto& ch : cache.changed(r)) out.push_back(ch.key + (ch.object ? "" : " (deleted)"));
    return out;
  }
};

TEST(SimCache, APassSeesEachChangedObjectOnceWithItsPreviousNodeAndOwner) {
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "rs-1", "web")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("b", "", "rs-1", "web")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.changed_keys("/pods"), (std::vector<std::string>{"ns/a", "ns/b"}));
  f.cache.clear_changes();
  EXPECT_TRUE(f.cache.changed("/pods").empty());

  // b is bound, then bound again, then a is deleted: one record each, the first previous.
  ASSERT_TRUE(f.store.update("/pods", pod("b", "n2", "rs-1", "web")).ok());
  ASSERT_TRUE(f.store.update("/pods", pod("b", "n3", "rs-2", "web")).ok());
  ASSERT_TRUE(f.store.remove("/pods", "ns", "a").ok());
  f.cache.apply_pending();
  ASSERT_EQ(f.changed_keys("/pods"), (std::vector<std::string>{"ns/b", "ns/a (deleted)"}));
  const auto& b = f.cache.changed("/pods")[0];
  EXPECT_EQ(b.previous_node, "");
  EXPECT_EQ(b.node, "n3");
  EXPECT_EQ(b.previous_owner_uid, "rs-1");
  EXPECT_EQ(b.owner_uid, "rs-2");
  EXPECT_EQ(json::name(f.cache.changed("/pods")[1].last()), "a") << "a deleted object keeps its last state";
}

TEST(SimCache, LookupsFollowOwnerNodeAndLabelChanges) {
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "rs-1", "web")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("b", "n1", "rs-1", "api")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("c", "n2", "rs-2", "web")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.owned_by("/pods", "rs-1").size(), 2u);
  EXPECT_EQ(f.cache.pods_on_node("n1").size(), 2u);
  EXPECT_EQ(f.cache.pods_in_namespace("ns").size(), 3u);
  auto web = parse_label_selector("app=web");
  ASSERT_TRUE(web.selector);
  EXPECT_EQ(f.cache.pods_selected("ns", *web.selector).size(), 2u);
  auto not_web = parse_label_selector("app!=web");
  EXPECT_EQ(f.cache.pods_selected("ns", *not_web.selector).size(), 1u) << "no equality: the namespace is scanned";

  ASSERT_TRUE(f.store.update("/pods", pod("a", "n2", "rs-2", "api")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.owned_by("/pods", "rs-1").size(), 1u);
  EXPECT_EQ(f.cache.pods_on_node("n1").size(), 1u);
  EXPECT_EQ(f.cache.pods_selected("ns", *web.selector).size(), 1u);
}

TEST(SimCache, ABindingMovesAPodInTheNodeIndexAndKeepsEverythingElseFiled) {
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "", "rs-1", "web")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("b", "n1", "rs-1", "web")).ok());
  f.cache.apply_pending();
  f.cache.clear_changes();
  ASSERT_TRUE(f.store.update("/pods", pod("a", "n1", "rs-1", "web")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.pod_keys_on_node("n1"), (std::vector<std::string>{"ns/a", "ns/b"}));
  EXPECT_EQ(f.cache.owned_by("/pods", "rs-1").size(), 2u);
  EXPECT_EQ(f.cache.pods_in_namespace("ns").size(), 2u);
  auto web = parse_label_selector("app=web");
  ASSERT_TRUE(web.selector);
  EXPECT_EQ(f.cache.pods_selected("ns", *web.selector).size(), 2u);
  ASSERT_NE(f.cache.pods_tally("ns", *web.selector), nullptr);
  EXPECT_EQ(f.cache.pods_tally("ns", *web.selector)->pods, 2u);
  EXPECT_EQ(f.cache.owner_tally("rs-1").active, 2u);
  EXPECT_EQ(f.cache.usage().at("n1").pods, 2);
  ASSERT_EQ(f.cache.changed("/pods").size(), 1u);
  EXPECT_FALSE(f.cache.changed("/pods")[0].spec_changed) << "the same generation";
  EXPECT_TRUE(f.cache.changed("/pods")[0].previous_generation.has_value()) << "it was there before";
  f.cache.clear_changes();

  // Moved again (the cache files what the store holds, whatever a binding allows).
  ASSERT_TRUE(f.store.update("/pods", pod("a", "n2", "rs-1", "web")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.pod_keys_on_node("n1"), (std::vector<std::string>{"ns/b"}));
  EXPECT_EQ(f.cache.pod_keys_on_node("n2"), (std::vector<std::string>{"ns/a"}));
  EXPECT_EQ(f.cache.usage().at("n1").pods, 1);
  EXPECT_EQ(f.cache.owner_tally("rs-1").active, 2u);
  EXPECT_EQ(f.cache.pods_tally("ns", *web.selector)->pods, 2u);
}

TEST(SimCache, TouchedWorkloadsAreTheChangedOnesAndTheOwnersOfChangedPods) {
  Fixture f;
  auto object = [](const std::string& kind, const std::string& name, const std::string& uid, const std::string& owner_uid) {
    value o = value::object();
    o["apiVersion"] = value::string("apps/v1");
    o["kind"] = value::string(kind);
    o["metadata"]["namespace"] = value::string("ns");
    o["metadata"]["name"] = value::string(name);
    o["metadata"]["uid"] = value::string(uid);
    if (!owner_uid.empty()) {
      o["metadata"]["ownerReferences"][0]["uid"] = value::string(owner_uid);
      o["metadata"]["ownerReferences"][0]["controller"] = value::boolean(true);
    }
    return o;
  };
  ASSERT_TRUE(f.store.create("apps/deployments", object("Deployment", "d1", "d-1", "")).ok());
  ASSERT_TRUE(f.store.create("apps/deployments", object("Deployment", "d2", "d-2", "")).ok());
  ASSERT_TRUE(f.store.create("apps/replicasets", object("ReplicaSet", "r1", "rs-1", "d-1")).ok());
  ASSERT_TRUE(f.store.create("apps/replicasets", object("ReplicaSet", "r2", "rs-2", "d-2")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "rs-1", "web")).ok());
  f.cache.apply_pending();
  f.cache.clear_changes();
  auto names = [](const Objects& objects) {
    std::vector<std::string> out;
    for (const auto& o : objects) out.push_back(json::name(o));
    return out;
  };
  EXPECT_TRUE(f.cache.touched("apps/replicasets").empty()) << "nothing changed";

  // A pod moves from r1 to r2: both ReplicaSets, and through them both Deployments.
  ASSERT_TRUE(f.store.update("/pods", pod("a", "n1", "rs-2", "web")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(names(f.cache.touched("apps/replicasets")), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(names(f.cache.touched("apps/deployments")), (std::vector<std::string>{"d1", "d2"}));
  f.cache.clear_changes();

  // A ReplicaSet changes alone: itself, and its Deployment.
  value r1 = object("ReplicaSet", "r1", "rs-1", "d-1");
  r1["spec"]["replicas"] = value::number(3);
  ASSERT_TRUE(f.store.update("apps/replicasets", r1).ok());
  f.cache.apply_pending();
  EXPECT_EQ(names(f.cache.touched("apps/replicasets")), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(names(f.cache.touched("apps/deployments")), (std::vector<std::string>{"d1"}));
}

TEST(SimCache, APodsDomIsBuiltOnlyWhenAskedForAndOnceFromEitherThread) {
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "rs-1", "web")).ok());
  f.cache.apply_pending();
  const long before = CachedJson::lazy_builds();
  // What the hot controllers read comes from the model and the indexes: no DOM.
  ASSERT_EQ(f.cache.changed("/pods").size(), 1u);
  const auto& ch = f.cache.changed("/pods")[0];
  ASSERT_NE(ch.object, nullptr);
  ASSERT_NE(ch.pod, nullptr);
  EXPECT_EQ(ch.pod->node_name.str(), "n1");
  EXPECT_EQ(f.cache.pod_keys_on_node("n1"), (std::vector<std::string>{"ns/a"}));
  const auto owned = f.cache.pod_models_owned_by("rs-1");
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0]->meta.name, "a");
  EXPECT_EQ(f.cache.pod_model("ns/a"), ch.pod.get());
  EXPECT_EQ(CachedJson::lazy_builds(), before) << "nothing asked for the DOM yet";

  // Both threads of a pass ask at once: one builds, both get the same DOM.
  const CachedJson* lazy = f.cache.pod_json("ns/a");
  ASSERT_NE(lazy, nullptr);
  const value* seen[2] = {nullptr, nullptr};
  std::thread other([&] { seen[1] = &lazy->get(); });
  seen[0] = &lazy->get();
  other.join();
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[0], lazy->address());
  EXPECT_EQ(CachedJson::lazy_builds(), before + 1);
  EXPECT_EQ(json::str(*seen[0], {"spec", "nodeName"}), "n1");
  EXPECT_EQ(f.cache.pod_of(*seen[0]), ch.pod.get()) << "the model is found from the DOM";

  // The next state is built again (at the same address) only when asked for.
  ASSERT_TRUE(f.store.update("/pods", pod("a", "n2", "rs-1", "web")).ok());
  f.cache.clear_changes();
  f.cache.apply_pending();
  EXPECT_EQ(CachedJson::lazy_builds(), before + 1);
  EXPECT_EQ(json::str(*f.cache.get("/pods", "ns/a"), {"spec", "nodeName"}), "n2");
  EXPECT_EQ(f.cache.get("/pods", "ns/a"), seen[0]);
  EXPECT_EQ(CachedJson::lazy_builds(), before + 2);

  // A deleted pod keeps its last state, as a model and (on demand) as JSON.
  ASSERT_TRUE(f.store.remove("/pods", "ns", "a").ok());
  f.cache.clear_changes();
  f.cache.apply_pending();
  ASSERT_EQ(f.cache.changed("/pods").size(), 1u);
  const auto& gone = f.cache.changed("/pods")[0];
  EXPECT_EQ(gone.object, nullptr);
  ASSERT_NE(gone.pod, nullptr);
  EXPECT_EQ(gone.pod->node_name.str(), "n2");
  EXPECT_EQ(json::name(gone.last()), "a");
  EXPECT_TRUE(f.cache.pod_keys_on_node("n2").empty());
  EXPECT_TRUE(f.cache.pod_models_owned_by("rs-1").empty());
}

TEST(SimCache, UsageAndSpreadCandidatesCountBoundLivePodsOnly) {
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "", "web")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("b", "n1", "", "web")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("pending", "", "", "web")).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.usage().at("n1").pods, 2);
  EXPECT_EQ(f.cache.usage().at("n1").cpu_milli, 500);
  model::LabelSelector sel;
  sel.match_labels = {{model::IStr("app"), model::IStr("web")}};
  EXPECT_EQ(f.cache.candidates("ns", sel).size(), 2u);

  // A terminating pod still holds its requests but no longer counts for spread.
  value terminating = pod("a", "n1", "", "web");
  terminating["metadata"]["deletionTimestamp"] = value::string("2026-12-01T00:00:00Z");
  ASSERT_TRUE(f.store.update("/pods", terminating).ok());
  // A finished one holds nothing.
  value done = pod("b", "n1", "", "web");
  done["status"]["phase"] = value::string("Succeeded");
  ASSERT_TRUE(f.store.update("/pods", done).ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.usage().at("n1").pods, 1);
  EXPECT_TRUE(f.cache.candidates("ns", sel).empty());
  ASSERT_TRUE(f.store.remove("/pods", "ns", "a").ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.usage().at("n1").pods, 0);
}

TEST(SimCache, AChangeQueuedBeforeALoadDoesNotTurnTheClockBack) {
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "", "web")).ok());
  ASSERT_TRUE(f.store.update("/pods", pod("a", "n2", "", "web")).ok());
  f.cache.load(f.store);  // sees n2; the two queued changes are older
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.pods_on_node("n2").size(), 1u);
  EXPECT_EQ(f.cache.pods_on_node("n1").size(), 0u);
}

TEST(ObjectStore, DependentsFollowOwnerReferences) {
  ObjectStore store;
  ASSERT_TRUE(store.create("/pods", pod("a", "", "rs-1", "web")).ok());
  ASSERT_TRUE(store.create("/pods", pod("b", "", "rs-1", "web")).ok());
  EXPECT_EQ(store.dependents("rs-1").size(), 2u);
  ASSERT_TRUE(store.update("/pods", pod("b", "", "rs-2", "web")).ok());
  EXPECT_EQ(store.dependents("rs-1").size(), 1u);
  EXPECT_EQ(store.dependents("rs-2").size(), 1u);
  ASSERT_TRUE(store.remove("/pods", "ns", "a").ok());
  EXPECT_TRUE(store.dependents("rs-1").empty());
}

TEST(ObjectStore, ListingANodesPodsByFieldUsesTheIndexAndAgreesWithAScan) {
  ObjectStore store;
  store.set_field_extractor([](const std::string& resource, const value& o, StringMap& f) {
    if (resource == "/pods") f["spec.nodeName"] = json::str(o, {"spec", "nodeName"});
  });
  ASSERT_TRUE(store.create("/pods", pod("a", "n1", "", "web")).ok());
  ASSERT_TRUE(store.create("/pods", pod("b", "n2", "", "web")).ok());
  ASSERT_TRUE(store.create("/pods", pod("c", "n1", "", "api")).ok());
  ASSERT_TRUE(store.update("/pods", pod("b", "n1", "", "web")).ok());
  ASSERT_TRUE(store.remove("/pods", "ns", "c").ok());
  auto names = [&](const std::string& selector, long limit) {
    WatchFilter f{.resource = "/pods"};
    f.fields = *parse_field_selector(selector).selector;
    const auto listed = store.list(f, limit, "");
    std::vector<std::string> out;
    if (listed.ok())
      for (const auto& o : listed.value().items) out.push_back(o->name);
    return out;
  };
  EXPECT_EQ(names("spec.nodeName=n1", 0), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names("spec.nodeName=n1", 10), (std::vector<std::string>{"a", "b"})) << "the paged scan agrees";
  EXPECT_TRUE(names("spec.nodeName=n2", 0).empty());
  EXPECT_EQ(names("spec.nodeName=n1,metadata.name!=a", 0), (std::vector<std::string>{"b"}));
}

// Creates, binds and deletes of one key in a row, so that decoding shares and chunk
// boundaries fall between changes of the same object.
void feed(Fixture& f, int from, int to) {
  for (int i = from; i < to; ++i) {
    const std::string name = "p" + std::to_string(i % 2000), rs = "rs-" + std::to_string(i % 7);
    const std::string app = "app" + std::to_string(i % 5), node = "n" + std::to_string(i % 13);
    // Bound; some Ready, some of those terminating (what the disruption tallies count).
    value bound = pod(name, node, rs, app);
    if (i % 3 == 0) bound["status"]["conditions"][0] = value::parse(R"({"type":"Ready","status":"True"})");
    if (i % 9 == 3) bound["metadata"]["deletionTimestamp"] = value::string("2026-01-01T00:00:00Z");
    if (f.store.get("/pods", "ns", name)) {
      ASSERT_TRUE(f.store.update("/pods", bound).ok());
      continue;
    }
    ASSERT_TRUE(f.store.create("/pods", pod(name, "", rs, app)).ok());
    ASSERT_TRUE(f.store.update("/pods", bound).ok());
    if (i % 4 == 0) {
      ASSERT_TRUE(f.store.remove("/pods", "ns", name).ok());
    }
  }
}

// Everything the two caches answer about pods is the same.
void expect_same(const SimCache& got, const SimCache& want) {
  auto names = [](const Objects& os) {
    std::vector<std::string> out;
    for (const auto& o : os) out.push_back(json::name(o) + "@" + json::str(o, {"spec", "nodeName"}));
    return out;
  };
  EXPECT_EQ(names(got.list("/pods")), names(want.list("/pods")));
  for (int n = 0; n < 13; ++n)
    EXPECT_EQ(names(got.pods_on_node("n" + std::to_string(n))), names(want.pods_on_node("n" + std::to_string(n))));
  for (int r = 0; r < 7; ++r)
    EXPECT_EQ(names(got.owned_by("/pods", "rs-" + std::to_string(r))), names(want.owned_by("/pods", "rs-" + std::to_string(r))));
  // The DOM-free lookups agree with the DOM ones.
  for (int n = 0; n < 13; ++n) {
    std::vector<std::string> keys;
    for (const auto& o : got.pods_on_node("n" + std::to_string(n))) keys.push_back("ns/" + json::name(o));
    EXPECT_EQ(got.pod_keys_on_node("n" + std::to_string(n)), keys);
  }
  for (int r = 0; r < 7; ++r) {
    std::vector<std::string> dom_names, model_names;
    for (const auto& o : got.owned_by("/pods", "rs-" + std::to_string(r))) dom_names.push_back(json::name(o));
    for (const auto* m : got.pod_models_owned_by("rs-" + std::to_string(r))) model_names.push_back(m->meta.name);
    EXPECT_EQ(model_names, dom_names);
  }
  for (int n = 0; n < 13; ++n) {
    const auto& a = want.usage().at("n" + std::to_string(n));
    const auto& h = got.usage().at("n" + std::to_string(n));
    EXPECT_EQ(h.pods, a.pods);
    EXPECT_EQ(h.cpu_milli, a.cpu_milli);
  }
  for (int a = 0; a < 5; ++a) {
    // The per-label tallies agree with the pods the label selects.
    Selector sel;
    sel.requirements.push_back({"app", Requirement::Op::kEquals, {"app" + std::to_string(a)}});
    const auto* t = got.pods_tally("ns", sel);
    ASSERT_NE(t, nullptr);
    const auto pods = got.pods_selected("ns", sel);
    EXPECT_EQ(t->pods, pods.size());
    size_t ready = 0;
    std::map<std::string, size_t> controllers;
    for (const auto& p : pods) {
      ready += json::pod_ready(p) && !json::terminating(p);
      ++controllers[json::controller_uid(p)];
    }
    EXPECT_EQ(t->ready_staying, ready);
    EXPECT_GT(ready, 0u);
    EXPECT_LT(ready, pods.size()) << "some selected pods are not Ready or are terminating";
    const std::map<std::string, size_t> tallied(t->controllers.begin(), t->controllers.end());
    EXPECT_EQ(tallied, controllers);
    const auto* w = want.pods_tally("ns", sel);
    EXPECT_EQ(t->pods, w->pods);
    EXPECT_EQ(t->ready_staying, w->ready_staying);
  }
  for (int r = 0; r < 7; ++r) {
    // The per-owner tallies agree with the pods it owns.
    const std::string owner = "rs-" + std::to_string(r);
    size_t active = 0, active_ready = 0;
    for (const auto& p : got.owned_by("/pods", owner))
      if (json::pod_active(p)) {
        ++active;
        active_ready += json::pod_ready(p);
      }
    EXPECT_EQ(got.owner_tally(owner).active, active);
    EXPECT_EQ(got.owner_tally(owner).active_ready, active_ready);
    EXPECT_GT(active_ready, 0u);
    EXPECT_LT(active_ready, active);
    EXPECT_EQ(got.owner_tally(owner).active, want.owner_tally(owner).active);
  }
  for (const auto& o : got.list("/pods")) {
    const model::Pod* m = got.pod_of(o);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->node_name.str(), json::str(o, {"spec", "nodeName"})) << "the model is of the latest state";
  }
}

TEST(SimCache, ABatchDecodedOnAHelperThreadFilesAsOneDecodedHere) {
  // Two caches fed the same 5,000 changes: one applies them alone, one with a helper
  // sharing the decoding. They must agree on everything they answer.
  Fixture alone, helped;
  feed(alone, 0, 2000);
  feed(helped, 0, 2000);
  EXPECT_EQ(alone.cache.apply_pending(), 4500u);
  PassWorker helper;
  EXPECT_EQ(helped.cache.apply_pending(&helper), 4500u);
  EXPECT_EQ(helped.cache.list("/pods").size(), 1500u);
  EXPECT_EQ(helped.changed_keys("/pods"), alone.changed_keys("/pods"));
  expect_same(helped.cache, alone.cache);
}

TEST(SimCache, ChangesDecodedAheadWhileTheyAreWrittenFileAsOnesDecodedAtApply) {
  // work_ahead() runs on a thread that is idle while another still writes: it frees what
  // the last apply replaced and decodes changes as they queue. Two rounds, so the second
  // replaces (and retires) what the first filed.
  Fixture alone, ahead;
  PassWorker helper;
  for (int round = 0; round < 2; ++round) {
    const int from = round * 2000, to = from + 2000;
    feed(alone, from, to);
    std::atomic<bool> stop{false};
    std::thread idle([&] {
      while (!stop) ahead.cache.work_ahead();
    });
    feed(ahead, from, to);
    stop = true;
    idle.join();
    while (ahead.cache.work_ahead()) {
    }
    const auto want = alone.cache.apply_pending();
    EXPECT_EQ(ahead.cache.apply_pending(&helper), want);
    EXPECT_EQ(ahead.changed_keys("/pods"), alone.changed_keys("/pods"));
    expect_same(ahead.cache, alone.cache);
    alone.cache.clear_changes();
    ahead.cache.clear_changes();
  }
  int frees = 0;
  while (ahead.cache.work_ahead()) ++frees;
  EXPECT_GT(frees, 0) << "the second round's apply retired the DOMs it replaced";
  EXPECT_FALSE(ahead.cache.work_ahead()) << "nothing is left to free or decode";
}

TEST(SimCache, AStatusWriteChangesOnlyTheStatusOfTheDomItWasWrittenOver) {
  // A status write to a ReplicaSet is filed by giving the DOM the cache holds the new
  // status and version; a cache that missed the version it was written over parses it whole.
  // Either way the DOM is what the stored text parses to.
  ObjectStore store;
  SimCache missed;  // loaded before a write it never sees
  value rs = value::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"namespace":"ns","name":"rs",
    "generation":1,"uid":"rs-uid","ownerReferences":[{"uid":"dep-1","controller":true}]},
    "spec":{"replicas":2},"status":{"replicas":0,"conditions":[{"type":"x"}]}})");
  ASSERT_TRUE(store.create("apps/replicasets", rs).ok());
  missed.load(store);
  rs["spec"]["replicas"] = value::number(3);
  rs["metadata"]["generation"] = value::number(2);  // as the API server would bump it
  ASSERT_TRUE(store.update("apps/replicasets", rs).ok());
  SimCache seen;
  seen.load(store);
  store.add_observer([&](const Change& c) {
    seen.on_change(c);
    missed.on_change(c);
  });
  auto write_status = [&](const char* status) {
    const auto current = store.get("apps/replicasets", "ns", "rs");
    const auto where = current->splice ? *current->splice : *json_text::status_splice(current->json);
    value v = value::parse(status);
    ASSERT_TRUE(store.update_status("apps/replicasets", current, where, v).ok());
  };
  write_status(R"({"replicas":3,"readyReplicas":1})");
  write_status(R"({"replicas":3,"readyReplicas":2,"observedGeneration":2})");
  for (SimCache* cache : {&seen, &missed}) {
    cache->clear_changes();
    EXPECT_EQ(cache->apply_pending(), 2u);
    const value* got = cache->get("apps/replicasets", "ns/rs");
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got, value::parse(store.get("apps/replicasets", "ns", "rs")->json));
    EXPECT_EQ(got->at("status").at("readyReplicas").as_integer(), 2);
    EXPECT_EQ(got->at("spec").at("replicas").as_integer(), 3);
    ASSERT_EQ(cache->changed("apps/replicasets").size(), 1u);
    const Changed& ch = cache->changed("apps/replicasets")[0];
    EXPECT_EQ(&ch.last(), got);
    EXPECT_EQ(ch.owner_uid, "dep-1");
    EXPECT_EQ(ch.previous_owner_uid, "dep-1");
    EXPECT_EQ(cache->by_uid("apps/replicasets", "rs-uid"), got);
    EXPECT_EQ(cache->owned_by("apps/replicasets", "dep-1").size(), 1u);
  }
  EXPECT_FALSE(seen.changed("apps/replicasets")[0].spec_changed) << "the status alone changed";
  EXPECT_TRUE(missed.changed("apps/replicasets")[0].spec_changed) << "it missed the generation's change";
}

TEST(SimCache, APodsStatusWriteKeepsItsModelButTheStatus) {
  // A pod's status write is filed as the model it was written over with the new status (and
  // version): the same as decoding the new text whole, tallies included.
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "rs-1", "web")).ok());
  f.cache.apply_pending();
  auto write_status = [&](const char* status) {
    const auto current = f.store.get("/pods", "ns", "a");
    const auto where = current->splice ? *current->splice : *json_text::status_splice(current->json);
    value v = value::parse(status);
    ASSERT_TRUE(f.store.update_status("/pods", current, where, v).ok());
  };
  const auto* before = f.cache.pod_model("ns/a");
  ASSERT_NE(before, nullptr);
  EXPECT_FALSE(before->ready);
  write_status(R"({"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-27T10:00:00Z"},
    {"type":"PodScheduled","status":"True"}]})");
  f.cache.clear_changes();
  f.cache.apply_pending();
  const auto* got = f.cache.pod_model("ns/a");
  ASSERT_NE(got, nullptr);
  const auto stored = f.store.get("/pods", "ns", "a");
  const auto want = model::CodecFor<model::Pod>::decode(stored->json);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(got->phase, model::PodPhase::kRunning);
  EXPECT_TRUE(got->ready);
  EXPECT_EQ(got->phase, want.value()->phase);
  EXPECT_EQ(got->ready_since, want.value()->ready_since);
  EXPECT_EQ(got->unschedulable, want.value()->unschedulable);
  EXPECT_EQ(got->meta.resource_version, want.value()->meta.resource_version);
  EXPECT_EQ(got->meta.resource_version, std::to_string(stored->rv));
  EXPECT_EQ(got->node_name.str(), "n1");
  EXPECT_EQ(got->meta.label_set(), want.value()->meta.label_set());
  EXPECT_EQ(f.cache.owner_tally("rs-1").active_ready, 1u) << "the tallies see it Ready";
  ASSERT_EQ(f.cache.changed("/pods").size(), 1u);
  EXPECT_EQ(f.cache.changed("/pods")[0].pod.get(), got);
  EXPECT_EQ(json::str(f.cache.changed("/pods")[0].last(), {"status", "phase"}), "Running") << "the DOM is built from the new text";
  // Unschedulable, not Ready again.
  write_status(R"({"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]})");
  f.cache.clear_changes();
  f.cache.apply_pending();
  got = f.cache.pod_model("ns/a");
  EXPECT_FALSE(got->ready);
  EXPECT_FALSE(got->ready_since);
  EXPECT_TRUE(got->unschedulable);
  EXPECT_EQ(f.cache.owner_tally("rs-1").active_ready, 0u);
}

TEST(SimCache, AStatusWriteRefilesAPodsUsageAndSpreadCountingByWhatItNowIs) {
  // A status write gives the pod a new model: the scheduler's usage and spread candidates
  // follow it (the same pod, still counted, while it runs; out of both once it finished).
  Fixture f;
  ASSERT_TRUE(f.store.create("/pods", pod("a", "n1", "rs-1", "web")).ok());
  ASSERT_TRUE(f.store.create("/pods", pod("b", "n1", "rs-1", "web")).ok());
  f.cache.apply_pending();
  auto write_status = [&](const char* name, const char* status) {
    const auto current = f.store.get("/pods", "ns", name);
    const auto where = current->splice ? *current->splice : *json_text::status_splice(current->json);
    value v = value::parse(status);
    ASSERT_TRUE(f.store.update_status("/pods", current, where, v).ok());
  };
  model::LabelSelector sel;
  sel.match_labels = {{model::IStr("app"), model::IStr("web")}};
  write_status("a", R"({"phase":"Running","conditions":[{"type":"Ready","status":"True"}]})");
  f.cache.clear_changes();
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.usage().at("n1").pods, 2);
  EXPECT_EQ(f.cache.usage().at("n1").cpu_milli, 500);
  auto candidates = f.cache.candidates("ns", sel);
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_TRUE(std::find(candidates.begin(), candidates.end(), f.cache.pod_model("ns/a")) != candidates.end())
      << "the candidates are the pods' current models";
  const auto everyone = f.cache.candidates("ns", model::LabelSelector{});
  EXPECT_TRUE(std::find(everyone.begin(), everyone.end(), f.cache.pod_model("ns/a")) != everyone.end());
  EXPECT_EQ(f.cache.pod_of(f.cache.changed("/pods")[0].last()), f.cache.pod_model("ns/a"));

  write_status("b", R"({"phase":"Succeeded"})");
  f.cache.clear_changes();
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.usage().at("n1").pods, 1);
  EXPECT_EQ(f.cache.usage().at("n1").cpu_milli, 250);
  candidates = f.cache.candidates("ns", sel);
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0], f.cache.pod_model("ns/a"));
  EXPECT_EQ(f.cache.owner_tally("rs-1").active, 1u);
  ASSERT_TRUE(f.store.remove("/pods", "ns", "b").ok());
  ASSERT_TRUE(f.store.remove("/pods", "ns", "a").ok());
  f.cache.apply_pending();
  EXPECT_EQ(f.cache.usage().at("n1").pods, 0);
  EXPECT_TRUE(f.cache.candidates("ns", sel).empty());
}

}  // namespace
}  // namespace nonevent::sim
