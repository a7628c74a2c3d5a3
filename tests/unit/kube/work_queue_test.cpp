// client-go work queue semantics, including under concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "kube/work_queue.h"

namespace nonevent::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WorkQueue, DeduplicatesKeysWaitingToBeProcessed) {
  WorkQueue q(std::make_shared<VirtualClock>());
  q.add("a");
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(*q.get(), "a");
  EXPECT_EQ(*q.get(), "b");
}

TEST(WorkQueue, AKeyReAddedWhileProcessingRunsOnceMoreAfterDone) {
  WorkQueue q(std::make_shared<VirtualClock>());
  q.add("a");
  auto k = q.get();
  ASSERT_EQ(*k, "a");
  q.add("a");
  q.add("a");
  EXPECT_EQ(q.len(), 0u) << "not handed out while it is being processed";
  q.done("a");
  EXPECT_EQ(q.len(), 1u) << "processed once more";
  EXPECT_EQ(*q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, NeverProcessesAKeyTwiceAtOnceUnderConcurrency) {
  auto clock = std::make_shared<VirtualClock>();
  WorkQueue q(clock);
  constexpr int kKeys = 20, kWorkers = 4, kAdds = 20000;
  std::array<std::atomic<int>, kKeys> in_flight{};
  std::array<std::atomic<long>, kKeys> processed{};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        const int k = std::stoi(*key);
        if (in_flight[k].fetch_add(1) != 0) ++overlaps;
        std::this_thread::yield();
        in_flight[k].fetch_sub(1);
        ++processed[k];
        q.done(*key);
      }
    });
  }
  std::mt19937 rng(42);
  for (int i = 0; i < kAdds; ++i) q.add(std::to_string(rng() % kKeys));
  // After the last add, every key must still be processed at least once more.
  for (auto& p : processed) p = 0;
  for (int k = 0; k < kKeys; ++k) q.add(std::to_string(k));
  while (q.len() > 0) std::this_thread::yield();
  q.shutdown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(overlaps.load(), 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_GE(processed[k].load(), 1) << k;
}

TEST(WorkQueue, DelayedAddsFollowTheClockAndKeepTheEarliestTime) {
  auto clock = std::make_shared<VirtualClock>();
  WorkQueue q(clock);
  q.add_after("a", seconds(10));
  q.add_after("a", seconds(30));  // later: ignored
  q.add_after("b", seconds(5));
  EXPECT_EQ(q.waiting(), 2u);
  EXPECT_FALSE(q.get_until(clock->now()));
  clock->advance(seconds(5));
  EXPECT_EQ(*q.get_until(clock->now()), "b");
  q.done("b");
  clock->advance(seconds(4));
  EXPECT_FALSE(q.get_until(clock->now()));
  clock->advance(seconds(1));
  EXPECT_EQ(*q.get_until(clock->now()), "a");
  q.done("a");
  clock->advance(seconds(60));
  EXPECT_FALSE(q.get_until(clock->now())) << "the later duplicate was dropped";
}

TEST(WorkQueue, BlockingGetWakesWhenVirtualTimeReachesADelayedKey) {
  auto clock = std::make_shared<VirtualClock>();
  WorkQueue q(clock);
  q.add_after("later", seconds(60));
  std::optional<std::string> got;
  std::thread t([&] { got = q.get(); });
  while (clock->waiters() == 0) std::this_thread::yield();
  EXPECT_FALSE(got);
  clock->advance(seconds(60));
  t.join();
  EXPECT_EQ(*got, "later");
}

TEST(WorkQueue, PerItemExponentialBackoffAndForget) {
  auto clock = std::make_shared<VirtualClock>();
  WorkQueue q(clock, {.overall_qps = 0});
  std::vector<long> delays;
  for (int i = 0; i < 5; ++i) {
    delays.push_back(std::chrono::duration_cast<milliseconds>(q.next_backoff("k")).count());
    q.add_rate_limited("k");
  }
  EXPECT_EQ(delays, (std::vector<long>{5, 10, 20, 40, 80}));
  EXPECT_EQ(q.num_requeues("k"), 5);
  for (int i = 0; i < 30; ++i) q.add_rate_limited("k");
  EXPECT_EQ(q.next_backoff("k"), seconds(1000)) << "capped at 1000 s";
  q.forget("k");
  EXPECT_EQ(q.next_backoff("k"), milliseconds(5));
  EXPECT_EQ(q.num_requeues("k"), 0);
}

TEST(WorkQueue, OverallBucketLimitsRetriesAcrossKeys) {
  auto clock = std::make_shared<VirtualClock>();
  WorkQueue q(clock);  // 10 qps, burst 100
  for (int i = 0; i < 100; ++i) q.add_rate_limited("k" + std::to_string(i));
  q.add_rate_limited("k100");  // the 101st waits for the bucket: 100 ms, more than its 5 ms
  clock->advance(milliseconds(5));
  int ready = 0;
  while (auto k = q.get_until(clock->now())) {
    ++ready;
    q.done(*k);
  }
  EXPECT_EQ(ready, 100);
  clock->advance(milliseconds(95));
  EXPECT_EQ(*q.get_until(clock->now()), "k100");
}

TEST(WorkQueue, ShutdownDrainsThenStops) {
  auto clock = std::make_shared<VirtualClock>();
  WorkQueue q(clock);
  q.add("a");
  q.add_after("b", seconds(1));
  q.shutdown();
  q.add("c");
  EXPECT_EQ(*q.get(), "a");
  EXPECT_FALSE(q.get()) << "delayed and late keys are dropped at shutdown";
  EXPECT_TRUE(q.shutting_down());
}

TEST(WorkQueue, ShutdownWakesBlockedWorkers) {
  WorkQueue q(real_clock());
  std::thread t([&] { EXPECT_FALSE(q.get()); });
  std::this_thread::sleep_for(milliseconds(20));
  q.shutdown();
  t.join();
}

TEST(WorkQueue, MetricsHooks) {
  std::atomic<int> adds{0}, retries{0};
  std::atomic<size_t> depth{0};
  WorkQueue q(std::make_shared<VirtualClock>(), {},
              {.on_depth = [&](size_t d) { depth = d; }, .on_add = [&] { ++adds; }, .on_retry = [&] { ++retries; }});
  q.add("a");
  q.add("b");
  EXPECT_EQ(depth.load(), 2u);
  q.get();
  EXPECT_EQ(depth.load(), 1u);
  q.add_rate_limited("a");
  EXPECT_EQ(adds.load(), 2);
  EXPECT_EQ(retries.load(), 1);
}

}  // namespace
}  // namespace nonevent::kube
