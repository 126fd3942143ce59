// The http plug-in inside strata-node, as a user runs it: curl into the gateway of a
// front-end node, and a client calling http.request on an integration node.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> nodeKeys(const Cluster& cluster, const std::string& name) {
  return {{"strata.brokers", cluster.brokerEndpoint()},
          {"strata.key", cluster.keyFile(name).string()},
          {"strata.broker_key", cluster.pubFile("broker").string()},
          {"strata.node.name", name},
          {"strata.heartbeat_ms", "200"},
          {"strata.data_dir", (cluster.dir() / (name + "-data")).string()},
          {"strata.plugins", "http"}};
}

// The gateway's URL from the node's log, or "" when it did not start in time.
std::string gatewayUrl(const Process& node) {
  if (!node.waitForLog("http gateway listening on ", 15s)) return "";
  // The plug-in listens while the node still starts (and answers "still starting"); the
  // node logs what it serves once it runs.
  if (!node.waitForLog(" serving ", 15s)) return "";
  std::smatch match;
  auto log = node.log();
  if (!std::regex_search(log, match, std::regex("http gateway listening on (https?://127\\.0\\.0\\.1:[0-9]+)"))) {
    return "";
  }
  return match[1];
}

TEST(HttpPlugin, CurlCallsEchoThroughTheGatewayOfAStrataNode) {
  GatewayFixture fixture({{"web", 4}});  // broker, and "logic" (layer 2) running echo and sleep
  auto& cluster = fixture.cluster();
  auto keys = nodeKeys(cluster, "web");
  keys["strata.plugin.http.listen"] = "127.0.0.1:0";
  keys["strata.plugin.http.tokens"] = fixture.tokenFile().string();
  // strata-node (as of "Plug-in host") stops when its plug-ins register no service, which
  // a gateway alone does not; http.request gives it one. Echo is not hosted here, so the
  // gateway's calls go out through the broker to "logic".
  keys["strata.plugin.http.allow"] = "http://127.0.0.1:1/unused/";
  auto config = cluster.writeConfig("web.properties", keys);
  auto& node = cluster.startProcess(nodeBinary(), {"--config", config.string()}, "web.log");
  auto url = gatewayUrl(node);
  ASSERT_FALSE(url.empty()) << node.log();

  auto r = curl(cluster.dir(), {"--data-binary", "through the plug-in", "-H", "Content-Type: text/plain", "-H",
                                std::string("Authorization: Bearer ") + kAliceToken, url + "/v1/services/echo"});
  ASSERT_EQ(r.exitCode, 0) << r.err << node.log();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "through the plug-in");
  EXPECT_EQ(r.header("Content-Type"), "text/plain");

  auto missing = curl(cluster.dir(), {"--data-binary", "x", "-H", std::string("Authorization: Bearer ") + kAliceToken,
                                      url + "/v1/services/nothing.here"});
  EXPECT_EQ(missing.status, 404);
  auto anonymous = curl(cluster.dir(), {"--data-binary", "x", url + "/v1/services/echo"});
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(node.log().find(kAliceToken), std::string::npos);

  node.signal(SIGTERM);
  auto code = node.wait(15s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << node.log();
}

