// Writes that edit the stored text instead of a DOM of the whole object (json_text.h,
// ObjectStore::update_text): where a member is in JSON text, and that a status patch and a
// binding store byte for byte what writing the whole object so changed would have stored.
#include <gtest/gtest.h>

#include <tuple>

#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/api_server.h"
#include "sim/json_text.h"
#include "sim/json_util.h"
#include "sim/yaml_json.h"

namespace nonevent::sim {
namespace {

using web::json::value;

std::string at(std::string_view text, json_text::Span s) { return std::string(text.substr(s.begin, s.end - s.begin)); }

TEST(JsonText, FindsAMembersValueWhateverComesBeforeIt) {
  const std::string text =
      R"( { "a" : "x\"}{,\\" , "b":[1,{"status":2},"]"], "c\"d":{}, "status" : {"phase":"Running","n":[1,2]} , "z":null } )";
  const auto obj = json_text::object(text);
  ASSERT_TRUE(obj);
  ASSERT_TRUE(json_text::member(text, *obj, "a"));
  EXPECT_EQ(at(text, *json_text::member(text, *obj, "a")), R"("x\"}{,\\")");
  EXPECT_EQ(at(text, *json_text::member(text, *obj, "b")), R"([1,{"status":2},"]"])");
  EXPECT_EQ(at(text, *json_text::member(text, *obj, "status")), R"({"phase":"Running","n":[1,2]})");
  EXPECT_EQ(at(text, *json_text::member(text, *obj, "z")), "null");
  EXPECT_FALSE(json_text::member(text, *obj, "phase"));  // only the object's own members
  EXPECT_FALSE(json_text::member(text, *obj, "c"));
  const auto status = json_text::member(text, *obj, "status");
  EXPECT_EQ(at(text, *json_text::member(text, *status, "phase")), R"("Running")");
}

TEST(JsonText, RefusesWhatIsNotOneWholeObject) {
  EXPECT_FALSE(json_text::object("[1]"));
  EXPECT_FALSE(json_text::object(R"({"a":1)"));
  EXPECT_FALSE(json_text::object(R"({"a":"1})"));
  EXPECT_FALSE(json_text::object(R"({"a":1} x)"));
  const std::string cut = R"({"a":1,"b")";
  EXPECT_FALSE(json_text::member(cut, {0, cut.size()}, "b"));
  EXPECT_FALSE(json_text::status_splice(R"({"metadata":{"name":"x"},"status":{}})"));      // no resourceVersion
  EXPECT_FALSE(json_text::status_splice(R"({"metadata":{"resourceVersion":"3"}})"));      // no status
  EXPECT_FALSE(json_text::status_splice(R"({"status":{},"metadata":{"resourceVersion":"3"}})"));  // status first
  const std::string ok = R"({"metadata":{"resourceVersion":"3"},"status":{"a":1}})";
  const auto splice = json_text::status_splice(ok);
  ASSERT_TRUE(splice);
  EXPECT_EQ(at(ok, splice->resource_version), R"("3")");
  EXPECT_EQ(at(ok, splice->status), R"({"a":1})");
}

// A write is serialized before the store's lock is taken and given its resourceVersion
// under it: the text, and where its version and status are, are what serializing the
// object with that version would give, however many digits the version has.
TEST(ObjectStore, AWritesTextAndSpliceAreThoseOfTheObjectWithItsVersion) {
  ObjectStore store;
  auto pod = [](const std::string& name) {
    return value::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                        R"(","namespace":"ns"},"spec":{"containers":[]},"status":{"phase":"Pending"}})");
  };
  auto check = [](const StoredPtr& o) {
    std::error_code ec;
    const value dom = model::parse_json(o->json, ec);
    ASSERT_FALSE(ec) << o->json;
    EXPECT_EQ(model::to_json(dom), o->json) << "as the store writes JSON";
    EXPECT_EQ(json::str(dom, {"metadata", "resourceVersion"}), std::to_string(o->rv));
    ASSERT_TRUE(o->splice) << o->json;
    EXPECT_EQ(at(o->json, o->splice->resource_version), "\"" + std::to_string(o->rv) + "\"");
    EXPECT_EQ(at(o->json, o->splice->status), model::to_json(dom.at("status")));
  };
  uint64_t last = 0;
  for (int i = 0; i < 120; ++i) {  // versions of one, two and three digits
    auto created = store.create("/pods", pod("p" + std::to_string(i)));
    ASSERT_TRUE(created.ok());
    check(created.value());
    last = created.value()->rv;
  }
  ASSERT_GE(last, 100u);
  value changed = pod("p7");
  changed["status"]["phase"] = value::string("Running");
  auto updated = store.update("/pods", changed);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated.value()->rv, last + 1);
  check(updated.value());
  // An object without a status has no splice: its text is written with its version.
  auto config = store.create("/configmaps", value::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns"}})"));
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config.value()->splice);
  EXPECT_NE(config.value()->json.find(R"("resourceVersion":")" + std::to_string(last + 2) + "\""), std::string::npos)
      << config.value()->json;
}

