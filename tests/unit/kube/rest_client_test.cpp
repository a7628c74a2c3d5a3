// REST verbs, the Status → ApiError mapping and what each error tells the caller to do,
// paging, Retry-After and keep-alive, against a real server.
#include <gtest/gtest.h>

#include <atomic>

#include "kube/rest_client.h"
#include "support/test_server.h"

namespace nonevent::kube {
namespace {

using testing::status_body;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestServer;

std::shared_ptr<RestClient> client_for(const TestServer& s, std::shared_ptr<Clock> clock = real_clock()) {
  RestConfig c;
  c.server = s.url();
  c.qps = 0;  // unlimited unless a test sets it
  return make_rest_client(c, std::move(clock));
}

struct Case {
  int code;
  std::string reason;
  std::string headers_retry_after;
  std::string details;
  ErrorAction action;
};

TEST(RestClient, StatusMapping) {
  const std::vector<Case> cases = {
      {404, "NotFound", "", "", ErrorAction::kNotFound},
      {409, "Conflict", "", "", ErrorAction::kRedo},
      {410, "Expired", "", "", ErrorAction::kRelist},
      {422, "Invalid", "", R"({"causes":[{"reason":"FieldValueInvalid","message":"must be positive","field":"spec.replicas"}]})", ErrorAction::kGiveUp},
      {429, "TooManyRequests", "", R"({"causes":[{"reason":"DisruptionBudget","message":"The disruption budget web needs 2 healthy pods"}]})", ErrorAction::kRetry},
      {429, "TooManyRequests", "3", R"({"retryAfterSeconds":3})", ErrorAction::kRetry},
      {500, "InternalError", "", "", ErrorAction::kRetry},
  };
  for (const auto& c : cases) {
    TestServer server([&](const TestRequest&) {
      TestResponse r{c.code, status_body(c.code, c.reason, "message for " + std::to_string(c.code), c.details)};
      if (!c.headers_retry_after.empty()) r.headers["Retry-After"] = c.headers_retry_after;
      return r;
    });
    // POST: not retried on Retry-After (not a safe request), so the error surfaces.
    auto r = client_for(server)->create(resources::pods(), "default", "{}");
    ASSERT_FALSE(r.ok());
    const auto& e = r.error();
    EXPECT_EQ(e.code, c.code);
    EXPECT_EQ(e.reason, c.reason);
    EXPECT_EQ(e.message, "message for " + std::to_string(c.code));
    EXPECT_EQ(e.action(), c.action) << c.code;
    if (c.code == 422) {
      ASSERT_EQ(e.causes.size(), 1u);
      EXPECT_EQ(e.causes[0].field, "spec.replicas");
    }
    if (c.code == 429 && c.headers_retry_after.empty()) {
      EXPECT_TRUE(e.has_cause("DisruptionBudget"));
      EXPECT_FALSE(e.retry_after.has_value());
    }
    if (!c.headers_retry_after.empty()) {
      ASSERT_TRUE(e.retry_after.has_value());
      EXPECT_EQ(e.retry_after->count(), 3);
    }
  }
}

TEST(RestClient, NonStatusErrorBodyStillClassified) {
  TestServer server([](const TestRequest&) { return TestResponse{503, "upstream connect error", "text/plain"}; });
  auto r = client_for(server)->create(resources::pods(), "default", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 503);
  EXPECT_EQ(r.error().reason, "ServiceUnavailable");
  EXPECT_EQ(r.error().action(), ErrorAction::kRetry);
}

TEST(RestClient, ConnectionRefusedIsARetryableTransportError) {
  RestConfig c;
  c.server = "http://127.0.0.1:1";
  auto r = make_rest_client(c)->get(resources::nodes(), "", "n1");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is_transport());
  EXPECT_EQ(r.error().action(), ErrorAction::kRetry);
  EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
}

TEST(RestClient, SafeRequestsHonourRetryAfter) {
  std::atomic<int> calls{0};
  TestServer server([&](const TestRequest&) {
    if (++calls <= 2) {
      TestResponse r{429, status_body(429, "TooManyRequests", "slow down")};
      r.headers["Retry-After"] = "7";
      return r;
    }
    return TestResponse{200, R"({"kind":"Node","metadata":{"name":"n1"}})"};
  });
  // The transport waits on its clock: a helper thread moves the virtual clock exactly to the
  // waiter's deadline, so the elapsed virtual time is the sum of the waits the client chose
  // (stepping a second at a time raced with the waiter leaving and overshot on a busy CI box).
  auto clock = std::make_shared<VirtualClock>();
  const auto start = clock->now();
  std::atomic<bool> done{false};
  std::thread ticker([&] {
    while (!done) {
      if (auto deadline = clock->next_deadline(); deadline && *deadline > clock->now())
        clock->set(*deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto r = client_for(server, clock)->get(resources::nodes(), "", "n1");
  done = true;
  ticker.join();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(calls.load(), 3);
  // Two waits of the server's 7 s.
  EXPECT_GE(clock->now() - start, std::chrono::seconds(14));
  EXPECT_LE(clock->now() - start, std::chrono::seconds(14));
}

TEST(RestClient, PagingWithLimitAndContinue) {
  TestServer server([](const TestRequest& r) {
    const std::string cont = r.query.count("continue") ? r.query.at("continue") : "";
    EXPECT_EQ(r.query.at("limit"), "2");
    EXPECT_EQ(r.query.at("labelSelector"), "app=web,tier in (a,b)");
    if (cont.empty())
      return TestResponse{200, R"({"kind":"PodList","metadata":{"resourceVersion":"10","continue":"tok/1"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})"};
    EXPECT_EQ(cont, "tok/1");
    return TestResponse{200, R"({"kind":"PodList","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"c"}}]})"};
  });
  auto client = client_for(server);
  ListOptions o;
  o.limit = 2;
  o.label_selector = "app=web,tier in (a,b)";
  auto p1 = client->list(resources::pods(), "default", o);
  ASSERT_TRUE(p1.ok());
  EXPECT_NE(p1.value().find("\"continue\":\"tok/1\""), std::string::npos);
  o.continue_token = "tok/1";
  auto p2 = client->list(resources::pods(), "default", o);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].path, "/api/v1/namespaces/default/pods");
}

