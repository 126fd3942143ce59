// The smtp plug-in in a real strata-node behind a real broker: a client's mail.send
// reaches the SMTP server, and a node killed with mail still queued delivers it exactly
// once after it restarts.

#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/nodes/client.h>

#include "cluster.h"
#include "smtp_test_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 20s;

class SmtpNode : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 2);
    cluster.addIdentity("mailer", 0);  // integrations serve layer 0
    cluster.startBroker();
  }
  std::map<std::string, std::string> nodeConfig(const SmtpTestServer& server) const {
    return {{"strata.plugins", "smtp"},
            {"strata.data_dir", (cluster.dir() / "data").string()},
            {"strata.plugin.smtp.host", "127.0.0.1"},
            {"strata.plugin.smtp.port", std::to_string(server.port())},
            {"strata.plugin.smtp.from", "Strata <node@strata.example>"},
            {"strata.plugin.smtp.helo", "node.strata.example"},
            {"strata.plugin.smtp.retry_ms", "100"},
            {"strata.plugin.smtp.max_attempts", "1000"}};
  }
  static nodes::OutgoingRequest sendRequest(const std::string& json) {
    nodes::OutgoingRequest request;
    request.service = "mail.send";
    request.body = {json};
    request.headers = {{"content-type", "application/json"}};
    request.timeout = 10s;
    return request;
  }
  static std::string statusOf(nodes::Client& client, const std::string& id) {
    auto response = client.call("mail.status", id, 5s);
    if (!response.ok) return "error " + response.errorText;
    return Poco::JSON::Parser().parse(response.bodyText()).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("status");
  }
  Cluster cluster;
};

TEST_F(SmtpNode, MailSendThroughTheBrokerReachesTheSmtpServer) {
  SmtpTestServer server(cluster.dir() / "server");
  auto& node = cluster.startNode("mailer", "", nodeConfig(server));
  ASSERT_TRUE(node.waitForLog("plug-in smtp 1.0.0 loaded", 5s)) << node.log();
  nodes::Client client(cluster.clientOptions("front"));
  auto response = client.call(sendRequest(R"({"to": ["bob@b.example"], "subject": "from the bus", "body": "hello"})"));
  ASSERT_TRUE(response.ok) << response.errorText;
  auto id = response.id.hex();
  EXPECT_EQ(response.bodyText(), R"({"id":")" + id + R"(","status":"queued"})");
  EXPECT_EQ(nodes::findHeader(response.headers, "content-type"), "application/json");
  ASSERT_TRUE(waitUntil([&] { return statusOf(client, id) == "sent"; }, kWait)) << node.log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].mailFrom, "node@strata.example");
  EXPECT_EQ(mail[0].rcptTos, std::vector<std::string>{"bob@b.example"});
  EXPECT_NE(mail[0].data.find("From: Strata <node@strata.example>\r\n"), std::string::npos);
  EXPECT_NE(mail[0].data.find("Message-ID: <" + id + "@node.strata.example>"), std::string::npos);

  auto injected = client.call(sendRequest(R"({"to": ["bob@b.example"], "subject": "x\r\nBcc: e@evil.example"})"));
  EXPECT_FALSE(injected.ok);
  EXPECT_EQ(injected.errorCode, codecs::ErrorCode::kMalformed);
  EXPECT_NE(injected.errorText.find("CR (0x0D)"), std::string::npos) << injected.errorText;
  EXPECT_EQ(statusOf(client, injected.id.hex()), "unknown");
}

TEST_F(SmtpNode, MailQueuedWhenTheNodeIsKilledIsDeliveredOnceAfterRestart) {
  SmtpServerOptions options;
  options.tempfailUntil = cluster.dir() / "open";  // 451 until the file exists
  SmtpTestServer server(cluster.dir() / "server", options);
  auto config = nodeConfig(server);
  auto& node = cluster.startNode("mailer", "", config);
  nodes::Client client(cluster.clientOptions("front"));
  auto response = client.call(sendRequest(R"({"to": ["bob@b.example"], "body": "survives a crash"})"));
  ASSERT_TRUE(response.ok) << response.errorText;
  ASSERT_TRUE(waitUntil([&] { return server.attempts() >= 2; }, kWait)) << node.log();
  node.signal(SIGKILL);
  ASSERT_TRUE(node.wait(5s));

  std::ofstream(cluster.dir() / "open") << "";
  auto& restarted = cluster.startNode("mailer", "", config);
  ASSERT_TRUE(waitUntil([&] { return statusOf(client, response.id.hex()) == "sent"; }, kWait)) << restarted.log();
  // A marker mail behind it: once it is sent, the sender has nothing older left to do.
  auto marker = client.call(sendRequest(R"({"to": ["carol@c.example"], "body": "marker"})"));
  ASSERT_TRUE(marker.ok) << marker.errorText;
  ASSERT_TRUE(waitUntil([&] { return statusOf(client, marker.id.hex()) == "sent"; }, kWait)) << restarted.log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 2u);
  EXPECT_NE(mail[0].data.find("survives a crash"), std::string::npos);
  EXPECT_NE(mail[1].data.find("marker"), std::string::npos);
}

}  // namespace
}  // namespace strata::test