std::string with_insertions(std::string text, const std::vector<json_text::Insertion>& ins) {
  for (auto i = ins.rbegin(); i != ins.rend(); ++i) text.insert(i->at, i->text);
  return text;
}

TEST(JsonText, ReadsTheStoresObjectsAndPlainStrings) {
  const std::string text = R"({"a":"uid-1","b":"x\"y","c":1})";
  const auto obj = json_text::stored_object(text);
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->end, text.size());
  EXPECT_FALSE(json_text::stored_object(" {}"));
  EXPECT_FALSE(json_text::stored_object("[]"));
  EXPECT_EQ(json_text::plain_string(text, *json_text::member(text, *obj, "a")), "uid-1");
  EXPECT_FALSE(json_text::plain_string(text, *json_text::member(text, *obj, "b"))) << "written with an escape";
  EXPECT_FALSE(json_text::plain_string(text, *json_text::member(text, *obj, "c"))) << "not a string";
}

TEST(JsonText, InsertsMembersWhereTheirKeysSort) {
  const std::string text = R"({"a":1,"c":{"x":"}"},"e":[3]})";
  const json_text::Span obj{0, text.size()};
  auto ins = json_text::insert_members(text, obj, {{"b", "2"}, {"bb", R"("s")"}, {"d", "null"}, {"f", "{}"}});
  ASSERT_TRUE(ins);
  EXPECT_EQ(ins->size(), 3u) << "b and bb go to one place";
  EXPECT_EQ(with_insertions(text, *ins), R"({"a":1,"b":2,"bb":"s","c":{"x":"}"},"d":null,"e":[3],"f":{}})");
  ins = json_text::insert_members(text, obj, {{"0", "0"}});
  ASSERT_TRUE(ins);
  EXPECT_EQ(with_insertions(text, *ins), R"({"0":0,"a":1,"c":{"x":"}"},"e":[3]})");
  const std::string empty = "{}";
  ins = json_text::insert_members(empty, {0, 2}, {{"a", "1"}, {"b", "2"}});
  ASSERT_TRUE(ins);
  EXPECT_EQ(with_insertions(empty, *ins), R"({"a":1,"b":2})");
  // Inside a member: the nested object's own keys.
  const auto c = json_text::member(text, obj, "c");
  ins = json_text::insert_members(text, *c, {{"w", "1"}, {"y", "2"}});
  ASSERT_TRUE(ins);
  EXPECT_EQ(with_insertions(text, *ins), R"({"a":1,"c":{"w":1,"x":"}","y":2},"e":[3]})");
  EXPECT_FALSE(json_text::insert_members(text, obj, {{"c", "1"}})) << "already there";
  const std::string escaped = R"({"a\u0062":1})";
  EXPECT_FALSE(json_text::insert_members(escaped, {0, escaped.size()}, {{"b", "1"}})) << "a key written with an escape";
  EXPECT_FALSE(json_text::insert_members(R"({"a":1,})", {0, 8}, {{"b", "1"}}));
}

