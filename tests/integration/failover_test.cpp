// A pool of two brokers under steady load, one of them killed for real.

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>

#include <strata/nodes/cli.h>
#include <strata/nodes/client.h>

#include "cluster.h"
#include "tcp_proxy.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

class BrokerPool : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 4);
    cluster.addIdentity("logic-a", 2);
    cluster.addIdentity("logic-b", 2);
    endpointA = cluster.startBroker();
    auto extra = cluster.startExtraBroker("broker-b");
    brokerB = &extra.process;
    endpointB = extra.endpoint;
    for (const char* name : {"logic-a", "logic-b"}) {
      cluster.startNode(name, "echo", {{"strata.brokers", endpointA + "," + endpointB}});
    }
    ASSERT_TRUE(brokerB->waitForLog("worker registered name=", 10s, 2)) << brokerB->log();
  }

  nodes::ClientOptions poolClient() {
    auto options = cluster.clientOptions("front");
    options.endpoints = {endpointA, endpointB};
    options.pingInterval = 200ms;
    options.liveness = 3;
    return options;
  }

  Cluster cluster;
  std::string endpointA;
  std::string endpointB;
  Process* brokerB = nullptr;
};

TEST_F(BrokerPool, SpreadsRequestsOverBothBrokers) {
  nodes::Client client(poolClient());
  nodes::OutgoingRequest request{"echo", {"x"}, {}, 5s, {}};
  auto summary = nodes::runLoad(client, request, 2000, 50);
  ASSERT_EQ(summary.ok, 2000u) << summary.firstError;
  // Each broker saw a share: its own stats count the requests it routed.
  for (auto* log : {&cluster.broker(), brokerB}) {
    log->signal(SIGTERM);
    ASSERT_TRUE(log->wait(10s).has_value());
    auto text = log->log();
    auto pos = text.find("broker stopped: ");
    ASSERT_NE(pos, std::string::npos) << text;
    auto requests = std::stoull(text.substr(pos + 16));
    EXPECT_GE(requests, 500u) << text.substr(pos);
  }
}

TEST_F(BrokerPool, LosesNoRequestWhenABrokerIsKilledUnderLoad) {
  constexpr std::uint64_t kRequests = 20000;
  constexpr std::uint64_t kKillAfter = 4000;
  constexpr std::uint64_t kWindow = 50;
  nodes::Client client(poolClient());
  std::mutex mutex;
  std::condition_variable done;
  std::uint64_t sent = 0;
  std::uint64_t ok = 0;
  std::uint64_t answered = 0;
  std::string firstError;
  auto lastAnswer = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration longestStall{};
  std::function<void()> sendOne = [&] {
    ++sent;
    client.callAsync(nodes::OutgoingRequest{"echo", {"x"}, {}, 20s, {}}, [&](nodes::Response&& r) {
      std::lock_guard lock(mutex);
      auto now = std::chrono::steady_clock::now();
      longestStall = std::max(longestStall, now - lastAnswer);
      lastAnswer = now;
      ++answered;
      if (r.ok) {
        ++ok;
      } else if (firstError.empty()) {
        firstError = r.errorText;
      }
      if (answered == kKillAfter) cluster.broker().signal(SIGKILL);
      if (sent < kRequests) sendOne();
      if (answered == kRequests) done.notify_all();
    });
  };
  {
    std::lock_guard lock(mutex);
    for (std::uint64_t i = 0; i < kWindow; ++i) sendOne();
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, 60s, [&] { return answered == kRequests; })) << answered << " answered";
  EXPECT_EQ(ok, kRequests) << firstError;
  EXPECT_FALSE(cluster.broker().running());
  EXPECT_GT(client.resent(), 0u);
  // The client notices the silent broker within ping * liveness (600 ms here) and resends.
  EXPECT_LT(longestStall, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(longestStall).count()
                              << " ms";
}

TEST_F(BrokerPool, CarriesLoadAgainWithinFiveSecondsOfARestart) {
  nodes::Client client(poolClient());
  nodes::OutgoingRequest request{"echo", {"x"}, {}, 10s, {}};
  ASSERT_EQ(nodes::runLoad(client, request, 500, 20).ok, 500u);
  cluster.broker().signal(SIGKILL);
  ASSERT_TRUE(cluster.broker().wait(10s).has_value());
  auto restarted = std::chrono::steady_clock::now();
  cluster.startBroker({{"strata.broker.bind", endpointA}});
  // Both workers register with it again, and the client's pings find it alive.
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=", 5s, 2)) << cluster.broker().log();
  auto summary = nodes::runLoad(client, request, 2000, 20);
  EXPECT_EQ(summary.ok, 2000u) << summary.firstError;
  EXPECT_LT(std::chrono::steady_clock::now() - restarted, 5s + 2s);  // registration plus the load itself
  cluster.broker().signal(SIGTERM);
  ASSERT_TRUE(cluster.broker().wait(10s).has_value());
  auto text = cluster.broker().log();
  auto pos = text.find("broker stopped: ");
  ASSERT_NE(pos, std::string::npos) << text;
  EXPECT_GE(std::stoull(text.substr(pos + 16)), 400u) << text.substr(pos);  // its share of the 2,000
}

