// The operator's protobuf reading of pods (model/codecs_protobuf.h) against the JSON reading
// of the same objects: the embedded cluster's encoder, driven by Kubernetes' own schemas, is the
// reference writer, so a wrong field number in the hand-written reader shows as a difference.
// Over HTTP, the embedded cluster streams a pod watch in protobuf's framing to a client that
// asks for it, and the operator's informer keeps the same cache either way.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "kube/informer.h"
#include "kube/rest_list_watch.h"
#include "kube/watch_framer.h"
#include "model/codecs.h"
#include "model/codecs_protobuf.h"
#include "sim/http_server.h"
#include "sim/protobuf_body.h"
#include "support/realistic_objects.h"
#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using model::CodecFor;
using model::Pod;

std::string protobuf_of(const std::string& json) {
  std::string error;
  auto body = encode_protobuf_body(web::json::value::parse(json), error);
  EXPECT_TRUE(body) << error;
  return body.value_or("");
}

// A frame as it reaches the codec: the stream's 4-byte length cut off.
std::string frame_of(const std::string& json_event) {
  std::string error;
  auto frame = encode_protobuf_watch_frame(json_event, error);
  EXPECT_TRUE(frame) << error;
  return frame ? frame->substr(4) : "";
}

std::vector<std::string> label_text(const model::Labels& l) {
  std::vector<std::string> out;
  for (const auto& [k, v] : l) out.push_back(k.str() + "=" + v.str());
  return out;
}
std::vector<std::string> requirements_text(const std::vector<model::LabelSelectorRequirement>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    std::string s = r.key.str() + " " + r.op.str();
    for (const auto& v : r.values) s += " " + v.str();
    out.push_back(s);
  }
  return out;
}