struct Server {
  std::shared_ptr<kube::VirtualClock> clock = std::make_shared<kube::VirtualClock>(*kube::parse_rfc3339("2026-12-01T00:00:00Z"));
  std::shared_ptr<ObjectStore> store = std::make_shared<ObjectStore>();
  std::shared_ptr<ApiServer> api = std::make_shared<ApiServer>(store, clock);
  ApiResponse patch(const std::string& path, const std::string& type, const std::string& body) {
    ApiRequest r;
    r.method = "PATCH";
    r.path = path;
    r.body = body;
    r.headers["content-type"] = type;
    return api->handle(r);
  }
};

// The positions the store noted for a status write are where the text has them.
void expect_splice_noted(const StoredObject& o) {
  const auto found = json_text::status_splice(o.json);
  ASSERT_TRUE(found) << o.json;
  ASSERT_TRUE(o.splice) << o.json;
  EXPECT_EQ(at(o.json, o.splice->resource_version), at(o.json, found->resource_version));
  EXPECT_EQ(o.splice->resource_version.begin, found->resource_version.begin);
  EXPECT_EQ(o.splice->status.begin, found->status.begin);
  EXPECT_EQ(o.splice->status.end, found->status.end);
}

// What the whole-object path stores for `before` with `status`: its DOM with that status and
// the new resourceVersion, written out.
std::string whole_object_write(const std::string& before, const value& status, const std::string& rv) {
  std::error_code ec;
  value obj = model::parse_json(before, ec);
  obj["status"] = status;
  obj["metadata"]["resourceVersion"] = value::string(rv);
  return model::to_json(obj);
}

TEST(StatusPatch, StoresWhatWritingTheWholeObjectWould) {
  Server s;
  for (const auto& d : parse_yaml_documents(
           "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop, labels: {app: web, tier: \"a\\\"b\"},\n"
           "  annotations: {note: \"status: {}\"}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: u1, controller: true}]}\n"
           "spec: {nodeName: n1, containers: [{name: c, image: nginx}]}\n"
           "status: {phase: Pending, conditions: [{type: PodScheduled, status: 'True'}]}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  const std::string path = "/api/v1/namespaces/shop/pods/p/status";
  // A merge patch: merged into the stored status.
  auto before = s.store->get("/pods", "shop", "p");
  expect_splice_noted(*before);
  EXPECT_FALSE(before->being_deleted);
  auto r = s.patch(path, "application/merge-patch+json", R"({"status":{"phase":"Running","podIP":"10.0.0.1","message":"é\n"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto after = s.store->get("/pods", "shop", "p");
  std::error_code ec;
  value status = model::parse_json(before->json, ec).at("status");
  status["phase"] = value::string("Running");
  status["podIP"] = value::string("10.0.0.1");
  status["message"] = value::string("é\n");
  EXPECT_EQ(after->json, whole_object_write(before->json, status, std::to_string(after->rv)));
  EXPECT_EQ(r.body, after->json);
  EXPECT_GT(after->rv, before->rv);
  EXPECT_EQ(after->fields.at("status.phase"), "Running");  // the field selector sees the new phase
  EXPECT_EQ(after->fields.at("spec.nodeName"), "n1");
  EXPECT_EQ(after->labels, before->labels) << "shared, not copied";
  EXPECT_EQ(*after->owner_uids, std::vector<std::string>{"u1"});
  expect_splice_noted(*after);

  // A JSON patch that tests the version and sets the whole status.
  before = after;
  const std::string set = R"({"phase":"Failed","conditions":[{"status":"False","type":"Ready"}]})";
  r = s.patch(path, "application/json-patch+json",
              R"([{"op":"test","path":"/metadata/resourceVersion","value":")" + std::to_string(before->rv) +
                  R"("},{"op":"add","path":"/status","value":)" + set + "}]");
  ASSERT_EQ(r.status, 200) << r.body;
  after = s.store->get("/pods", "shop", "p");
  EXPECT_EQ(after->json, whole_object_write(before->json, model::parse_json(set, ec), std::to_string(after->rv)));
  EXPECT_EQ(after->fields.at("status.phase"), "Failed");
  expect_splice_noted(*after);

  // The noted positions stay right as the resourceVersion grows a digit.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(s.patch(path, "application/merge-patch+json", R"({"status":{"message":")" + std::string(i, 'x') + R"("}})").status, 200);
    expect_splice_noted(*s.store->get("/pods", "shop", "p"));
  }
  after = s.store->get("/pods", "shop", "p");  // `before` is now stale

  // A stale version is refused with what the general path answers, and nothing is written.
  r = s.patch(path, "application/json-patch+json",
              R"([{"op":"test","path":"/metadata/resourceVersion","value":")" + std::to_string(before->rv) +
                  R"("},{"op":"add","path":"/status","value":{}}])");
  EXPECT_EQ(r.status, 422) << r.body;
  r = s.patch(path, "application/merge-patch+json", R"({"metadata":{"resourceVersion":"1"},"status":{"phase":"Running"}})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(s.store->get("/pods", "shop", "p")->json, after->json);
}

