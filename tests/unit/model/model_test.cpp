#include <gtest/gtest.h>

#include "model/codecs.h"
#include "model/quantity.h"
#include "support/realistic_objects.h"

namespace nonevent::model {
namespace {

TEST(Quantity, ParsesWhatTheApiServerAccepts) {
  EXPECT_EQ(parse_quantity_milli("100m"), 100);
  EXPECT_EQ(parse_quantity_milli("1"), 1000);
  EXPECT_EQ(parse_quantity_milli("1.5"), 1500);
  EXPECT_EQ(parse_quantity_milli("0.1"), 100);
  EXPECT_EQ(parse_quantity_milli("15890m"), 15890);
  EXPECT_EQ(parse_quantity("128Mi"), 128LL * 1024 * 1024);
  EXPECT_EQ(parse_quantity("1Gi"), 1024LL * 1024 * 1024);
  EXPECT_EQ(parse_quantity("1G"), 1000000000LL);
  EXPECT_EQ(parse_quantity("1e3"), 1000);
  EXPECT_EQ(parse_quantity("104845292Ki"), 104845292LL * 1024);
  EXPECT_EQ(parse_quantity("110"), 110);
  EXPECT_EQ(parse_quantity_milli("1u"), 1) << "rounded up to a milli-unit";
  EXPECT_FALSE(parse_quantity("12x"));
  EXPECT_FALSE(parse_quantity(""));
  EXPECT_FALSE(parse_quantity("Mi"));
}

Labels labels(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Labels out;
  for (auto [k, v] : kv) out.emplace_back(IStr(k), IStr(v));
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
  return out;
}

TEST(LabelSelector, MatchLabelsAndExpressions) {
  LabelSelector s;
  s.match_labels = labels({{"app", "web"}});
  s.match_expressions.push_back({IStr("tier"), IStr("In"), {IStr("a"), IStr("b")}});
  s.match_expressions.push_back({IStr("canary"), IStr("DoesNotExist"), {}});
  EXPECT_TRUE(s.matches(labels({{"app", "web"}, {"tier", "a"}})));
  EXPECT_FALSE(s.matches(labels({{"app", "web"}, {"tier", "c"}})));
  EXPECT_FALSE(s.matches(labels({{"app", "web"}, {"tier", "a"}, {"canary", "1"}})));
  EXPECT_FALSE(s.matches(labels({{"app", "api"}, {"tier", "a"}})));
  LabelSelector empty;
  EXPECT_TRUE(empty.matches(labels({{"x", "y"}}))) << "an empty selector selects everything";
  LabelSelector notin;
  notin.match_expressions.push_back({IStr("zone"), IStr("NotIn"), {IStr("a")}});
  EXPECT_TRUE(notin.matches(labels({}))) << "NotIn matches a missing key";
}

TEST(PodCodec, DecodesWhatThePlannerNeeds) {
  auto json = testing::realistic_pod_json({.ns = "shop", .workload = "web", .index = 3, .node = "node-7", .resource_version = 42});
  EXPECT_GT(json.size(), 4500u);
  EXPECT_LT(json.size(), 6500u);
  auto r = CodecFor<Pod>::decode(json);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Pod& p = *r.value();
  EXPECT_EQ(p.meta.name, "web-7d9f8c6b5-00003");
  EXPECT_EQ(p.meta.namespace_.view(), "shop");
  EXPECT_EQ(p.meta.resource_version, "42");
  EXPECT_EQ(p.meta.uid.view().size(), 36u);
  EXPECT_EQ(CodecFor<Pod>::key(p), "shop/web-7d9f8c6b5-00003");
  ASSERT_NE(p.meta.controller(), nullptr);
  EXPECT_EQ(p.meta.controller()->kind.view(), "ReplicaSet");
  EXPECT_EQ(p.meta.controller()->name.view(), "web-7d9f8c6b5");
  EXPECT_EQ(find_label(p.meta.label_set(), "app")->view(), "web");
  EXPECT_EQ(p.node_name.view(), "node-7");
  EXPECT_EQ(p.phase, PodPhase::kRunning);
  EXPECT_TRUE(p.ready);
  EXPECT_EQ(p.spec->cpu_milli, 350);
  EXPECT_EQ(p.spec->memory_bytes, 384LL * 1024 * 1024);
  EXPECT_EQ(p.spec->tolerations.size(), 2u);
  EXPECT_EQ(p.spec->termination_grace_seconds, 30);
  ASSERT_EQ(p.spec->spread.size(), 1u);
  const auto& c = p.spec->spread[0];
  EXPECT_EQ(c.max_skew, 1);
  EXPECT_EQ(c.topology_key.view(), "topology.kubernetes.io/zone");
  EXPECT_TRUE(c.do_not_schedule);
  EXPECT_TRUE(c.honor_node_affinity) << "default Honor";
  EXPECT_FALSE(c.honor_node_taints) << "default Ignore";
  ASSERT_EQ(c.match_label_keys.size(), 1u);
  EXPECT_FALSE(p.volumes) << "configMap and projected volumes are not blockers";
  EXPECT_FALSE(p.mirror);
  EXPECT_FALSE(p.do_not_evict);
}

TEST(PodCodec, PodsOfOneTemplateShareTheirSpecAndLabels) {
  auto a = CodecFor<Pod>::decode(testing::realistic_pod_json({.index = 1, .node = "n1"})).value();
  auto b = CodecFor<Pod>::decode(testing::realistic_pod_json({.index = 2, .node = "n2"})).value();
  auto other = CodecFor<Pod>::decode(testing::realistic_pod_json({.workload = "api", .index = 1, .node = "n1"})).value();
  EXPECT_EQ(a->spec.get(), b->spec.get()) << "nodeName differs, the template does not";
  EXPECT_EQ(a->meta.labels.get(), b->meta.labels.get());
  EXPECT_NE(a->spec.get(), other->spec.get());
}

TEST(PodCodec, BlockersAndPendingState) {
  const std::string json = R"({"metadata":{"name":"db-0","namespace":"data","resourceVersion":"9",
    "annotations":{"nonevent.dev/do-not-evict":"true","kubernetes.io/config.mirror":"abc"}},
    "spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"2","memory":"1Gi"}}}],
      "initContainers":[{"name":"i","resources":{"requests":{"cpu":"3"}}}],
      "volumes":[{"name":"scratch","emptyDir":{}},{"name":"data","persistentVolumeClaim":{"claimName":"data-db-0"}}],
      "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"topology.kubernetes.io/zone","operator":"In","values":["a","b"]}]}]}}},
      "nodeSelector":{"disk":"ssd"}},
    "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]}})";
  auto r = CodecFor<Pod>::decode(json);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Pod& p = *r.value();
  EXPECT_TRUE(p.do_not_evict);
  EXPECT_TRUE(p.mirror);
  EXPECT_TRUE(p.unschedulable);
  EXPECT_FALSE(p.ready);
  EXPECT_EQ(p.spec->cpu_milli, 3000) << "max(sum of containers, largest init container)";
  EXPECT_EQ(p.spec->memory_bytes, 1024LL * 1024 * 1024) << "requests default to limits";
  ASSERT_TRUE(p.volumes);
  EXPECT_TRUE(p.volumes->has_empty_dir);
  ASSERT_EQ(p.volumes->claims.size(), 1u);
  EXPECT_EQ(p.volumes->claims[0].view(), "data-db-0");
  ASSERT_EQ(p.spec->required_node_affinity.size(), 1u);
  EXPECT_EQ(p.spec->required_node_affinity[0].match_expressions[0].values.size(), 2u);
  EXPECT_EQ(find_label(p.spec->node_selector, "disk")->view(), "ssd");
}