// Every member of the model a controller reads, compared one by one.
void expect_same(const Pod& a, const Pod& b) {
  EXPECT_EQ(a.meta.name, b.meta.name);
  EXPECT_EQ(a.meta.namespace_, b.meta.namespace_);
  EXPECT_EQ(a.meta.uid.view(), b.meta.uid.view());
  EXPECT_EQ(a.meta.resource_version, b.meta.resource_version);
  EXPECT_EQ(a.meta.generation, b.meta.generation);
  EXPECT_EQ(label_text(a.meta.label_set()), label_text(b.meta.label_set()));
  ASSERT_EQ(a.meta.owners.size(), b.meta.owners.size());
  for (size_t i = 0; i < a.meta.owners.size(); ++i) {
    EXPECT_EQ(a.meta.owners[i].api_version, b.meta.owners[i].api_version);
    EXPECT_EQ(a.meta.owners[i].kind, b.meta.owners[i].kind);
    EXPECT_EQ(a.meta.owners[i].name, b.meta.owners[i].name);
    EXPECT_EQ(a.meta.owners[i].uid.view(), b.meta.owners[i].uid.view());
    EXPECT_EQ(a.meta.owners[i].controller, b.meta.owners[i].controller);
  }
  EXPECT_EQ(a.meta.finalizers, b.meta.finalizers);
  EXPECT_EQ(a.meta.created, b.meta.created);
  EXPECT_EQ(a.meta.deleted, b.meta.deleted);
  EXPECT_EQ(a.node_name, b.node_name);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.ready, b.ready);
  EXPECT_EQ(a.unschedulable, b.unschedulable);
  EXPECT_EQ(a.ready_since, b.ready_since);
  EXPECT_EQ(a.mirror, b.mirror);
  EXPECT_EQ(a.do_not_evict, b.do_not_evict);
  EXPECT_EQ(a.deletion_cost, b.deletion_cost);
  ASSERT_EQ(a.nonevent_annotations.size(), b.nonevent_annotations.size());
  for (size_t i = 0; i < a.nonevent_annotations.size(); ++i) {
    EXPECT_EQ(a.nonevent_annotations[i].first, b.nonevent_annotations[i].first);
    EXPECT_EQ(a.nonevent_annotations[i].second, b.nonevent_annotations[i].second);
  }
  ASSERT_TRUE(a.spec && b.spec);
  const auto &s = *a.spec, &t = *b.spec;
  EXPECT_EQ(label_text(s.node_selector), label_text(t.node_selector));
  ASSERT_EQ(s.tolerations.size(), t.tolerations.size());
  for (size_t i = 0; i < s.tolerations.size(); ++i) {
    EXPECT_EQ(s.tolerations[i].key, t.tolerations[i].key);
    EXPECT_EQ(s.tolerations[i].op, t.tolerations[i].op);
    EXPECT_EQ(s.tolerations[i].value, t.tolerations[i].value);
    EXPECT_EQ(s.tolerations[i].effect, t.tolerations[i].effect);
    EXPECT_EQ(s.tolerations[i].seconds, t.tolerations[i].seconds);
  }
  ASSERT_EQ(s.required_node_affinity.size(), t.required_node_affinity.size());
  for (size_t i = 0; i < s.required_node_affinity.size(); ++i) {
    EXPECT_EQ(requirements_text(s.required_node_affinity[i].match_expressions),
              requirements_text(t.required_node_affinity[i].match_expressions));
    EXPECT_EQ(requirements_text(s.required_node_affinity[i].match_fields),
              requirements_text(t.required_node_affinity[i].match_fields));
  }
  ASSERT_EQ(s.spread.size(), t.spread.size());
  for (size_t i = 0; i < s.spread.size(); ++i) {
    EXPECT_EQ(s.spread[i].max_skew, t.spread[i].max_skew);
    EXPECT_EQ(s.spread[i].topology_key, t.spread[i].topology_key);
    EXPECT_EQ(s.spread[i].do_not_schedule, t.spread[i].do_not_schedule);
    ASSERT_EQ(s.spread[i].selector.has_value(), t.spread[i].selector.has_value());
    if (s.spread[i].selector) {
      EXPECT_EQ(label_text(s.spread[i].selector->match_labels), label_text(t.spread[i].selector->match_labels));
      EXPECT_EQ(requirements_text(s.spread[i].selector->match_expressions),
                requirements_text(t.spread[i].selector->match_expressions));
    }
    EXPECT_EQ(s.spread[i].min_domains, t.spread[i].min_domains);
    EXPECT_EQ(s.spread[i].honor_node_affinity, t.spread[i].honor_node_affinity);
    EXPECT_EQ(s.spread[i].honor_node_taints, t.spread[i].honor_node_taints);
    EXPECT_EQ(s.spread[i].match_label_keys, t.spread[i].match_label_keys);
  }
  EXPECT_EQ(s.has_pod_anti_affinity, t.has_pod_anti_affinity);
  EXPECT_EQ(s.cpu_milli, t.cpu_milli);
  EXPECT_EQ(s.memory_bytes, t.memory_bytes);
  EXPECT_EQ(s.priority, t.priority);
  EXPECT_EQ(s.priority_class, t.priority_class);
  EXPECT_EQ(s.scheduler_name, t.scheduler_name);
  EXPECT_EQ(s.termination_grace_seconds, t.termination_grace_seconds);
  EXPECT_EQ(s.restart_always, t.restart_always);
  EXPECT_EQ(s.containers, t.containers);
  ASSERT_EQ(static_cast<bool>(a.volumes), static_cast<bool>(b.volumes));
  if (a.volumes) {
    EXPECT_EQ(a.volumes->has_empty_dir, b.volumes->has_empty_dir);
    EXPECT_EQ(a.volumes->has_host_path, b.volumes->has_host_path);
    EXPECT_EQ(a.volumes->claims, b.volumes->claims);
  }
}

