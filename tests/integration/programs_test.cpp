// The three programs as a new user would run them: exit codes, messages, files.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

class Programs : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 4);
    cluster.addIdentity("logic-a", 2);
  }
  Cluster cluster;
};

TEST_F(Programs, KeygenWritesAPrivateSecretAndAPublicKey) {
  auto base = (cluster.dir() / "fresh").string();
  auto r = runProgram(cliBinary(), {"keygen", base});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((base + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(readFile(base + ".pub").size(), 41u);  // 40 Z85 characters and a newline
  EXPECT_EQ(readFile(base + ".key").size(), 41u);
  EXPECT_NE(r.out.find(readFile(base + ".pub").substr(0, 40)), std::string::npos);
}

TEST_F(Programs, KeygenRefusesToOverwriteAKey) {
  auto base = (cluster.dir() / "logic-a").string();
  auto before = readFile(base + ".key");
  auto r = runProgram(cliBinary(), {"keygen", base});
  EXPECT_EQ(r.exitCode, 73);
  EXPECT_NE(r.err.find("already exists"), std::string::npos);
  EXPECT_EQ(readFile(base + ".key"), before);
}

TEST_F(Programs, CallPrintsTheReplyBodyAndExitsZero) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  auto r = runProgram(cliBinary(), {"call", "--config", cluster.clientConfig("front").string(), "echo", "hello"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
}

TEST_F(Programs, CallReadsTheBodyFromStdin) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  auto r = runProgram(cliBinary(), {"call", "--raw", "--config", cluster.clientConfig("front").string(), "echo"},
                      "from stdin\n");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "from stdin\n");
}

TEST_F(Programs, CallReportsAnErrorWithItsCodeOnStderr) {
  cluster.startBroker();
  auto r = runProgram(cliBinary(), {"call", "--config", cluster.clientConfig("front").string(), "nothing", "x"});
  EXPECT_EQ(r.exitCode, 69);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("unknown_service (1)"), std::string::npos) << r.err;
}

TEST_F(Programs, CallTimesOutWithExitCode75) {
  cluster.startBroker();
  cluster.startNode("logic-a", "sleep");
  auto r = runProgram(cliBinary(),
                      {"call", "--timeout", "200", "--config", cluster.clientConfig("front").string(), "sleep", "5000"});
  EXPECT_EQ(r.exitCode, 75);
  EXPECT_NE(r.err.find("timeout (2)"), std::string::npos) << r.err;
}

TEST_F(Programs, CallRepeatEndsWithASummaryLine) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  auto r = runProgram(cliBinary(), {"call", "--config", cluster.clientConfig("front").string(), "--repeat", "500",
                                    "--window", "20", "echo", "x"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::regex summary(
      "requests=500 ok=500 errors=0 req_per_s=[0-9]+ p50_us=[0-9]+ p99_us=[0-9]+ workers=logic-a:500\n$");
  EXPECT_TRUE(std::regex_search(r.out, summary)) << r.out;
  EXPECT_EQ(r.err.find('#'), std::string::npos);  // no progress bar when not on a terminal
}

TEST_F(Programs, ServicesListsWorkersAndQueueDepth) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo,sleep");
  auto r = runProgram(cliBinary(), {"services", "--config", cluster.clientConfig("front").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("echo +1 +0 +0")));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("sleep +1 +0 +0")));
}

