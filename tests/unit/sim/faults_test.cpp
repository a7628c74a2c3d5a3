// Our client machinery against the embedded API server under faults, over real HTTP:
// injected errors, dropped watches, compaction, and a server restart that keeps its storage.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "kube/informer.h"
#include "kube/rest_list_watch.h"
#include "model/codecs.h"
#include "sim/api_server.h"
#include "sim/http_server.h"

namespace nonevent::sim {
namespace {

using web::json::value;

TEST(Faults, RulesParseAndNameTheirMistakes) {
  std::string err;
  auto r = parse_fault_rule("verb=patch,resource=pods,code=429,rate=0.25,latency=20ms", err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->verb, "patch");
  EXPECT_EQ(r->code, 429);
  EXPECT_DOUBLE_EQ(r->rate, 0.25);
  EXPECT_EQ(r->latency.count(), 20);
  EXPECT_FALSE(parse_fault_rule("verb=get,code=418", err));
  EXPECT_NE(err.find("code must be"), std::string::npos);
  EXPECT_FALSE(parse_fault_rule("rate=2", err));
  EXPECT_FALSE(parse_fault_rule("colour=red", err));
  EXPECT_NE(err.find("unknown key \"colour\""), std::string::npos);
}

TEST(Faults, InjectedAnswersLookLikeTheRealOnes) {
  auto store = std::make_shared<ObjectStore>();
  ApiServer api(store, kube::real_clock());
  api.faults().set_rules({{"list", "nodes", 429, 1.0}, {"get", "*", 409, 1.0}});
  ApiRequest list{.method = "GET", .path = "/api/v1/nodes"};
  auto r = api.handle(list);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["Retry-After"], "1");
  EXPECT_NE(r.body.find("\"retryAfterSeconds\":1"), std::string::npos);
  ApiRequest get{.method = "GET", .path = "/api/v1/namespaces/default"};
  EXPECT_EQ(api.handle(get).status, 200) << "409 is never injected into reads";
  api.faults().set_rules({{"*", "*", 500, 0.3}});
  int errors = 0;
  for (int i = 0; i < 1000; ++i) errors += api.handle(list).status == 500;
  EXPECT_GT(errors, 230);
  EXPECT_LT(errors, 370);
}

TEST(Faults, InformerConvergesThroughErrorsDropsCompactionAndARestart) {
  auto store = std::make_shared<ObjectStore>(/*history_limit=*/50);
  auto api = std::make_shared<ApiServer>(store, kube::real_clock(), ApiServerOptions{.bookmark_interval = std::chrono::milliseconds(200)});
  auto make_node = [&](int i) {
    value n = value::object();
    n["apiVersion"] = value::string("v1");
    n["kind"] = value::string("Node");
    n["metadata"]["name"] = value::string("n" + std::to_string(i));
    n["metadata"]["labels"]["gen"] = value::string("0");
    EXPECT_LT(api->create_object(n).status, 300);
  };
  for (int i = 0; i < 20; ++i) make_node(i);
  auto server = std::make_unique<HttpServer>(api, HttpServerOptions{});
  const int port = server->port();
  kube::RestConfig cfg;
  cfg.server = server->url();
  cfg.qps = 0;
  cfg.request_timeout = std::chrono::milliseconds(2000);
  auto client = kube::make_rest_client(cfg);
  kube::Informer<model::Node, model::CodecFor<model::Node>> informer(
      std::make_shared<kube::RestListWatch>(client, kube::resources::nodes()), kube::real_clock(),
      kube::WatcherOptions{.page_size = 7, .backoff_initial = std::chrono::milliseconds(5),
                           .backoff_max = std::chrono::milliseconds(50)});
  api->faults().set_rules({{"list", "nodes", 500, 0.3}, {"watch", "nodes", 503, 0.3}});
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(std::chrono::seconds(10)));