// Everything the model reads, set: a StatefulSet pod on its way out with a claim and a scratch
// dir, init containers, overhead, node affinity, anti-affinity, two spread constraints, the
// operator's own annotations, a deletion cost, a mirror annotation and an Always-less policy.
const char* kRichPod = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"db-2","namespace":"data","uid":"0c5f2f0e-1111-4a4a-9b9b-000000000002",
 "resourceVersion":"8812","generation":3,"creationTimestamp":"2026-11-20T08:15:42Z","deletionTimestamp":"2026-11-21T01:00:05Z",
 "labels":{"app":"db","zone-pinned":"yes","statefulset.kubernetes.io/pod-name":"db-2"},
 "annotations":{"nonevent.dev/do-not-evict":"true","nonevent.dev/moved-by":"mw-1","controller.kubernetes.io/pod-deletion-cost":"-25","kubernetes.io/config.mirror":"abc"},
 "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"x","uid":"u-1"},{"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","uid":"u-2","controller":true,"blockOwnerDeletion":true}],
 "finalizers":["example.com/keep","nonevent.dev/hold"]},
 "spec":{"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-db-2"}},{"name":"scratch","emptyDir":{}},{"name":"cfg","configMap":{"name":"db"}}],
 "initContainers":[{"name":"init","image":"busybox","resources":{"requests":{"cpu":"2","memory":"1Gi"}}}],
 "containers":[{"name":"db","image":"postgres:16","resources":{"limits":{"cpu":"1500m","memory":"3Gi"}}},{"name":"exporter","image":"exp:1","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}],
 "overhead":{"cpu":"250m","memory":"120Mi"},"restartPolicy":"OnFailure","terminationGracePeriodSeconds":120,"nodeSelector":{"disk":"ssd","kubernetes.io/os":"linux"},
 "nodeName":"node-7","hostname":"db-2","subdomain":"db",
 "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"In","values":["a","b"]}]},{"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["node-9"]}]}]}},
  "podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"kubernetes.io/hostname","labelSelector":{"matchLabels":{"app":"db"}}}]}},
 "schedulerName":"custom-scheduler","tolerations":[{"key":"dedicated","operator":"Equal","value":"db","effect":"NoSchedule"},{"operator":"Exists","effect":"NoExecute","tolerationSeconds":60}],
 "priorityClassName":"critical","priority":100000,
 "topologySpreadConstraints":[{"maxSkew":2,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["db"]}]},"minDomains":3,"nodeAffinityPolicy":"Ignore","nodeTaintsPolicy":"Honor","matchLabelKeys":["controller-revision-hash"]},
  {"maxSkew":1,"topologyKey":"kubernetes.io/hostname","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"db"}}}]},
 "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-20T08:16:01Z"},{"type":"PodScheduled","status":"True","lastTransitionTime":"2026-11-20T08:15:42Z"}]}})";

std::shared_ptr<const Pod> from_json(const std::string& json) {
  auto p = CodecFor<Pod>::decode(json);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().to_string());
  return p.ok() ? p.value() : nullptr;
}
std::shared_ptr<const Pod> from_protobuf(const std::string& json) {
  const std::string body = protobuf_of(json);
  EXPECT_TRUE(model::is_protobuf_body(body));
  auto p = CodecFor<Pod>::decode(body);  // the same entry point, told apart by the magic
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().to_string());
  return p.ok() ? p.value() : nullptr;
}

TEST(PodProtobufCodec, ReadsEveryPodAsItsJsonReads) {
  std::vector<std::string> pods{kRichPod};
  for (bool running : {true, false})
    for (bool spread : {true, false})
      pods.push_back(testing::realistic_pod_json(
          {.ns = "shop", .workload = "web", .index = 3, .node = running ? "node-1" : "", .resource_version = 77, .spread_constraint = spread}));
  for (const auto& json : pods) {
    SCOPED_TRACE(json.substr(0, 120));
    auto a = from_json(json), b = from_protobuf(json);
    ASSERT_TRUE(a && b);
    expect_same(*a, *b);
  }
  // Spot checks that the comparison compares something (the rich pod's values, not defaults).
  auto rich = from_protobuf(kRichPod);
  EXPECT_TRUE(rich->do_not_evict && rich->mirror && rich->meta.deleted);
  EXPECT_EQ(rich->deletion_cost, -25);
  EXPECT_EQ(rich->spec->cpu_milli, 2250);  // max(1500+100, init 2000) + overhead 250
  EXPECT_FALSE(rich->spec->restart_always);
  ASSERT_TRUE(rich->volumes);
  EXPECT_EQ(rich->volumes->claims.size(), 1u);
  EXPECT_EQ(rich->spec->spread.size(), 2u);
  EXPECT_EQ(rich->spec->required_node_affinity.size(), 2u);
}

// Identical templates are shared, as with JSON; a pod of another template is not.
TEST(PodProtobufCodec, PodsOfOneTemplateShareItAndOthersDoNot) {
  auto a = from_protobuf(testing::realistic_pod_json({.workload = "web", .index = 1, .node = "node-1"}));
  auto b = from_protobuf(testing::realistic_pod_json({.workload = "web", .index = 2, .node = "node-2"}));
  auto c = from_protobuf(testing::realistic_pod_json({.workload = "api", .index = 3, .node = "node-1"}));
  EXPECT_EQ(a->spec.get(), b->spec.get());  // nodeName differs, the template does not
  EXPECT_NE(a->spec.get(), c->spec.get());
  EXPECT_EQ(a->node_name.view(), "node-1");
  EXPECT_EQ(b->node_name.view(), "node-2");
}

