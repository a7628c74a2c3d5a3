// Two electors contending for one Lease on a server with real optimistic concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <cpprest/json.h>
#include <thread>

#include "kube/leader_election.h"
#include "support/object_store.h"
#include "support/test_server.h"

namespace nonevent::kube {
namespace {

using std::chrono::seconds;

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
  web::json::value lease() {
    auto j = store.get("/apis/coordination.k8s.io/v1/namespaces/default/leases", "nonevent-operator");
    std::error_code ec;
    return web::json::value::parse(j, ec);
  }
  LeaderElectionConfig config(const std::string& id) {
    LeaderElectionConfig c;
    c.identity = id;
    return c;
  }
};

TEST(LeaderElection, OnlyOneLeadsAndTheOtherTakesOverAfterExpiry) {
  Cluster k;
  LeaderElector a(k.client(), k.config("a"), k.clock), b(k.client(), k.config("b"), k.clock);
  EXPECT_TRUE(a.try_acquire_or_renew());
  EXPECT_FALSE(b.try_acquire_or_renew());
  EXPECT_EQ(k.lease()["spec"]["holderIdentity"].as_string(), "a");
  EXPECT_EQ(k.lease()["spec"]["leaseDurationSeconds"].as_integer(), 15);
  // a keeps renewing every 2 s: b never gets it.
  for (int i = 0; i < 20; ++i) {
    k.clock->advance(seconds(2));
    EXPECT_TRUE(a.try_acquire_or_renew());
    EXPECT_FALSE(b.try_acquire_or_renew());
  }
  // a stops renewing (crashed). 14 s later b still waits: it measures from when *it* saw
  // the last change, not from the lease's renewTime.
  k.clock->advance(seconds(14));
  EXPECT_FALSE(b.try_acquire_or_renew());
  k.clock->advance(seconds(2));
  EXPECT_TRUE(b.try_acquire_or_renew());
  EXPECT_EQ(k.lease()["spec"]["holderIdentity"].as_string(), "b");
  EXPECT_EQ(k.lease()["spec"]["leaseTransitions"].as_integer(), 1);
  EXPECT_FALSE(a.try_acquire_or_renew()) << "a came back: b holds a fresh lease";
}

TEST(LeaderElection, ContendingRunLoopsNeverBothLeadAndReleaseHandsOverAtOnce) {
  Cluster k;
  std::atomic<int> a_started{0}, b_started{0}, a_stopped{0};
  auto ca = k.config("a");
  ca.on_started_leading = [&] { ++a_started; };
  ca.on_stopped_leading = [&] { ++a_stopped; };
  auto cb = k.config("b");
  cb.on_started_leading = [&] { ++b_started; };
  auto a = std::make_unique<LeaderElector>(k.client(), ca, k.clock);
  LeaderElector b(k.client(), cb, k.clock);
  std::thread ta([&] { a->run(); });
  while (!a->is_leader()) std::this_thread::yield();
  std::thread tb([&] { b.run(); });
  std::atomic<bool> both{false}, done{false};
  std::thread ticker([&] {
    // Drive virtual time while sampling: at no instant may both lead.
    for (int i = 0; i < 300 && !done; ++i) {
      if (a->is_leader() && b.is_leader()) both = true;
      k.clock->advance(std::chrono::milliseconds(500));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(a->is_leader());
  EXPECT_FALSE(b.is_leader());
  const auto before_release = k.clock->now();
  a->stop();  // clean shutdown releases the lease
  ta.join();
  EXPECT_EQ(a_stopped.load(), 1);
  // Released: empty, or already taken by b (its loop runs on while the ticker moves time).
  EXPECT_NE(k.lease()["spec"]["holderIdentity"].as_string(), "a");
  while (!b.is_leader()) std::this_thread::yield();
  EXPECT_LT(k.clock->now() - before_release, seconds(15)) << "no need to wait out the lease after a release";
  done = true;
  ticker.join();
  b.stop();
  tb.join();
  EXPECT_FALSE(both.load());
  EXPECT_EQ(a_started.load(), 1);
  EXPECT_EQ(b_started.load(), 1);
}

TEST(LeaderElection, LosesLeadershipWhenRenewalsFailPastTheDeadline) {
  Cluster k;
  std::atomic<int> stopped{0};
  auto c = k.config("a");
  c.on_stopped_leading = [&] { ++stopped; };
  LeaderElector a(k.client(), c, k.clock);
  std::thread t([&] { a.run(); });
  while (!a.is_leader()) std::this_thread::yield();
  // The API server becomes unreachable for the leader.
  k.server.set_handler([](const testing::TestRequest&) {
    return testing::TestResponse{503, testing::status_body(503, "ServiceUnavailable", "down")};
  });
  while (a.is_leader()) {
    k.clock->advance(seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  t.join();
  EXPECT_EQ(stopped.load(), 1);
}

}  // namespace
}  // namespace nonevent::kube