TEST_F(Programs, BrokerRefusesAGroupReadableSecretKey) {
  ::chmod(cluster.keyFile("broker").c_str(), 0640);
  auto config = cluster.writeConfig("b.properties", {{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                                     {"strata.key", cluster.keyFile("broker").string()},
                                                     {"strata.authorized_keys", (cluster.dir() / "authorized_keys").string()}});
  auto r = runProgram(brokerBinary(), {"--config", config.string()});
  EXPECT_EQ(r.exitCode, 77);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
}

TEST_F(Programs, BrokerRefusesToStartWithoutAuthorizedKeys) {
  auto config = cluster.writeConfig("b.properties", {{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                                     {"strata.key", cluster.keyFile("broker").string()}});
  auto r = runProgram(brokerBinary(), {"--config", config.string()});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.err.find("strata.authorized_keys is required"), std::string::npos) << r.err;
}

TEST_F(Programs, BrokerRefusesAnEmptyAuthorizedKeysFile) {
  auto empty = cluster.writeConfig("empty_keys", {});
  auto config = cluster.writeConfig("b.properties", {{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                                     {"strata.key", cluster.keyFile("broker").string()},
                                                     {"strata.authorized_keys", empty.string()}});
  auto r = runProgram(brokerBinary(), {"--config", config.string()});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.err.find("lists no key"), std::string::npos) << r.err;
}

TEST_F(Programs, BrokerRefusesAnUnknownKeyWithASuggestion) {
  auto config = cluster.writeConfig("b.properties", {{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                                     {"strata.key", cluster.keyFile("broker").string()},
                                                     {"strata.authorised_keys", "x"}});
  auto r = runProgram(brokerBinary(), {"--config", config.string()});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.err.find("did you mean 'strata.authorized_keys'"), std::string::npos) << r.err;
}

TEST_F(Programs, DefineOverridesTheConfigFile) {
  auto config = cluster.writeConfig("b.properties", {{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                                     {"strata.key", cluster.keyFile("broker").string()},
                                                     {"strata.authorized_keys", (cluster.dir() / "authorized_keys").string()}});
  auto r = runProgram(brokerBinary(), {"--config", config.string(), "--define", "strata.heartbeat_ms=zero"});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.err.find("strata.heartbeat_ms"), std::string::npos) << r.err;
}

TEST_F(Programs, DaemonsPrintHelpAndExitZero) {
  for (const auto& binary : {brokerBinary(), nodeBinary()}) {
    auto r = runProgram(binary, {"--help"});
    EXPECT_EQ(r.exitCode, 0) << binary;
    EXPECT_NE(r.out.find("--config"), std::string::npos) << binary;
    EXPECT_NE(r.out.find("strata.key"), std::string::npos) << binary;
  }
}

TEST_F(Programs, DaemonsRejectAnUnknownOptionWithUsageExit) {
  auto r = runProgram(brokerBinary(), {"--no-such-option"});
  EXPECT_EQ(r.exitCode, 64);
  EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
}

TEST_F(Programs, NodeRefusesAnUnknownBuiltinService) {
  cluster.startBroker();
  auto config = cluster.writeConfig("n.properties", {{"strata.brokers", cluster.brokerEndpoint()},
                                                     {"strata.key", cluster.keyFile("logic-a").string()},
                                                     {"strata.broker_key", cluster.pubFile("broker").string()},
                                                     {"strata.services", "ech0"}});
  auto r = runProgram(nodeBinary(), {"--config", config.string()});
  EXPECT_EQ(r.exitCode, 78);
  EXPECT_NE(r.err.find("unknown service 'ech0'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::test

namespace strata::test {
namespace {

TEST_F(Programs, BrokerReadsAJsonConfigWithAnEnvironmentValue) {
  auto config = cluster.dir() / "broker.json";
  std::ofstream(config) << R"({"strata": {"broker": {"bind": "tcp://127.0.0.1:*"}, "key": ")"
                        << cluster.keyFile("broker").string()
                        << R"(", "authorized_keys": "${system.env.STRATA_TEST_KEYS}"}})";
  ::setenv("STRATA_TEST_KEYS", (cluster.dir() / "authorized_keys").c_str(), 1);
  Process broker(brokerBinary(), {"--config", config.string()}, cluster.dir() / "json-broker.log");
  EXPECT_FALSE(broker.waitForEndpoint("listening on", 10s).empty()) << broker.log();
  ::unsetenv("STRATA_TEST_KEYS");
}

}  // namespace
}  // namespace strata::test
