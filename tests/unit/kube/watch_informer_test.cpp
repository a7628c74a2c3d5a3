// The list-then-watch machine and the informer cache against a real server: chunking,
// bookmarks, 410 relists (with the right deletes), drops and resumes, paging.
#include <gtest/gtest.h>

#include <mutex>

#include "kube/informer.h"
#include "kube/line_splitter.h"
#include "kube/rest_list_watch.h"
#include "model/codecs.h"
#include "model/indexers.h"
#include "support/realistic_objects.h"
#include "support/test_server.h"

namespace nonevent::kube {
namespace {

using model::CodecFor;
using model::Pod;
using testing::PodShape;
using testing::realistic_pod_json;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestServer;
using PodInformer = Informer<Pod, CodecFor<Pod>>;

std::string pod(const std::string& workload, int i, long rv, const std::string& node = "node-a") {
  return realistic_pod_json(PodShape{.workload = workload, .index = i, .node = node, .resource_version = rv});
}
std::string pod_name(const std::string& workload, int i) {
  char idx[16];
  std::snprintf(idx, sizeof idx, "%05x", i);
  return workload + "-7d9f8c6b5-" + idx;
}
std::string pod_list(long rv, std::vector<std::string> items, const std::string& cont = "") {
  std::string joined;
  for (auto& i : items) joined += (joined.empty() ? "" : ",") + i;
  return testing::list_json("PodList", std::to_string(rv), cont, joined);
}

// Records handler calls as "add:<key>", "update:<key>", "delete:<key>".
struct Recorder {
  std::mutex mu;
  std::vector<std::string> calls;
  EventHandler<Pod> handler() {
    return {[this](const Pod& p) { push("add:" + p.meta.name); },
            [this](const Pod&, const Pod& p) { push("update:" + p.meta.name); },
            [this](const Pod& p) { push("delete:" + p.meta.name); }};
  }
  void push(std::string s) {
    std::lock_guard g(mu);
    calls.push_back(std::move(s));
  }
  std::vector<std::string> take() {
    std::lock_guard g(mu);
    auto out = calls;
    calls.clear();
    std::sort(out.begin(), out.end());
    return out;
  }
};

struct Fixture {
  explicit Fixture(testing::TestHandler h) : server(std::move(h)) {
    RestConfig c;
    c.server = server.url();
    c.qps = 0;
    client = make_rest_client(c);
    informer = std::make_unique<PodInformer>(
        std::make_shared<RestListWatch>(client, resources::pods()), real_clock(),
        WatcherOptions{.page_size = 2, .backoff_initial = std::chrono::milliseconds(1)});
    informer->add_index(model::kPodsByNode, model::pod_node_index);
    informer->add_handler(rec.handler());
  }
  std::vector<TestRequest> watches() const {
    std::vector<TestRequest> out;
    for (auto& r : server.requests())
      if (r.query.count("watch")) out.push_back(r);
    return out;
  }
  TestServer server;
  std::shared_ptr<RestClient> client;
  std::unique_ptr<PodInformer> informer;
  Recorder rec;
};

TEST(LineSplitter, SplitsAnywhereAndBoundsBuffering) {
  LineSplitter s(16);
  std::vector<std::string> lines;
  auto on = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  const std::string text = "{\"a\":1}\n{\"b\":\"\xc3\xa9\"}\r\n\n{\"c\":3}\n";
  for (char c : text) ASSERT_TRUE(s.feed(std::string_view(&c, 1), on));  // byte by byte
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":\"\xc3\xa9\"}", "{\"c\":3}"}));
  EXPECT_EQ(s.buffered(), 0u);
  EXPECT_FALSE(s.feed(std::string(17, 'x'), on)) << "a line over the limit is refused";
  EXPECT_TRUE(s.overflowed());
}

