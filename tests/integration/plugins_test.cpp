// Plug-ins in a running strata-node, as a new user would configure them: served through
// a real broker, layer-3 modules kept in process, failures reported without taking the
// other plug-ins down.

#include <gtest/gtest.h>

#include <mutex>
#include <regex>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

class Plugins : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 4);
    cluster.addIdentity("orders", 2);
    cluster.startBroker();
  }
  std::map<std::string, std::string> ordersConfig() const {
    return {{"strata.plugins", "pricing, orders"},
            {"strata.plugin.pricing.layer", "3"},
            {"strata.plugin.pricing.discount_percent", "10"},
            {"strata.data_dir", (cluster.dir() / "data").string()}};
  }
  Cluster cluster;
};

TEST_F(Plugins, APluginServiceAnswersThroughTheBrokerAndItsModuleInProcess) {
  auto& node = cluster.startNode("orders", "", ordersConfig());
  EXPECT_TRUE(node.waitForLog("plug-in pricing 1.0.0 loaded", 5s));
  EXPECT_NE(node.log().find("as a layer-3 module (in process only)"), std::string::npos) << node.log();
  EXPECT_NE(node.log().find("serving orders.place, pricing.quote (in process)"), std::string::npos) << node.log();

  nodes::Client client(cluster.clientOptions("front"));
  auto placed = client.call("orders.place", "apple 10\nplum 4\n", 5s);
  ASSERT_TRUE(placed.ok) << placed.errorText;
  EXPECT_EQ(placed.bodyText(), "total 513");  // (450 + 120) less 10 %
  EXPECT_EQ(nodes::findHeader(placed.headers, "strata-worker"), "orders");

  // The module is not on the bus: the broker has never heard of it.
  auto direct = client.call("pricing.quote", "apple 1", 5s);
  EXPECT_FALSE(direct.ok);
  EXPECT_EQ(direct.errorCode, nodes::ErrorCode::kUnknownService) << direct.errorText;
}

TEST_F(Plugins, TheNodesMetricsCountEachPluginsCalls) {
  auto config = ordersConfig();
  config["strata.admin.bind"] = "127.0.0.1:0";
  auto& node = cluster.startNode("orders", "", config);
  nodes::Client client(cluster.clientOptions("front"));
  constexpr int kOrders = 3;
  for (int i = 0; i < kOrders; ++i) ASSERT_TRUE(client.call("orders.place", "apple 1\n", 5s).ok);
  auto url = adminUrlOf(node);
  ASSERT_FALSE(url.empty()) << node.log();
  auto metrics = runProgram("/usr/bin/curl", {"-sS", "--max-time", "5", url + "/metrics"}).out;
  // Each order asks the pricing module once; the module itself calls nothing.
  EXPECT_NE(metrics.find("strata_plugin_calls_total{plugin=\"orders\"} " + std::to_string(kOrders) + "\n"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("strata_plugin_calls_total{plugin=\"pricing\"} 0\n"), std::string::npos) << metrics;
}

TEST_F(Plugins, APluginPublishesToTheBusAndToAModuleOfItsOwnProcessOnce) {
  auto& node = cluster.startNode("orders", "", ordersConfig());
  nodes::Client client(cluster.clientOptions("front"));
  std::mutex mutex;
  std::vector<nodes::Event> heard;
  auto subscription = client.subscribe({"orders.placed"}, [&](const nodes::Event& e) {
    std::lock_guard lock(mutex);
    heard.push_back(e);
  });
  ASSERT_TRUE(client.call("orders.place", "apple 10\nplum 4\n", 5s).ok);
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard lock(mutex);
        return !heard.empty();
      },
      10s));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(heard[0].body, "total 513");
    EXPECT_EQ(heard[0].publisher.name, "orders");
    EXPECT_EQ(heard[0].publisher.layer, 2);
    EXPECT_EQ(nodes::findHeader(heard[0].headers, "lines"), "2");
  }
  // The layer-3 module heard it in process; the brokers' copy of its own node's event
  // was dropped, so it heard it once. A second order shows the first was not late.
  ASSERT_TRUE(node.waitForLog("pricing heard of an order from orders: total 513", 5s)) << node.log();
  ASSERT_TRUE(client.call("orders.place", "pear 1\n", 5s).ok);
  ASSERT_TRUE(node.waitForLog("pricing heard of an order from orders: total 54", 5s)) << node.log();
  EXPECT_EQ(countOf(node.log(), "pricing heard of an order from orders: total 513"), 1u) << node.log();
}

TEST_F(Plugins, AFailingPluginIsReportedAndTheOthersServe) {
  auto config = ordersConfig();
  config["strata.plugins"] = "pricing, greeter, orders";
  config["strata.plugin.greeter.greting"] = "typo";
  auto& node = cluster.startNode("orders", "echo", config);
  EXPECT_NE(node.log().find("unknown key strata.plugin.greeter.greting (it reads: greeting); the node goes on "
                            "without it"),
            std::string::npos)
      << node.log();
  nodes::Client client(cluster.clientOptions("front"));
  EXPECT_TRUE(client.call("orders.place", "pear 1", 5s).ok);
  EXPECT_TRUE(client.call("echo", "still here", 5s).ok);
  auto greet = client.call("greet", "x", 5s);
  EXPECT_EQ(greet.errorCode, nodes::ErrorCode::kUnknownService);
  EXPECT_TRUE(node.running());
}

TEST_F(Plugins, ANodeWithNothingLeftToRunExitsWithAConfigError) {
  auto config = cluster.writeConfig("lonely.properties", {{"strata.brokers", cluster.brokerEndpoint()},
                                                          {"strata.key", cluster.keyFile("orders").string()},
                                                          {"strata.broker_key", cluster.pubFile("broker").string()},
                                                          {"strata.plugins", "nosuch"},
                                                          {"strata.data_dir", (cluster.dir() / "data").string()}});
  auto r = runProgram(nodeBinary(), {"--config", config.string()}, "", 20s);
  EXPECT_EQ(r.exitCode, 78) << r.out << r.err;
  auto all = r.out + r.err;
  EXPECT_NE(all.find("plug-in 'nosuch'"), std::string::npos) << all;
  EXPECT_NE(all.find("no such file"), std::string::npos) << all;
  EXPECT_NE(all.find("no service to run"), std::string::npos) << all;
}

TEST_F(Plugins, SettingsForAPluginNotLoadedAreRefused) {
  auto config = cluster.writeConfig("typo.properties", {{"strata.brokers", cluster.brokerEndpoint()},
                                                        {"strata.key", cluster.keyFile("orders").string()},
                                                        {"strata.broker_key", cluster.pubFile("broker").string()},
                                                        {"strata.services", "echo"},
                                                        {"strata.plugin.ordres.anything", "1"}});
  auto r = runProgram(nodeBinary(), {"--config", config.string()}, "", 20s);
  EXPECT_EQ(r.exitCode, 78) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("configures plug-in 'ordres', which strata.plugins does not list"), std::string::npos)
      << r.out << r.err;
}

}  // namespace
}  // namespace strata::test