  std::set<int> deleted;
  auto label = [&](int i, int gen) {
    if (deleted.count(i)) return;
    ApiRequest p{.method = "PATCH", .path = "/api/v1/nodes/n" + std::to_string(i)};
    p.headers["content-type"] = "application/merge-patch+json";
    p.body = R"({"metadata":{"labels":{"gen":")" + std::to_string(gen) + R"("}}})";
    api->faults().set_rules({});  // the test's own writes are not the subject
    EXPECT_EQ(api->handle(p).status, 200);
    api->faults().set_rules({{"list", "nodes", 500, 0.3}, {"watch", "nodes", 503, 0.3}});
  };
  for (int round = 1; round <= 4; ++round) {
    for (int i = 0; i < 20; i += round) label(i, round);
    if (round == 1) api->drop_watches();
    if (round == 2) {
      // Enough writes to push the watch's version out of the 50-entry history, then compact.
      for (int k = 0; k < 60; ++k) label(k % 20, round);
      store->compact();
    }
    if (round == 3) {
      // Restart: same storage, same port, every connection dropped.
      server->stop();
      server = std::make_unique<HttpServer>(api, HttpServerOptions{.port = port});
    }
    deleted.insert(round);
    ApiRequest del{.method = "DELETE", .path = "/api/v1/nodes/n" + std::to_string(round)};
    api->faults().set_rules({});
    EXPECT_EQ(api->handle(del).status, 200);
    api->faults().set_rules({{"list", "nodes", 500, 0.3}, {"watch", "nodes", 503, 0.3}});
  }
  // The cache converges on exactly what the server holds.
  auto converged = [&] {
    auto truth = store->list({.resource = "/nodes"}, 0, "").value().items;
    if (informer.size() != truth.size()) return false;
    for (const auto& o : truth) {
      auto cached = informer.get(o->name);
      if (!cached || cached->meta.resource_version != std::to_string(o->rv)) return false;
    }
    return true;
  };
  bool ok = false;
  for (int i = 0; i < 1000 && !ok; ++i) {
    ok = converged();
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(ok) << "cache " << informer.size() << " vs store " << store->count("/nodes") << "; last error: " << informer.last_error();
  EXPECT_GE(informer.relists(), 2) << "compaction forced at least one relist";
  EXPECT_GT(api->faults().injected(), 0);
  informer.stop();
}

// `sim serve` once hung on SIGTERM in the soak: stop() wakes each connection's thread by
// shutting its socket down, and a connection could escape that (a thread that registered its
// socket just after stop() looked; a closed socket's number, reused at once by a new
// connection, erased from the set with the old one). Clients here connect and disconnect as
// fast as they can, and every other connection stays open and idle as a keep-alive client's
// does; stop() must still return.
TEST(Faults, StopReturnsWhileClientsChurnAndIdleConnectionsStayOpen) {
  auto api = std::make_shared<ApiServer>(std::make_shared<ObjectStore>(), std::make_shared<kube::VirtualClock>(kube::TimePoint{}),
                                         ApiServerOptions{});
  auto server = std::make_unique<HttpServer>(api, HttpServerOptions{});
  const int port = server->port();
  std::atomic<bool> done{false};
  std::vector<std::thread> clients;
  std::mutex idle_mu;
  std::vector<int> idle;  // closed after stop() returns, as a client would eventually
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; !done; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
          ::close(fd);
          continue;
        }
        const std::string req = "GET /healthz HTTP/1.1\r\nHost: sim\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0 || (i + c) % 2 == 0) {
          ::close(fd);
          continue;
        }
        char buf[512];
        (void)::recv(fd, buf, sizeof buf, 0);
        std::lock_guard g(idle_mu);
        idle.push_back(fd);  // answered, kept open and idle
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto stopped = std::async(std::launch::async, [&] { server->stop(); });
  const bool returned = stopped.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  done = true;
  for (auto& t : clients) t.join();
  {
    std::lock_guard g(idle_mu);
    EXPECT_GT(idle.size(), 0u) << "some connections were left idle";
    for (int fd : idle) ::close(fd);  // lets a hung stop() finish, so the test can end
  }
  EXPECT_TRUE(returned) << "stop() waited on a connection it did not wake";
  stopped.wait();
}

}  // namespace
}  // namespace nonevent::sim
