// Events as client-go records them: repeats aggregated, similar events combined, storms cut.
#include <gtest/gtest.h>

#include <cpprest/json.h>

#include "kube/event_recorder.h"
#include "support/object_store.h"
#include "support/test_server.h"

namespace nonevent::kube {
namespace {

struct Cluster {
  testing::ObjectStore store;
  testing::TestServer server{[this](const testing::TestRequest& r) { return store.handle(r); }};
  std::shared_ptr<VirtualClock> clock = std::make_shared<VirtualClock>();
  std::shared_ptr<RestClient> client() {
    RestConfig c;
    c.server = server.url();
    c.qps = 0;
    return make_rest_client(c, clock);
  }
  std::vector<web::json::value> events(const std::string& ns) {
    std::vector<web::json::value> out;
    for (auto& [n, j] : store.objects("/api/v1/namespaces/" + ns + "/events")) {
      std::error_code ec;
      out.push_back(web::json::value::parse(j, ec));
    }
    return out;
  }
};

const ObjectReference kNode{"v1", "Node", "", "node-1", "uid-1", ""};
const ObjectReference kWindow{"nonevent.dev/v1alpha1", "MaintenanceWindow", "", "use1a", "uid-2", ""};

TEST(EventRecorder, RepeatsBumpCountAndLastTimestamp) {
  Cluster k;
  EventRecorder rec(k.client(), k.clock);
  for (int i = 0; i < 5; ++i) {
    rec.record(kNode, "Normal", "Cordoned", "cordoned for MaintenanceWindow/use1a");
    k.clock->advance(std::chrono::seconds(10));
  }
  rec.flush();
  auto evs = k.events("default");
  ASSERT_EQ(evs.size(), 1u);
  auto& e = evs[0];
  EXPECT_EQ(e["count"].as_integer(), 5);
  EXPECT_EQ(e["reason"].as_string(), "Cordoned");
  EXPECT_EQ(e["involvedObject"]["kind"].as_string(), "Node");
  EXPECT_EQ(e["involvedObject"]["name"].as_string(), "node-1");
  EXPECT_EQ(e["source"]["component"].as_string(), "nonevent-operator");
  EXPECT_NE(e["firstTimestamp"].as_string(), e["lastTimestamp"].as_string());
  EXPECT_EQ(rec.stats().created, 1);
  EXPECT_EQ(rec.stats().patched, 4);
}

TEST(EventRecorder, SimilarEventsAreCombinedAfterTen) {
  Cluster k;
  EventRecorder rec(k.client(), k.clock);
  for (int i = 0; i < 14; ++i)
    rec.record(kWindow, "Warning", "EvictionBlocked", "pod shop/web-" + std::to_string(i) + " blocked by PDB web");
  rec.flush();
  auto evs = k.events("default");
  int combined = 0, distinct = 0;
  for (auto& e : evs) {
    if (e["message"].as_string().rfind("(combined from similar events): ", 0) == 0) ++combined;
    else ++distinct;
  }
  EXPECT_EQ(distinct, 10);
  EXPECT_EQ(combined, 4) << "each later one is marked combined";
}

TEST(EventRecorder, StormsAreCutPerObjectAndRefillSlowly) {
  Cluster k;
  EventRecorder rec(k.client(), k.clock, {.aggregate_max_events = 1000});
  for (int i = 0; i < 40; ++i) rec.record(kNode, "Normal", "R" + std::to_string(i), "m");
  rec.flush();
  EXPECT_EQ(rec.stats().created, 25);
  EXPECT_EQ(rec.stats().dropped_spam, 15);
  rec.record(kWindow, "Normal", "Other", "another object has its own budget");
  k.clock->advance(std::chrono::minutes(5));
  rec.record(kNode, "Normal", "Later", "one token back after 5 minutes");
  rec.record(kNode, "Normal", "Later2", "but only one");
  rec.flush();
  EXPECT_EQ(rec.stats().created, 27);
  EXPECT_EQ(rec.stats().dropped_spam, 16);
}

TEST(EventRecorder, NamespacedObjectsGetEventsInTheirNamespace) {
  Cluster k;
  EventRecorder rec(k.client(), k.clock);
  rec.record({"v1", "Pod", "shop", "web-1", "u", "7"}, "Warning", "EvictionBlocked", "PDB web at zero");
  rec.flush();
  auto evs = k.events("shop");
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["involvedObject"]["namespace"].as_string(), "shop");
  EXPECT_EQ(evs[0]["type"].as_string(), "Warning");
}

TEST(EventRecorder, NeverBlocksTheCaller) {
  // A server that hangs: record() still returns at once; the queue bound drops the excess.
  testing::TestServer slow([](const testing::TestRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return testing::TestResponse{201, "{}"};
  });
  RestConfig c;
  c.server = slow.url();
  auto clock = std::make_shared<VirtualClock>();
  EventRecorder rec(make_rest_client(c, clock), clock, {.max_queue = 5, .spam_burst = 1000});
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) rec.record(kNode, "Normal", "R" + std::to_string(i), "m");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_GE(rec.stats().dropped_queue, 40);
  rec.stop();
}

}  // namespace
}  // namespace nonevent::kube
