// Keys changed while a real broker runs and traffic flows, as an operator would change
// them: authorized_keys rewritten (atomically, by rename), then SIGHUP, or nothing at all
// (the broker notices the file change). Checked from both sides: the broker's log and
// metrics, and what each client's calls get.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include <strata/core/curve_keys.h>
#include <strata/nodes/client.h>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

class KeyRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"broker", "w1", "keeper", "leaver", "climber", "newcomer"}) {
      cluster.addIdentity(name, std::nullopt);
    }
    writeKeys({{"w1", 2}, {"keeper", 4}, {"leaver", 4}, {"climber", 4}});
    cluster.startBroker({{"strata.heartbeat_ms", "200"}, {"strata.policy.sleep", "3"}, {"strata.admin.bind", "127.0.0.1:0"}});
    cluster.startNode("w1", "echo,sleep");
  }

  // Writes authorized_keys as an operator should: a new file renamed over the old one, so
  // the broker never reads half of it.
  void writeKeys(const std::vector<std::pair<std::string, int>>& entries, const std::string& extra = "") {
    auto next = cluster.dir() / "authorized_keys.next";
    {
      std::ofstream out(next);
      for (const auto& [name, layer] : entries) {
        out << core::loadPublicKey(cluster.pubFile(name)).z85() << " " << name << " " << layer << "\n";
      }
      out << extra;
    }
    std::filesystem::rename(next, cluster.dir() / "authorized_keys");
  }

  // Calls until one succeeds, or timeout; each try waits at most 500 ms.
  static bool succeedsWithin(nodes::Client& client, const std::string& service, const std::string& body,
                             std::chrono::milliseconds timeout) {
    return waitUntil([&] { return client.call(service, body, 500ms).ok; }, timeout);
  }

  std::string metrics() {
    auto url = adminUrlOf(cluster.broker());
    if (url.empty()) return "";
    return runProgram("/usr/bin/curl", {"-sS", "--max-time", "5", url + "/metrics"}).out;
  }

  Cluster cluster;
};

TEST_F(KeyRotation, AddedRemovedAndRelayeredKeysApplyWhileTrafficFlows) {
  // A caller whose key stays, calling all along: not one of its calls may fail.
  std::atomic<bool> stop{false};
  std::atomic<int> kept{0};
  std::atomic<int> lost{0};
  std::thread traffic([&] {
    nodes::Client client(cluster.clientOptions("keeper"));
    while (!stop) (client.call("echo", "steady", 5s).ok ? kept : lost)++;
  });

  nodes::Client leaver(cluster.clientOptions("leaver"));
  nodes::Client climber(cluster.clientOptions("climber"));
  nodes::Client newcomer(cluster.clientOptions("newcomer"));
  ASSERT_TRUE(leaver.call("echo", "before", 5s).ok);
  auto refused = climber.call("sleep", "1", 5s);
  EXPECT_EQ(refused.errorCode, nodes::ErrorCode::kForbidden) << refused.errorText;  // layer 4; sleep takes 3
  EXPECT_FALSE(newcomer.call("echo", "knock", 500ms).ok);

  writeKeys({{"w1", 2}, {"keeper", 4}, {"climber", 3}, {"newcomer", 4}});
  cluster.broker().signal(SIGHUP);
  ASSERT_TRUE(cluster.broker().waitForLog("keys reloaded cause=\"SIGHUP\"", 10s)) << cluster.broker().log();

  // The removed key's open connection is refused from its next message on.
  auto gone = leaver.call("echo", "after", 5s);
  EXPECT_FALSE(gone.ok);
  EXPECT_EQ(gone.errorCode, nodes::ErrorCode::kForbidden);
  EXPECT_NE(gone.errorText.find("no longer in strata.authorized_keys"), std::string::npos) << gone.errorText;
  // The new layer applies to the next request, on the same connection.
  auto climbed = climber.call("sleep", "1", 5s);
  EXPECT_TRUE(climbed.ok) << climbed.errorText;
  // The new key gets in: libzmq retries the handshake the broker refused before.
  EXPECT_TRUE(succeedsWithin(newcomer, "echo", "welcome", 10s)) << cluster.broker().log();

  // A broken file is refused, and locks nobody out: the old list stays in force.
  writeKeys({{"w1", 2}, {"keeper", 4}}, "not-a-key someone 9\n");
  cluster.broker().signal(SIGHUP);
  ASSERT_TRUE(cluster.broker().waitForLog("keys reload refused", 10s)) << cluster.broker().log();
  EXPECT_NE(cluster.broker().log().find("the previous list stays in force"), std::string::npos);
  EXPECT_TRUE(newcomer.call("echo", "still here", 5s).ok);
  nodes::Client fresh(cluster.clientOptions("climber"));  // a new connection, checked against the old list
  EXPECT_TRUE(fresh.call("sleep", "1", 5s).ok);

  // No signal at all: a changed file is noticed on its own, within about a second.
  writeKeys({{"w1", 2}, {"keeper", 4}, {"climber", 3}});
  ASSERT_TRUE(cluster.broker().waitForLog("keys reloaded cause=\"the file changed\"", 10s)) << cluster.broker().log();
  auto out = newcomer.call("echo", "again", 5s);
  EXPECT_EQ(out.errorCode, nodes::ErrorCode::kForbidden) << out.errorText;

  stop = true;
  traffic.join();
  EXPECT_GT(kept.load(), 0);
  EXPECT_EQ(lost.load(), 0);
  // The worker's key never changed: it stayed registered throughout.
  EXPECT_EQ(countOf(cluster.broker().log(), "worker removed name=w1"), 0u) << cluster.broker().log();

  auto text = metrics();
  EXPECT_NE(text.find("strata_key_reloads_total{result=\"refused\"}"), std::string::npos) << text;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(text, match, std::regex("strata_unlisted_messages_total ([0-9]+)"))) << text;
  EXPECT_GE(std::stoi(match[1]), 2);  // the leaver's call and the newcomer's last one
  ASSERT_TRUE(std::regex_search(text, match, std::regex("strata_handshakes_total\\{result=\"unknown_key\"\\} ([0-9]+)")));
  EXPECT_GE(std::stoi(match[1]), 1);  // the newcomer, before it was listed
}