TEST(PodProtobufCodec, ReadsAListPageWithItsContinueToken) {
  const std::string items = testing::realistic_pod_json({.index = 1, .node = "n1", .resource_version = 5}) + "," +
                            testing::realistic_pod_json({.index = 2, .resource_version = 6});
  std::string json = testing::list_json("PodList", "99", "next-page", items);
  std::string body = protobuf_of(json);
  auto pb = CodecFor<Pod>::decode_list(body);
  ASSERT_TRUE(pb.ok()) << pb.error().to_string();
  auto js = CodecFor<Pod>::decode_list(json);
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(pb.value().resource_version, "99");
  EXPECT_EQ(pb.value().continue_token, "next-page");
  ASSERT_EQ(pb.value().items.size(), 2u);
  for (size_t i = 0; i < 2; ++i) expect_same(*js.value().items[i], *pb.value().items[i]);
}

TEST(PodProtobufCodec, ReadsEveryKindOfWatchEvent) {
  const std::string pod = testing::realistic_pod_json({.index = 4, .node = "n1", .resource_version = 41});
  for (const char* type : {"ADDED", "MODIFIED", "DELETED"}) {
    auto ev = CodecFor<Pod>::decode_event(frame_of(testing::watch_event_json(type, pod)));
    ASSERT_TRUE(ev.ok()) << ev.error().to_string();
    EXPECT_EQ(ev.value().resource_version, "41");
    ASSERT_TRUE(ev.value().object);
    EXPECT_EQ(ev.value().object->meta.name, "web-7d9f8c6b5-00004");
    EXPECT_EQ(ev.value().type, std::string(type) == "ADDED"     ? kube::WatchEventType::kAdded
                               : std::string(type) == "DELETED" ? kube::WatchEventType::kDeleted
                                                                : kube::WatchEventType::kModified);
  }
  auto bookmark = CodecFor<Pod>::decode_event(frame_of(testing::bookmark_json("Pod", 512)));
  ASSERT_TRUE(bookmark.ok()) << bookmark.error().to_string();
  EXPECT_EQ(bookmark.value().type, kube::WatchEventType::kBookmark);
  EXPECT_EQ(bookmark.value().resource_version, "512");
  auto gone = CodecFor<Pod>::decode_event(frame_of(
      R"x({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (500)","reason":"Expired","code":410}})x"));
  ASSERT_TRUE(gone.ok()) << gone.error().to_string();
  EXPECT_EQ(gone.value().type, kube::WatchEventType::kError);
  ASSERT_TRUE(gone.value().error);
  EXPECT_TRUE(gone.value().error->is_gone());
  EXPECT_NE(gone.value().error->to_string().find("too old resource version"), std::string::npos);
}

// A damaged frame is an error the watcher re-watches after, never a crash or a half pod.
TEST(PodProtobufCodec, RefusesTruncatedAndForeignBytes) {
  const std::string frame = frame_of(testing::watch_event_json("MODIFIED", testing::realistic_pod_json({.node = "n1"})));
  for (size_t cut : {size_t{1}, size_t{7}, frame.size() / 2, frame.size() - 1})
    EXPECT_FALSE(CodecFor<Pod>::decode_event(frame.substr(0, cut)).ok()) << cut;
  std::string body = protobuf_of(testing::realistic_pod_json({.node = "n1"}));
  body.resize(body.size() - 10);
  EXPECT_FALSE(CodecFor<Pod>::decode(body).ok());
  std::string not_a_list = std::string("k8s\0", 4) + "\xff\xff\xff";
  EXPECT_FALSE(CodecFor<Pod>::decode_list(not_a_list).ok());
}