TEST(RestClient, VerbsPathsAndMediaTypes) {
  TestServer server([](const TestRequest& r) {
    if (r.method == "POST" && r.path.size() > 9 && r.path.substr(r.path.size() - 9) == "/eviction")
      return TestResponse{201, status_body(201, "", "")};
    return TestResponse{200, R"({"kind":"Status","status":"Success"})"};
  });
  auto c = client_for(server);
  ASSERT_TRUE(c->patch(resources::nodes(), "", "n1", PatchType::kStrategicMerge, R"({"spec":{"unschedulable":true}})").ok());
  ASSERT_TRUE(c->patch(resources::maintenance_windows(), "", "w", PatchType::kMerge, R"({"status":{}})", "status").ok());
  ASSERT_TRUE(c->patch(resources::pods(), "ns", "p", PatchType::kJson, R"([{"op":"remove","path":"/metadata/labels/x"}])").ok());
  ASSERT_TRUE(c->patch(resources::deployments(), "ns", "d", PatchType::kApply, "{}", "", {.field_manager = "nonevent", .force = true}).ok());
  DeleteOptions del;
  del.propagation_policy = "Foreground";
  del.precondition_uid = "uid-1";
  del.grace_period_seconds = 0;
  ASSERT_TRUE(c->remove(resources::replica_sets(), "ns", "rs", del).ok());
  ASSERT_TRUE(c->evict("ns", "p", {.grace_period_seconds = 30}).ok());
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[0].path, "/api/v1/nodes/n1");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(reqs[1].path, "/apis/nonevent.dev/v1alpha1/maintenancewindows/w/status");
  EXPECT_EQ(reqs[1].headers.at("content-type"), "application/merge-patch+json");
  EXPECT_EQ(reqs[2].headers.at("content-type"), "application/json-patch+json");
  EXPECT_EQ(reqs[3].headers.at("content-type"), "application/apply-patch+yaml");
  EXPECT_EQ(reqs[3].query.at("fieldManager"), "nonevent");
  EXPECT_EQ(reqs[3].query.at("force"), "true");
  EXPECT_EQ(reqs[4].method, "DELETE");
  EXPECT_EQ(reqs[4].path, "/apis/apps/v1/namespaces/ns/replicasets/rs");
  EXPECT_NE(reqs[4].body.find(R"("propagationPolicy":"Foreground")"), std::string::npos) << reqs[4].body;
  EXPECT_NE(reqs[4].body.find(R"("preconditions":{"uid":"uid-1"})"), std::string::npos) << reqs[4].body;
  EXPECT_EQ(reqs[5].path, "/api/v1/namespaces/ns/pods/p/eviction");
  EXPECT_NE(reqs[5].body.find(R"("kind":"Eviction")"), std::string::npos);
  EXPECT_NE(reqs[5].body.find(R"("apiVersion":"policy/v1")"), std::string::npos);
  EXPECT_NE(reqs[5].body.find(R"("gracePeriodSeconds":30)"), std::string::npos);
}

TEST(RestClient, KeepAliveReusesOneConnection) {
  TestServer server([](const TestRequest&) { return TestResponse{200, "{}"}; });
  auto c = client_for(server);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c->get(resources::nodes(), "", "n").ok());
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(c->transport().stats().connections_opened.load(), 1);
}

TEST(RestClient, StaleKeepAliveConnectionIsReplacedForSafeRequests) {
  TestServer server([](const TestRequest&) { return TestResponse{200, "{}"}; });
  auto c = client_for(server);
  ASSERT_TRUE(c->get(resources::nodes(), "", "n").ok());
  // The server closes idle connections after answering ("Connection: close" next time).
  server.set_handler([](const TestRequest&) {
    TestResponse r{200, "{}"};
    r.close = true;
    return r;
  });
  ASSERT_TRUE(c->get(resources::nodes(), "", "n").ok());
  ASSERT_TRUE(c->get(resources::nodes(), "", "n").ok()) << "the closed connection is not reused";
  EXPECT_EQ(server.connections(), 2);
}

TEST(RestClient, ClientSideRateLimit) {
  TestServer server([](const TestRequest&) { return TestResponse{200, "{}"}; });
  RestConfig cfg;
  cfg.server = server.url();
  cfg.qps = 5;
  cfg.burst = 2;
  auto clock = std::make_shared<VirtualClock>();
  auto c = make_rest_client(cfg, clock);
  std::atomic<int> sent{0};
  std::thread t([&] {
    for (int i = 0; i < 4; ++i) {
      c->get(resources::nodes(), "", "n");
      ++sent;
    }
  });
  // Burst of 2 goes at once; the 3rd and 4th each wait 200 ms of (virtual) time.
  while (sent < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(sent.load(), 2);
  clock->advance(std::chrono::milliseconds(200));
  while (sent < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  clock->advance(std::chrono::milliseconds(200));
  t.join();
  EXPECT_EQ(sent.load(), 4);
}

TEST(RestClient, TimeoutOnEveryOperation) {
  TestServer server([](const TestRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return TestResponse{200, "{}"};
  });
  RestConfig cfg;
  cfg.server = server.url();
  cfg.request_timeout = std::chrono::milliseconds(100);
  auto r = make_rest_client(cfg)->get(resources::nodes(), "", "n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace nonevent::kube