TEST_F(KeyRotation, AWorkerWhoseLayerChangesRegistersAgainUnderTheNewOne) {
  nodes::Client keeper(cluster.clientOptions("keeper"));
  ASSERT_TRUE(keeper.call("echo", "x", 5s).ok);
  writeKeys({{"w1", 3}, {"keeper", 4}});
  cluster.broker().signal(SIGHUP);
  ASSERT_TRUE(cluster.broker().waitForLog("worker removed name=w1 reason=\"its key or layer changed", 10s)) << cluster.broker().log();
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=w1 layer=3", 10s)) << cluster.broker().log() << readFile(cluster.dir() / "w1.log");
  // Layer 4 may call layer 2 but not layer 3 (the default rules): the caller sees the move.
  nodes::Response last;
  EXPECT_TRUE(waitUntil([&] {
    last = keeper.call("echo", "y", 2s);
    return last.errorCode == nodes::ErrorCode::kForbidden;
  }, 10s)) << last.errorText;
  EXPECT_NE(last.errorText.find("layer 4"), std::string::npos) << last.errorText;
}

TEST_F(KeyRotation, ConnectionsPastMaxPeersAreRefusedAndCounted) {
  // A broker of its own, capped at one connection.
  auto limited = cluster.startExtraBroker("limited", {{"strata.max_peers", "1"}});
  auto options = cluster.clientOptions("keeper");
  options.endpoints = {limited.endpoint};
  nodes::Client first(options);
  auto answer = first.call("strata.services", "", 5s);
  ASSERT_TRUE(answer.ok) << answer.errorText;
  auto secondOptions = cluster.clientOptions("leaver");
  secondOptions.endpoints = {limited.endpoint};
  nodes::Client over(secondOptions);
  EXPECT_FALSE(over.call("strata.services", "", 1s).ok);
  ASSERT_TRUE(limited.process.waitForLog("strata.max_peers (1) reached", 10s)) << limited.process.log();
  EXPECT_TRUE(first.call("strata.services", "", 5s).ok);  // the one inside is unharmed
}

}  // namespace
}  // namespace strata::test