TEST(WatchInformer, ListsInPagesThenWatchesEventsSplitMidLine) {
  Fixture f([](const TestRequest& r) {
    if (!r.query.count("watch")) {
      if (!r.query.count("continue")) return TestResponse{200, pod_list(10, {pod("web", 1, 5), pod("web", 2, 6)}, "page2")};
      return TestResponse{200, pod_list(10, {pod("web", 3, 7, "node-b")})};
    }
    EXPECT_EQ(r.query.at("resourceVersion"), "10");
    EXPECT_EQ(r.query.at("allowWatchBookmarks"), "true");
    TestResponse resp;
    resp.stream = [](testing::StreamWriter& w) {
      std::string all = testing::watch_event_json("MODIFIED", pod("web", 1, 11, "node-b")) +
                        testing::watch_event_json("ADDED", pod("web", 4, 12)) +
                        testing::watch_event_json("DELETED", pod("web", 2, 13));
      // Pieces of 1, 2, 3... bytes: every event is cut mid-line, some inside strings.
      size_t pos = 0, n = 1;
      while (pos < all.size()) {
        w.write(all.substr(pos, n));
        pos += n;
        n = n % 97 + 1;
      }
    };
    return resp;
  });
  auto& inf = *f.informer;
  ASSERT_TRUE(inf.step());  // page 1
  EXPECT_FALSE(inf.has_synced()) << "not synced until the last page";
  ASSERT_TRUE(inf.step());  // page 2: swap
  EXPECT_TRUE(inf.has_synced());
  EXPECT_EQ(inf.size(), 3u);
  EXPECT_EQ(f.rec.take(), (std::vector<std::string>{"add:" + pod_name("web", 1), "add:" + pod_name("web", 2),
                                                    "add:" + pod_name("web", 3)}));
  ASSERT_TRUE(inf.step());  // the watch, until the server ends it
  EXPECT_EQ(f.rec.take(), (std::vector<std::string>{"add:" + pod_name("web", 4), "delete:" + pod_name("web", 2),
                                                    "update:" + pod_name("web", 1)}));
  EXPECT_EQ(inf.size(), 3u);
  EXPECT_EQ(inf.last_resource_version(), "13");
  EXPECT_EQ(inf.by_index(model::kPodsByNode, "node-b").size(), 2u);
  EXPECT_EQ(inf.by_index(model::kPodsByNode, "node-a").size(), 1u);
  auto p1 = inf.get("default/" + pod_name("web", 1));
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->node_name.view(), "node-b");
  EXPECT_EQ(p1->spec->cpu_milli, 350);
  EXPECT_TRUE(p1->ready);
}

TEST(WatchInformer, BookmarksAdvanceAndADroppedConnectionResumesFromTheLastVersion) {
  std::atomic<int> watch_calls{0};
  Fixture f([&](const TestRequest& r) {
    if (!r.query.count("watch")) return TestResponse{200, pod_list(10, {pod("web", 1, 5)})};
    TestResponse resp;
    const int n = ++watch_calls;
    resp.stream = [n](testing::StreamWriter& w) {
      if (n == 1) {
        w.write(testing::watch_event_json("ADDED", pod("web", 2, 20)));
        w.write(testing::bookmark_json("Pod", 35));
        w.write("{\"type\":\"MODIFIED\",\"object\":{\"metadata\"");  // half an event, then...
        w.drop();                                                       // ...the connection dies
      }
    };
    return resp;
  });
  auto& inf = *f.informer;
  ASSERT_TRUE(inf.step());  // list
  EXPECT_FALSE(inf.step()) << "a dropped watch is a failure (backoff), not a relist";
  EXPECT_EQ(inf.size(), 2u);
  inf.step();  // re-watch
  auto w = f.watches();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].query.at("resourceVersion"), "10");
  EXPECT_EQ(w[1].query.at("resourceVersion"), "35") << "resumes from the bookmark, not from scratch";
  EXPECT_EQ(inf.relists(), 1) << "no relist after a drop";
}