TEST(RetryPolicy, ResendsAStuckAttemptToTheNextBroker) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("front", 4);
  cluster.addIdentity("logic-a", 2);
  cluster.addIdentity("logic-b", 2);
  // Broker A takes 20 s to give up on a silent worker, so its requests stay stuck there.
  auto endpointA = cluster.startBroker({{"strata.heartbeat_liveness", "100"}});
  auto [brokerB, endpointB] = cluster.startExtraBroker("broker-b");
  auto& stuck = cluster.startNode("logic-a", "echo", {{"strata.brokers", endpointA}});
  cluster.startProcess(nodeBinary(),
                       {"--config", cluster.writeConfig("b-node.properties",
                                                        {{"strata.brokers", endpointB},
                                                         {"strata.key", cluster.keyFile("logic-b").string()},
                                                         {"strata.broker_key", cluster.pubFile("broker").string()},
                                                         {"strata.services", "echo"},
                                                         {"strata.node.name", "logic-b"}})
                                        .string()},
                       "logic-b.log");
  ASSERT_TRUE(brokerB.waitForLog("worker registered name=logic-b ", 10s));
  stuck.signal(SIGSTOP);

  auto options = cluster.clientOptions("front");
  options.endpoints = {endpointA, endpointB};
  options.attemptTimeout = 300ms;
  nodes::Client client(options);
  auto started = std::chrono::steady_clock::now();
  auto summary = nodes::runLoad(client, nodes::OutgoingRequest{"echo", {"x"}, {}, 10s, {}}, 20, 20);
  stuck.signal(SIGCONT);
  EXPECT_EQ(summary.ok, 20u) << summary.firstError;
  EXPECT_EQ(summary.byWorker["logic-b"], 20u);
  EXPECT_GT(client.resent(), 0u);
  // Without the attempt timeout the stuck half would wait out its 10 s deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(BrokerPartition, WorkerCutOffFromOneBrokerServesThroughTheOtherAndComesBack) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("front", 4);
  cluster.addIdentity("logic-a", 2);
  auto endpointA = cluster.startBroker();
  auto [brokerB, endpointB] = cluster.startExtraBroker("broker-b");
  TcpProxy toA(endpointA);
  cluster.startNode("logic-a", "echo", {{"strata.brokers", toA.endpoint() + "," + endpointB}});
  ASSERT_TRUE(brokerB.waitForLog("worker registered name=logic-a ", 10s));

  toA.blackHole(true);
  ASSERT_TRUE(cluster.broker().waitForLog("worker removed name=logic-a reason=\"heartbeats stopped", 10s)) << cluster.broker().log();
  auto viaB = cluster.clientOptions("front");
  viaB.endpoints = {endpointB};
  nodes::Client clientB(viaB);
  nodes::OutgoingRequest request{"echo", {"x"}, {}, 5s, {}};
  auto duringCut = nodes::runLoad(clientB, request, 200, 10);
  EXPECT_EQ(duringCut.ok, 200u) << duringCut.firstError;
  EXPECT_EQ(duringCut.byWorker["logic-a"], 200u);
  // A client of the whole pool is served too: the broker without the worker says so, and
  // the client asks the other.
  auto pool = cluster.clientOptions("front");
  pool.endpoints = {endpointA, endpointB};
  nodes::Client poolClient(pool);
  auto poolDuringCut = nodes::runLoad(poolClient, request, 200, 10);
  EXPECT_EQ(poolDuringCut.ok, 200u) << poolDuringCut.firstError;

  toA.blackHole(false);
  // The worker's link to A reconnects and registers again.
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=logic-a ", 15s, 2)) << cluster.broker().log();
  nodes::Client clientA(cluster.clientOptions("front"));
  auto afterHeal = nodes::runLoad(clientA, request, 200, 10);
  EXPECT_EQ(afterHeal.ok, 200u) << afterHeal.firstError;
}

}  // namespace
}  // namespace strata::test
