// `strata status` and `--version` as an operator runs them: a pool of two real brokers,
// one of them killed, read back as text, as JSON and redrawn with --watch.
#include <gtest/gtest.h>

#include <signal.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <regex>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

class Status : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("w1", 2);
    cluster.addIdentity("front", 4);
    cluster.startBroker();
    cluster.startNode("w1", "echo");
    auto other = cluster.startExtraBroker("broker-b");
    second = &other.process;
    poolConfig = cluster.writeConfig("pool.properties",
                                     {{"strata.brokers", cluster.brokerEndpoint() + "," + other.endpoint},
                                      {"strata.key", cluster.keyFile("front").string()},
                                      {"strata.broker_key", cluster.pubFile("broker").string()}});
    secondEndpoint = other.endpoint;
  }

  RunResult status(std::vector<std::string> extra) {
    std::vector<std::string> args{"status", "--config", poolConfig.string(), "--timeout", "1000",
                                  "--interval", "300"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runProgram(cliBinary(), args, "", 30s);
  }

  Cluster cluster;
  Process* second = nullptr;
  std::filesystem::path poolConfig;
  std::string secondEndpoint;
};

TEST_F(Status, ShowsEveryBrokerOfThePoolAndOneThatIsGone) {
  auto both = status({"--json"});
  ASSERT_EQ(both.exitCode, 0) << both.err;
  auto root = Poco::JSON::Parser().parse(both.out).extract<Poco::JSON::Object::Ptr>();
  auto brokers = root->getArray("brokers");
  ASSERT_EQ(brokers->size(), 2u);
  auto first = brokers->getObject(0);
  EXPECT_TRUE(first->getValue<bool>("reachable"));
  EXPECT_EQ(first->getObject("stats")->getValue<int>("workers"), 1);
  EXPECT_GE(first->getObject("stats")->getValue<int>("connections"), 2);  // the node's and this tool's
  EXPECT_GT(first->getObject("stats")->getValue<int>("uptime_ms"), 0);
  EXPECT_EQ(first->getArray("services")->getObject(0)->getValue<std::string>("name"), "echo");
  EXPECT_TRUE(first->has("requests_per_s"));
  EXPECT_TRUE(brokers->getObject(1)->getValue<bool>("reachable"));

  second->signal(SIGKILL);
  ASSERT_TRUE(second->wait(10s).has_value());
  auto one = status({});
  EXPECT_EQ(one.exitCode, 0) << one.err;  // the pool still serves
  EXPECT_NE(one.out.find("BROKER"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find(secondEndpoint + " "), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("UNREACHABLE"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("echo"), std::string::npos) << one.out;
  EXPECT_EQ(countOf(one.out, " up "), 1u) << one.out;
}

TEST_F(Status, WatchRedrawsUntilItsCount) {
  auto watched = status({"--watch", "--count", "3"});
  ASSERT_EQ(watched.exitCode, 0) << watched.err;
  EXPECT_EQ(countOf(watched.out, "BROKER "), 3u) << watched.out;
  // Not a terminal: no cursor movement in what a script reads.
  EXPECT_EQ(watched.out.find('\033'), std::string::npos);
}

TEST_F(Status, EveryProgramTellsItsVersion) {
  for (const auto& program : {cliBinary(), brokerBinary(), nodeBinary()}) {
    auto r = runProgram(program, {"--version"});
    EXPECT_EQ(r.exitCode, 0) << program << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("^strata(-broker|-node)? [0-9]+\\.[0-9]+\\.[0-9]+\n$"))) << r.out;
  }
}

}  // namespace
}  // namespace strata::test