TEST(NodeCodec, Decodes) {
  auto r = CodecFor<Node>::decode(testing::realistic_node_json("node-1", "us-east-1a", 5));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Node& n = *r.value();
  EXPECT_EQ(CodecFor<Node>::key(n), "node-1");
  EXPECT_EQ(n.zone.view(), "us-east-1a");
  EXPECT_EQ(n.cpu_milli, 15890);
  EXPECT_EQ(n.memory_bytes, 63000LL * 1024 * 1024);
  EXPECT_EQ(n.pods, 110);
  EXPECT_TRUE(n.ready);
  EXPECT_FALSE(n.unschedulable);
  EXPECT_EQ(n.kubelet_version, "v1.32.4");
  EXPECT_EQ(n.os_image, "Debian GNU/Linux 12 bookworm");
  ASSERT_NE(n.annotation("node.alpha.kubernetes.io/ttl"), nullptr);
  auto cordoned = CodecFor<Node>::decode(R"({"metadata":{"name":"n","labels":{"failure-domain.beta.kubernetes.io/zone":"z"}},
    "spec":{"unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]},
    "status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})").value();
  EXPECT_TRUE(cordoned->unschedulable);
  EXPECT_EQ(cordoned->zone.view(), "z") << "the deprecated zone label still counts";
  ASSERT_EQ(cordoned->taints.size(), 1u);
  EXPECT_EQ(cordoned->taints[0].effect.view(), "NoSchedule");
  EXPECT_FALSE(cordoned->ready);
}

TEST(PdbCodec, IntAndPercentAndStatus) {
  auto p = CodecFor<PodDisruptionBudget>::decode(R"({"metadata":{"name":"web","namespace":"shop","generation":2},
    "spec":{"minAvailable":"60%","selector":{"matchLabels":{"app":"web"}},"unhealthyPodEvictionPolicy":"AlwaysAllow"},
    "status":{"observedGeneration":2,"disruptionsAllowed":1,"currentHealthy":4,"desiredHealthy":3,"expectedPods":5,
      "disruptedPods":{"web-1":"2026-11-26T00:00:00Z"}}})").value();
  ASSERT_TRUE(p->min_available);
  EXPECT_TRUE(p->min_available->is_percent);
  EXPECT_EQ(p->min_available->value, 60);
  EXPECT_FALSE(p->max_unavailable);
  EXPECT_EQ(p->disruptions_allowed, 1);
  EXPECT_EQ(p->expected_pods, 5);
  EXPECT_EQ(p->disrupted_pods, std::vector<std::string>{"web-1"});
  EXPECT_EQ(p->unhealthy_pod_eviction_policy.view(), "AlwaysAllow");
  auto q = CodecFor<PodDisruptionBudget>::decode(R"({"metadata":{"name":"q","namespace":"s"},"spec":{"maxUnavailable":1}})").value();
  EXPECT_FALSE(q->max_unavailable->is_percent);
  EXPECT_EQ(q->max_unavailable->value, 1);
  EXPECT_FALSE(q->selector) << "nil selector";
}