TEST(WatchInformer, ExpiredEventRelistsAndReportsDeletesForObjectsGoneMeanwhile) {
  std::atomic<int> lists{0};
  Fixture f([&](const TestRequest& r) {
    if (!r.query.count("watch")) {
      // Pages of two, as asked (limit=2).
      EXPECT_EQ(r.query.at("limit"), "2");
      const bool second_page = r.query.count("continue") > 0;
      if (!second_page) ++lists;
      if (lists == 1)
        return second_page ? TestResponse{200, pod_list(10, {pod("web", 3, 7)})}
                           : TestResponse{200, pod_list(10, {pod("web", 1, 5), pod("web", 2, 6)}, "c1")};
      // While we were away: 1 changed, 2 was deleted, 3 unchanged, 4 created.
      return second_page ? TestResponse{200, pod_list(90, {pod("web", 4, 85)})}
                         : TestResponse{200, pod_list(90, {pod("web", 1, 80), pod("web", 3, 7)}, "c2")};
    }
    TestResponse resp;
    resp.stream = [](testing::StreamWriter& w) {
      w.write(R"({"type":"ERROR","object":)" +
              testing::status_body(410, "Expired", "too old resource version: 10 (50)") + "}\n");
    };
    return resp;
  });
  auto& inf = *f.informer;
  ASSERT_TRUE(inf.step());  // page 1 (page size 2)
  ASSERT_TRUE(inf.step());  // page 2
  f.rec.take();
  ASSERT_TRUE(inf.step()) << "410 leads straight to a relist";
  EXPECT_TRUE((std::holds_alternative<Watcher<Pod, CodecFor<Pod>>::Empty>(inf.watcher_state())));
  ASSERT_TRUE(inf.step());
  ASSERT_TRUE(inf.step());
  EXPECT_EQ(f.rec.take(), (std::vector<std::string>{"add:" + pod_name("web", 4), "delete:" + pod_name("web", 2),
                                                    "update:" + pod_name("web", 1)}));
  EXPECT_EQ(inf.size(), 3u);
  EXPECT_EQ(inf.relists(), 2);
  EXPECT_EQ(inf.last_resource_version(), "90");
  EXPECT_FALSE(inf.get("default/" + pod_name("web", 2)));
  EXPECT_NE(inf.last_error().find("410"), std::string::npos) << inf.last_error();
}

TEST(WatchInformer, Http410OnWatchAlsoRelists) {
  std::atomic<int> lists{0};
  Fixture f([&](const TestRequest& r) {
    if (!r.query.count("watch")) return ++lists, TestResponse{200, pod_list(10 * lists, {pod("web", 1, 5)})};
    return TestResponse{410, testing::status_body(410, "Gone", "resourceVersion too old")};
  });
  auto& inf = *f.informer;
  ASSERT_TRUE(inf.step());
  ASSERT_TRUE(inf.step()) << inf.last_error();  // watch → 410 → Empty
  ASSERT_TRUE(inf.step());  // list again
  EXPECT_EQ(lists.load(), 2);
  EXPECT_EQ(inf.relists(), 2);
}

TEST(WatchInformer, ExpiredContinueTokenRestartsTheList) {
  std::atomic<int> calls{0};
  Fixture f([&](const TestRequest& r) {
    const int n = ++calls;
    if (n == 1) return TestResponse{200, pod_list(10, {pod("web", 1, 5), pod("web", 2, 6)}, "tok")};
    if (n == 2) {
      EXPECT_EQ(r.query.at("continue"), "tok");
      return TestResponse{410, testing::status_body(410, "Expired", "The provided continue parameter is too old")};
    }
    EXPECT_EQ(r.query.count("continue"), 0u);
    return TestResponse{200, pod_list(20, {pod("web", 1, 5)})};
  });
  auto& inf = *f.informer;
  ASSERT_TRUE(inf.step());
  EXPECT_FALSE(inf.step());
  ASSERT_TRUE(inf.step());
  EXPECT_TRUE(inf.has_synced());
  EXPECT_EQ(inf.size(), 1u);
}

TEST(WatchInformer, RunsOnItsOwnThreadAndStopsPromptly) {
  Fixture f([](const TestRequest& r) {
    if (!r.query.count("watch")) return TestResponse{200, pod_list(10, {pod("web", 1, 5)})};
    TestResponse resp;
    resp.stream = [](testing::StreamWriter& w) {
      w.write(testing::watch_event_json("ADDED", pod("web", 2, 11)));
      // Hold the watch open like a real server would.
      for (int i = 0; i < 200 && w.write(""); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    };
    return resp;
  });
  f.informer->start();
  ASSERT_TRUE(f.informer->wait_for_sync(std::chrono::seconds(5)));
  for (int i = 0; i < 500 && f.informer->size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(f.informer->size(), 2u);
  const auto t0 = std::chrono::steady_clock::now();
  f.informer->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500)) << "stop cancels the open watch";
}

}  // namespace
}  // namespace nonevent::kube