// The framer cuts a length-prefixed stream into its events wherever the pieces break, and a
// JSON stream into lines, telling them apart by the first byte.
TEST(PodProtobufCodec, FramerCutsBothFramingsAtAnyPieceBoundary) {
  std::string stream;
  std::vector<std::string> frames;
  for (int i = 0; i < 3; ++i) {
    std::string error;
    auto f = encode_protobuf_watch_frame(
        testing::watch_event_json("MODIFIED", testing::realistic_pod_json({.index = i, .node = "n1", .resource_version = 10 + i})), error);
    ASSERT_TRUE(f) << error;
    frames.push_back(f->substr(4));
    stream += *f;
  }
  for (size_t piece : {size_t{1}, size_t{3}, size_t{5}, size_t{1000}, stream.size()}) {
    kube::WatchFramer framer;
    std::vector<std::string> got;
    for (size_t at = 0; at < stream.size(); at += piece)
      ASSERT_TRUE(framer.feed(std::string_view(stream).substr(at, piece), [&](std::string_view f) {
        got.emplace_back(f);
        return true;
      }));
    EXPECT_TRUE(framer.length_delimited());
    EXPECT_EQ(got, frames) << "pieces of " << piece;
  }
  kube::WatchFramer lines;
  std::vector<std::string> got;
  ASSERT_TRUE(lines.feed("{\"a\":1}\n{\"b\"", [&](std::string_view l) { got.emplace_back(l); return true; }));
  ASSERT_TRUE(lines.feed(":2}\n", [&](std::string_view l) { got.emplace_back(l); return true; }));
  EXPECT_FALSE(lines.length_delimited());
  EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  kube::WatchFramer small(64);
  EXPECT_FALSE(small.feed(std::string("\0\0\1\0", 4), [](std::string_view) { return true; }));
  EXPECT_TRUE(small.overflowed());
}

// Over HTTP: the embedded cluster answers a client that puts protobuf first with protobuf's
// watch framing, and an informer reading pods that way holds what a JSON one holds, through
// creates, status changes, deletes and a dropped watch.
TEST(PodProtobufCodec, InformerOverHttpHoldsWhatAJsonInformerHolds) {
  Cluster c;
  c.apply(web_yaml(6));
  c.run(30s);
  HttpServer server(c.api, HttpServerOptions{});
  kube::RestConfig cfg;
  cfg.server = server.url();
  cfg.qps = 0;
  auto client = kube::make_rest_client(cfg);

  // The stream itself: length-prefixed WatchEvent messages, not JSON lines.
  kube::ListOptions o{.resource_version = "1", .timeout_seconds = 1};
  o.accept = "application/vnd.kubernetes.protobuf, application/json";
  std::vector<std::string> events;
  auto st = client->watch(kube::resources::pods(), "shop", o, [&](std::string_view e) {
    events.emplace_back(e);
    return events.size() < 2;
  });
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(model::is_protobuf_watch_frame(events[0]));
  kube::ListOptions lo{.limit = 2};
  lo.accept = o.accept;
  auto page = client->list(kube::resources::pods(), "shop", lo);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(model::is_protobuf_body(page.value()));

  using PodInformer = kube::Informer<Pod, CodecFor<Pod>>;
  kube::WatcherOptions wo{.page_size = 4, .backoff_initial = std::chrono::milliseconds(5), .backoff_max = std::chrono::milliseconds(50)};
  auto pb_source = std::make_shared<kube::RestListWatch>(client, kube::resources::pods());
  pb_source->prefer_protobuf();
  PodInformer pb(pb_source, kube::real_clock(), wo);
  PodInformer js(std::make_shared<kube::RestListWatch>(client, kube::resources::pods()), kube::real_clock(), wo);
  pb.start();
  js.start();
  ASSERT_TRUE(pb.wait_for_sync(std::chrono::seconds(10)));
  ASSERT_TRUE(js.wait_for_sync(std::chrono::seconds(10)));
  EXPECT_EQ(pb.size(), 6u);

  c.patch("/apis/apps/v1/namespaces/shop/deployments/web", R"({"spec":{"replicas":9}})");
  c.run(30s);
  c.api->drop_watches();
  c.patch("/apis/apps/v1/namespaces/shop/deployments/web", R"({"spec":{"replicas":4}})");
  c.run(30s);
  auto same = [&] {
    if (js.size() != 4 || pb.last_resource_version() != js.last_resource_version() || pb.size() != js.size()) return false;
    for (const auto& p : js.list()) {
      auto q = pb.get(CodecFor<Pod>::key(*p));
      if (!q || q->meta.resource_version != p->meta.resource_version || q->ready != p->ready) return false;
    }
    return true;
  };
  for (int i = 0; i < 200 && !same(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(same()) << pb.size() << " vs " << js.size() << " (stored " << c.list("/pods", "shop").size() << ", versions "
                      << pb.last_resource_version() << " vs " << js.last_resource_version() << "): " << pb.last_error();
  EXPECT_EQ(pb.size(), 4u);
  for (const auto& p : js.list()) expect_same(*p, *pb.get(CodecFor<Pod>::key(*p)));
  EXPECT_TRUE(pb.last_error().empty()) << pb.last_error();
  pb.stop();
  js.stop();
}

}  // namespace
}  // namespace nonevent::sim