TEST(WorkloadCodec, DeploymentWithTemplate) {
  auto d = WorkloadCodec<WorkloadKind::kDeployment>::decode(R"({"metadata":{"name":"web","namespace":"shop"},
    "spec":{"replicas":6,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"500m"}}}]}}},
    "status":{"readyReplicas":5,"availableReplicas":5,"updatedReplicas":6,"observedGeneration":3}})").value();
  EXPECT_EQ(d->kind, WorkloadKind::kDeployment);
  EXPECT_EQ(d->replicas, 6);
  EXPECT_EQ(d->ready_replicas, 5);
  ASSERT_TRUE(d->template_spec);
  EXPECT_EQ(d->template_spec->cpu_milli, 500);
  auto ds = WorkloadCodec<WorkloadKind::kDaemonSet>::decode(R"({"metadata":{"name":"agent","namespace":"kube-system"},
    "status":{"desiredNumberScheduled":9,"numberReady":8}})").value();
  EXPECT_EQ(ds->replicas, 9);
  EXPECT_EQ(ds->ready_replicas, 8);
}

TEST(LeaseAndGenericCodec, Decode) {
  auto l = CodecFor<Lease>::decode(R"({"metadata":{"name":"nonevent","namespace":"ops","resourceVersion":"3"},
    "spec":{"holderIdentity":"pod-a_1","leaseDurationSeconds":15,"renewTime":"2026-11-26T03:00:00.123456Z","leaseTransitions":2}})").value();
  EXPECT_EQ(l->holder_identity, "pod-a_1");
  EXPECT_EQ(l->lease_duration_seconds, 15);
  ASSERT_TRUE(l->renew_time);
  EXPECT_EQ(kube::format_rfc3339_micro(*l->renew_time), "2026-11-26T03:00:00.123456Z");
  const std::string mw = R"({"apiVersion":"nonevent.dev/v1alpha1","kind":"MaintenanceWindow","metadata":{"name":"use1a","generation":4,"resourceVersion":"77"},"spec":{"zones":["us-east-1a"]}})";
  auto g = CodecFor<GenericObject>::decode(mw).value();
  EXPECT_EQ(g->meta.name, "use1a");
  EXPECT_EQ(g->meta.generation, 4);
  EXPECT_EQ(g->json, mw);
}

TEST(Codecs, BadInputIsAnErrorNotACrash) {
  EXPECT_FALSE(CodecFor<Pod>::decode("{\"metadata\":").ok());
  EXPECT_FALSE(CodecFor<Pod>::decode_event(R"({"type":"ADDED"})").ok()) << "no object";
  EXPECT_FALSE(CodecFor<Pod>::decode_event(R"({"type":"WHATEVER","object":{}})").ok());
  std::string list = R"({"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":3}}]})";
  EXPECT_FALSE(CodecFor<Pod>::decode_list(list).ok());
}

TEST(Codecs, EventWithObjectBeforeType) {
  auto ev = CodecFor<Pod>::decode_event(R"({"object":{"metadata":{"name":"p","namespace":"n","resourceVersion":"5"}},"type":"DELETED"})");
  ASSERT_TRUE(ev.ok()) << ev.error().to_string();
  EXPECT_EQ(ev.value().type, kube::WatchEventType::kDeleted);
  EXPECT_EQ(ev.value().resource_version, "5");
}

TEST(Clock, Rfc3339RoundTripsAndRejectsGarbage) {
  auto t = kube::parse_rfc3339("2026-12-01T02:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(kube::format_rfc3339(*t), "2026-12-01T02:00:00Z");
  auto off = kube::parse_rfc3339("2026-12-01T03:00:00+01:00");
  EXPECT_EQ(*off, *t);
  EXPECT_FALSE(kube::parse_rfc3339("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(kube::parse_rfc3339("yesterday"));
  EXPECT_FALSE(kube::parse_rfc3339("2026-12-01T02:00:00"));
}

}  // namespace
}  // namespace nonevent::model