TEST(StatusPatch, AnInProcessStatusAsTextIsStoredAsTheJsonPatchSettingItWould) {
  // ApiRequest::status_json (the simulated kubelets' status writes): spliced into the stored
  // text as it is, or, for a pod being deleted (whose write may complete its deletion),
  // applied as the JSON patch adding /status with it; either way what the general path
  // would store.
  Server s;
  for (const auto& d : parse_yaml_documents(
           "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop, labels: {app: web}}\n"
           "spec: {nodeName: n1, containers: [{name: c, image: nginx}]}\nstatus: {phase: Pending}\n"
           "---\napiVersion: v1\nkind: Pod\nmetadata: {name: held, namespace: shop, finalizers: [example.com/hold]}\n"
           "spec: {containers: [{name: c, image: nginx}]}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  auto status_write = [&](const std::string& name, const std::string& status_json) {
    ApiRequest r;
    r.method = "PATCH";
    r.path = "/api/v1/namespaces/shop/pods/" + name + "/status";
    r.status_json = status_json;
    r.headers["content-type"] = "application/json-patch+json";
    return s.api->handle(r);
  };
  std::error_code ec;
  const std::string status = R"({"conditions":[{"lastProbeTime":null,"status":"True","type":"Ready"}],"phase":"Running","podIP":"10.0.0.1"})";
  auto before = s.store->get("/pods", "shop", "p");
  auto r = status_write("p", status);
  ASSERT_EQ(r.status, 200) << r.body;
  auto after = s.store->get("/pods", "shop", "p");
  EXPECT_EQ(after->json, whole_object_write(before->json, model::parse_json(status, ec), std::to_string(after->rv)));
  EXPECT_EQ(r.body, after->json);
  EXPECT_EQ(after->fields.at("status.phase"), "Running");
  EXPECT_EQ(after->fields.at("spec.nodeName"), "n1");
  expect_splice_noted(*after);

  ApiRequest del;
  del.method = "DELETE";
  del.path = "/api/v1/namespaces/shop/pods/held";
  ASSERT_LT(s.api->handle(del).status, 300);
  ASSERT_TRUE(s.store->get("/pods", "shop", "held")->being_deleted) << "the general path is what this part is about";
  r = status_write("held", status);
  ASSERT_EQ(r.status, 200) << r.body;
  after = s.store->get("/pods", "shop", "held");
  EXPECT_TRUE(after->being_deleted);
  EXPECT_EQ(model::parse_json(after->json, ec).at("status"), model::parse_json(status, ec));
  EXPECT_EQ(after->fields.at("status.phase"), "Running");
  EXPECT_EQ(status_write("gone", status).status, 404);
}

TEST(StatusPatch, ARefusedStatusWriteGivesTheStatusBackForTheRetry) {
  // The API server retries a patch refused because another write came first (as
  // GuaranteedUpdate does) with the same body: the store must leave the status it was given.
  Server s;
  for (const auto& d : parse_yaml_documents("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n"
                                            "spec: {containers: [{name: c, image: nginx}]}\nstatus: {phase: Pending}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  const auto before = s.store->get("/pods", "shop", "p");
  ASSERT_EQ(s.patch("/api/v1/namespaces/shop/pods/p/status", "application/merge-patch+json", R"({"status":{"phase":"Running"}})").status, 200);
  std::error_code ec;
  const value want = model::parse_json(R"({"phase":"Failed","conditions":[{"type":"Ready","status":"False"}]})", ec);
  value status = want;
  const auto refused = s.store->update_status("/pods", before, *before->splice, status);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 409);
  EXPECT_EQ(status, want);
  const auto now = s.store->get("/pods", "shop", "p");
  ASSERT_TRUE(s.store->update_status("/pods", now, *now->splice, status).ok());
  EXPECT_EQ(status, want) << "given back after a write too";
  EXPECT_EQ(model::parse_json(s.store->get("/pods", "shop", "p")->json, ec).at("status"), want);
}

TEST(TextWrite, ABindingStoresWhatWritingTheWholePodWould) {
  // Pods whose specs put nodeName among their keys or last, with and without conditions (an
  // earlier Unschedulable PodScheduled among them), bound as a scheduler binds them.
  Server s;
  for (const auto& d : parse_yaml_documents(
           "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop, uid: ua}\n"
           "spec: {schedulerName: x, tolerations: [{key: k, operator: Exists}], containers: [{name: c, image: nginx}]}\n"
           "status: {phase: Pending, conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable,"
           " lastTransitionTime: '2026-11-30T00:00:00Z'}, {type: Other, status: 'True'}]}\n"
           "---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop}\nspec: {containers: [{name: c, image: \"ng\\\"inx\"}]}\n"
           "status: {phase: Pending}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  const std::string now = kube::format_rfc3339(s.clock->now());
  for (const std::string name : {"a", "b"}) {
    const auto before = s.store->get("/pods", "shop", name);
    ASSERT_TRUE(before->splice);
    const std::string node = "node-\"" + name + "\"";  // a name the text must escape
    ApiRequest r;
    r.method = "POST";
    r.path = "/api/v1/namespaces/shop/pods/" + name + "/binding";
    r.body = R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":")" + name + R"("},"target":{"kind":"Node","name":)" +
             model::to_json(value::string(node)) + "}}";
    const auto res = s.api->handle(r);
    ASSERT_EQ(res.status, 201) << res.body;
    const auto after = s.store->get("/pods", "shop", name);
    std::error_code ec;
    value want = model::parse_json(before->json, ec);
    want["spec"]["nodeName"] = value::string(node);
    want["status"]["conditions"] = json::conditions_with(want, "PodScheduled", "True", "", "", now);
    want["metadata"]["resourceVersion"] = value::string(std::to_string(after->rv));
    EXPECT_EQ(after->json, model::to_json(want));
    EXPECT_EQ(after->fields.at("spec.nodeName"), node) << "the field selector sees the node";
    EXPECT_EQ(after->fields.at("status.phase"), "Pending");
    EXPECT_EQ(after->labels, before->labels) << "shared, not copied";
    EXPECT_FALSE(after->being_deleted);
    expect_splice_noted(*after);
    // And the pod is assigned once.
    EXPECT_EQ(s.api->handle(r).status, 409);
  }
}

TEST(TextWrite, AGracefulDeletionStoresWhatWritingTheWholePodWould) {
  // Bound pods deleted with their own grace period, the default one and the request's; a
  // second deletion leaves a terminating pod as it is, and one with no grace removes it.
  Server s;
  s.api->set_graceful_pod_deletion(true);
  for (const auto& d : parse_yaml_documents(
           "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop, uid: ua, finalizers: [x/y], generateName: a-}\n"
           "spec: {nodeName: n1, terminationGracePeriodSeconds: 45, containers: [{name: c, image: nginx}]}\nstatus: {phase: Running}\n"
           "---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop}\n"
           "spec: {nodeName: n1, containers: [{name: c, image: nginx}]}\nstatus: {phase: Running}\n"
           "---\napiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: shop}\n"
           "spec: {nodeName: n1, containers: [{name: c, image: nginx}]}\nstatus: {phase: Running}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  auto del = [&](const std::string& name, const std::string& body) {
    ApiRequest r;
    r.method = "DELETE";
    r.path = "/api/v1/namespaces/shop/pods/" + name;
    r.body = body;
    return s.api->handle(r);
  };
  for (const auto& [name, body, grace] : {std::tuple<std::string, std::string, int>{"a", "", 45},
                                          {"b", "", 30},
                                          {"c", R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":7})", 7}}) {
    const auto before = s.store->get("/pods", "shop", name);
    const auto res = del(name, body);
    ASSERT_EQ(res.status, 200) << res.body;
    const auto after = s.store->get("/pods", "shop", name);
    ASSERT_TRUE(after) << name << " is terminating, not gone";
    std::error_code ec;
    value want = model::parse_json(before->json, ec);
    want["metadata"]["deletionTimestamp"] = value::string(kube::format_rfc3339(s.clock->now() + std::chrono::seconds(grace)));
    want["metadata"]["deletionGracePeriodSeconds"] = value::number(grace);
    want["metadata"]["resourceVersion"] = value::string(std::to_string(after->rv));
    EXPECT_EQ(after->json, model::to_json(want));
    EXPECT_EQ(res.body, after->json);
    EXPECT_TRUE(after->being_deleted);
    EXPECT_EQ(after->fields, before->fields);
    expect_splice_noted(*after);
    ASSERT_EQ(del(name, "").status, 200);
    EXPECT_EQ(s.store->get("/pods", "shop", name)->rv, after->rv) << "a second deletion changes nothing";
  }
  ASSERT_EQ(del("b", R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})").status, 200);
  EXPECT_FALSE(s.store->get("/pods", "shop", "b")) << "no grace: removed, terminating or not";
}

TEST(StatusPatch, AWatcherSeesTheStatusWriteAsAModification) {
  Server s;
  for (const auto& d : parse_yaml_documents("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b, namespace: shop}\n"
                                            "spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}\nstatus: {currentHealthy: 0}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  auto w = s.store->watch({.resource = "policy/poddisruptionbudgets"}, std::to_string(s.store->resource_version()));
  ASSERT_TRUE(w.ok());
  auto r = s.patch("/apis/policy/v1/namespaces/shop/poddisruptionbudgets/b/status", "application/merge-patch+json",
                   R"({"status":{"currentHealthy":3,"disruptionsAllowed":1}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto e = w.value()->next(std::chrono::milliseconds(100));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ChangeType::kModified);
  EXPECT_EQ(e->object->json, r.body);
  std::error_code ec;
  const value got = model::parse_json(e->object->json, ec);
  EXPECT_EQ(json::num(got, {"status", "currentHealthy"}, -1), 3);
  EXPECT_EQ(json::num(got, {"spec", "maxUnavailable"}, -1), 1);
}

TEST(StatusPatch, ADeletionCarriesTheLastStateWithTheDeletionsVersion) {
  // The store writes the deletion's resourceVersion into the last text where it noted it.
  Server s;
  for (const auto& d : parse_yaml_documents("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: b}\n"
                                            "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b, namespace: shop}\n"
                                            "spec: {maxUnavailable: 1}\nstatus: {currentHealthy: 2}\n"))
    ASSERT_EQ(s.api->create_object(d).status, 201);
  for (const auto& [resource, name] : {std::pair<std::string, std::string>{"/configmaps", "c"}, {"policy/poddisruptionbudgets", "b"}}) {
    const auto last = s.store->get(resource, "shop", name);
    auto w = s.store->watch({.resource = resource}, std::to_string(s.store->resource_version()));
    ASSERT_TRUE(w.ok());
    auto gone = s.store->remove(resource, "shop", name);
    ASSERT_TRUE(gone.ok());
    std::error_code ec;
    value expected = model::parse_json(last->json, ec);
    expected["metadata"]["resourceVersion"] = value::string(std::to_string(gone.value()->rv));
    EXPECT_EQ(gone.value()->json, model::to_json(expected)) << resource;
    EXPECT_GT(gone.value()->rv, last->rv);
    auto e = w.value()->next(std::chrono::milliseconds(100));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, ChangeType::kDeleted);
    EXPECT_EQ(e->object->json, gone.value()->json);
  }
}

}  // namespace
}  // namespace nonevent::sim