TEST(HttpPlugin, TheGatewayNeverReachesAProcessOnlyModuleInItsOwnNode) {
  GatewayFixture fixture({{"web", 4}});  // broker, and "logic" (layer 2) running echo and sleep
  auto& cluster = fixture.cluster();
  auto keys = nodeKeys(cluster, "web");
  keys["strata.plugins"] = "http, pricing";
  keys["strata.plugin.pricing.layer"] = "3";  // pricing.quote: in this process only
  keys["strata.plugin.http.listen"] = "127.0.0.1:0";
  keys["strata.plugin.http.tokens"] = fixture.tokenFile().string();
  keys["strata.plugin.http.allow"] = "http://127.0.0.1:1/unused/";
  auto config = cluster.writeConfig("web.properties", keys);
  auto& node = cluster.startProcess(nodeBinary(), {"--config", config.string()}, "web.log");
  auto url = gatewayUrl(node);
  ASSERT_FALSE(url.empty()) << node.log();
  // The gateway may listen before the module after it in strata.plugins has loaded.
  ASSERT_TRUE(node.waitForLog("as a layer-3 module (in process only)", 15s)) << node.log();
  const std::string bearer = std::string("Authorization: Bearer ") + kAliceToken;

  // Hosted in the gateway's own process, yet an HTTP client's call goes to the brokers,
  // which have never heard of it.
  auto quote = curl(cluster.dir(), {"--data-binary", "apple 1", "-H", bearer, url + "/v1/services/pricing.quote"});
  ASSERT_EQ(quote.exitCode, 0) << quote.err;
  EXPECT_EQ(quote.status, 404) << quote.body << node.log();
  EXPECT_NE(quote.body.find("unknown_service"), std::string::npos) << quote.body;
  // A service on the bus answers as before.
  auto echo = curl(cluster.dir(), {"--data-binary", "on the bus", "-H", bearer, url + "/v1/services/echo"});
  EXPECT_EQ(echo.status, 200) << echo.body;
  EXPECT_EQ(echo.body, "on the bus");
}

TEST(HttpPlugin, RefusesToStartWithATokenFileOthersMayRead) {
  GatewayFixture fixture({{"web", 4}});
  auto& cluster = fixture.cluster();
  ::chmod(fixture.tokenFile().c_str(), 0644);
  auto keys = nodeKeys(cluster, "web");
  keys["strata.plugin.http.listen"] = "127.0.0.1:0";
  keys["strata.plugin.http.tokens"] = fixture.tokenFile().string();
  auto config = cluster.writeConfig("web.properties", keys);
  auto& node = cluster.startProcess(nodeBinary(), {"--config", config.string()}, "web.log");
  auto code = node.wait(15s);
  ASSERT_TRUE(code) << node.log();
  EXPECT_NE(*code, 0);
  EXPECT_NE(node.log().find("chmod 600"), std::string::npos) << node.log();
}

TEST(HttpPlugin, AClientCallsHttpRequestOnAnIntegrationNode) {
  GatewayFixture fixture({{"fetcher", 2}});
  auto& cluster = fixture.cluster();
  std::ofstream(cluster.dir() / "page.txt") << "a page";
  auto& python = cluster.startProcess(kPython, {"-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                                                cluster.dir().string(), "0"},
                                      "python-http.log");
  ASSERT_TRUE(python.waitForLog("Serving HTTP on", 10s)) << python.log();
  std::smatch match;
  auto pythonLog = python.log();
  ASSERT_TRUE(std::regex_search(pythonLog, match, std::regex("port ([0-9]+)")));
  auto base = "http://127.0.0.1:" + match[1].str();

  auto& node = cluster.startNode("fetcher", "", {{"strata.plugins", "http"},
                                                 {"strata.plugin.http.allow", base + "/page.txt"},
                                                 {"strata.data_dir", (cluster.dir() / "fetcher-data").string()}});
  ASSERT_TRUE(node.waitForLog("http.request", 5s)) << node.log();
  auto call = [&](const std::string& url) {
    return fixture.client().call("http.request", R"({"method": "GET", "url": ")" + url + "\"}", 5s);
  };
  auto ok = call(base + "/page.txt");
  ASSERT_TRUE(ok.ok) << ok.errorText;
  auto out = Poco::JSON::Parser().parse(ok.bodyText()).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(out->getValue<int>("status"), 200);
  EXPECT_EQ(out->getValue<std::string>("body"), "a page");
  auto off = call(base + "/tokens");
  EXPECT_FALSE(off.ok);
  EXPECT_EQ(off.errorCode, nodes::ErrorCode::kForbidden) << off.errorText;
}

}  // namespace
}  // namespace strata::test
