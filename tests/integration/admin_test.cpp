// The broker's admin endpoint as an operator uses it: Prometheus's own promtool on
// /metrics while real traffic moves the counters, the probes, the token, and the live
// dashboard in headless Chromium while a load runs and a worker is killed.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/nodes/client.h>

#include "chromium.h"
#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kToken = "admin-token-0123456789abcdef";

struct Http {
  int status = 0;
  std::string body;
};

Http get(const std::string& url, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"-sS", "--max-time", "10", "-w", "\n%{http_code}"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  auto r = runProgram(kCurl, args);
  auto cut = r.out.rfind('\n');
  if (cut == std::string::npos) return {};
  return {std::atoi(r.out.c_str() + cut + 1), r.out.substr(0, cut)};
}

// The value of one sample line ("name{labels} value"), or -1 when it is not there.
double sample(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class Admin : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("w1", 2);
    cluster.addIdentity("w2", 2);
    cluster.addIdentity("front", 4);
  }

  // Starts the broker with the admin endpoint; returns its URL.
  std::string startBroker(std::map<std::string, std::string> extra = {}) {
    extra["strata.admin.bind"] = "127.0.0.1:0";
    extra["strata.heartbeat_ms"] = "200";
    cluster.startBroker(extra);
    return adminUrl();
  }

  std::string adminUrl() { return adminUrlOf(cluster.broker()); }

  // Runs a broker with an admin endpoint and these keys besides, to its end (one that
  // refuses to start ends at once).
  RunResult runBrokerWith(const std::string& configName, const std::map<std::string, std::string>& admin) {
    std::map<std::string, std::string> keys = {{"strata.broker.bind", "tcp://127.0.0.1:*"},
                                               {"strata.key", cluster.keyFile("broker").string()},
                                               {"strata.authorized_keys", (cluster.dir() / "authorized_keys").string()},
                                               {"strata.admin.bind", "127.0.0.1:0"}};
    keys.insert(admin.begin(), admin.end());
    return runProgram(brokerBinary(), {"--config", cluster.writeConfig(configName, keys).string()}, "", 20s);
  }

  Cluster cluster;
};

TEST_F(Admin, MetricsPassPromtoolAndCountRealTraffic) {
  auto url = startBroker();
  ASSERT_FALSE(url.empty()) << cluster.broker().log();
  cluster.startNode("w1", "echo");
  auto client = std::make_unique<nodes::Client>(cluster.clientOptions("front"));
  constexpr int kCalls = 300;
  for (int i = 0; i < kCalls; ++i) ASSERT_TRUE(client->call("echo", "x").ok);
  EXPECT_FALSE(client->call("no.such.service", "x").ok);

  // The loop publishes its figures every 250 ms: the scrape sees them soon after.
  Http metrics;
  ASSERT_TRUE(waitUntil([&] {
    metrics = get(url + "/metrics");
    return sample(metrics.body, "strata_replies_total{service=\"echo\"}") == kCalls;
  }, 10s)) << metrics.body;
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(sample(metrics.body, "strata_requests_total{service=\"echo\"}"), kCalls);
  EXPECT_EQ(sample(metrics.body, "strata_request_duration_seconds_count{service=\"echo\"}"), kCalls);
  EXPECT_GT(sample(metrics.body, "strata_request_duration_seconds_sum{service=\"echo\"}"), 0);
  EXPECT_EQ(sample(metrics.body, "strata_request_duration_seconds_bucket{service=\"echo\",le=\"+Inf\"}"), kCalls);
  EXPECT_EQ(sample(metrics.body, "strata_broker_refusals_total{code=\"unknown_service\"}"), 1);
  EXPECT_EQ(sample(metrics.body, "strata_workers{service=\"echo\"}"), 1);
  EXPECT_EQ(sample(metrics.body, "strata_workers_connected{layer=\"2\"}"), 1);
  EXPECT_GT(sample(metrics.body, "process_resident_memory_bytes"), 1e6);
  EXPECT_EQ(sample(metrics.body, "strata_peers{layer=\"4\"}"), 1);  // the front end
  EXPECT_GE(sample(metrics.body, "strata_peers{layer=\"2\"}"), 1);  // the worker's node
  EXPECT_EQ(sample(metrics.body, "strata_peers{layer=\"0\"}"), 0);

  // Prometheus's own linter on what we expose.
  auto lint = runProgram(kPromtool, {"check", "metrics"}, metrics.body);
  EXPECT_EQ(lint.exitCode, 0) << lint.out << lint.err;

  // The front end leaves: its connection closes and its layer counts it no more.
  client.reset();
  EXPECT_TRUE(waitUntil([&] { return sample(get(url + "/metrics").body, "strata_peers{layer=\"4\"}") == 0; }, 10s));

  auto stats = get(url + "/api/stats");
  ASSERT_EQ(stats.status, 200);
  auto json = Poco::JSON::Parser().parse(stats.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("role"), "broker");
  auto echo = json->getArray("services")->getObject(0);
  EXPECT_EQ(echo->getValue<std::string>("name"), "echo");
  EXPECT_EQ(echo->getValue<int>("workers"), 1);
  EXPECT_EQ(echo->getValue<int>("replies"), kCalls);

  EXPECT_EQ(get(url + "/livez").body, "ok\n");
  EXPECT_EQ(get(url + "/readyz").status, 200);
  EXPECT_EQ(get(url + "/nothing").status, 404);
  EXPECT_EQ(get(url + "/metrics", {"-X", "POST", "--data", "x"}).status, 405);
  auto page = get(url + "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>Strata"), std::string::npos);
}

TEST_F(Admin, JournalCommitsAreTimed) {
  auto url = startBroker({{"strata.journal", (cluster.dir() / "journal.db").string()}});
  ASSERT_FALSE(url.empty()) << cluster.broker().log();
  cluster.startNode("w1", "echo");
  nodes::Client client(cluster.clientOptions("front"));
  constexpr int kDurable = 5;
  for (int i = 0; i < kDurable; ++i) {
    nodes::OutgoingRequest request;
    request.service = "echo";
    request.body.push_back("kept");
    request.headers = {{"strata-durable", "1"}};
    request.timeout = 5s;
    ASSERT_TRUE(client.call(std::move(request)).ok);
  }
  Http metrics;
  // Every loop turn that wrote to the journal commits once, at its end. The broker hands a
  // durable request to the worker before that commit, and a turn goes on while messages
  // keep coming, so under load a reply, the next call and its reply can all fall in one
  // turn: five calls one at a time may take fewer than five commits (a CI run saw two),
  // never none. The figures are a snapshot taken every 250 ms, so both are waited for.
  ASSERT_TRUE(waitUntil([&] {
    metrics = get(url + "/metrics");
    return sample(metrics.body, "strata_journal_commit_duration_seconds_count") >= 1 &&
           sample(metrics.body, "strata_durable_requests_total") >= kDurable &&
           sample(metrics.body, "strata_journal_depth") == 0;
  }, 10s)) << metrics.body << "\nbroker log:\n" << cluster.broker().log();
  EXPECT_GT(sample(metrics.body, "strata_journal_commit_duration_seconds_sum"), 0);
  EXPECT_EQ(sample(metrics.body, "strata_durable_requests_total"), kDurable);
}

TEST_F(Admin, ATokenGuardsTheFiguresButNotTheProbes) {
  auto file = cluster.dir() / "admin-token";
  std::ofstream(file) << kToken << "\n";
  ::chmod(file.c_str(), 0644);
  // Readable by others: refused at start, with the fix in the log.
  auto refused = runBrokerWith("open-token.properties", {{"strata.admin.token_file", file.string()}});
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE((refused.out + refused.err).find("chmod 600"), std::string::npos) << refused.out << refused.err;

  ::chmod(file.c_str(), 0600);
  auto url = startBroker({{"strata.admin.token_file", file.string()}});
  ASSERT_FALSE(url.empty()) << cluster.broker().log();
  EXPECT_EQ(get(url + "/metrics").status, 401);
  EXPECT_EQ(get(url + "/api/stats", {"-H", "Authorization: Bearer wrong-token-0123456789abc"}).status, 401);
  EXPECT_EQ(get(url + "/metrics", {"-H", std::string("Authorization: Bearer ") + kToken}).status, 200);
  EXPECT_EQ(get(url + "/livez").status, 200);
  EXPECT_EQ(get(url + "/readyz").status, 200);
  EXPECT_EQ(cluster.broker().log().find(kToken), std::string::npos) << "the log holds the token";
}

TEST_F(Admin, ServesHttpsWithACertificateAndRefusesAnOpenKey) {
  auto cert = cluster.dir() / "admin.pem";
  auto key = cluster.dir() / "admin.key";
  auto made = runProgram("/usr/bin/openssl",
                         {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", key.string(), "-out", cert.string(), "-days", "1", "-subj", "/CN=127.0.0.1",
                          "-addext", "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exitCode, 0) << made.err;
  ::chmod(key.c_str(), 0644);
  auto refused = runBrokerWith("open-tls-key.properties",
                               {{"strata.admin.tls_cert", cert.string()}, {"strata.admin.tls_key", key.string()}});
  EXPECT_EQ(refused.exitCode, 77) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("strata.admin.tls_key"), std::string::npos) << refused.err;

  ::chmod(key.c_str(), 0600);
  auto url = startBroker({{"strata.admin.tls_cert", cert.string()}, {"strata.admin.tls_key", key.string()}});
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << cluster.broker().log();
  auto metrics = get(url + "/metrics", {"--cacert", cert.string()});
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("strata_build_info"), std::string::npos) << metrics.body;
  EXPECT_EQ(get(url + "/readyz", {"--cacert", cert.string()}).status, 200);
  // Plain HTTP on the same port gets no answer: there is no way around TLS.
  auto plain = "http://" + url.substr(std::string("https://").size());
  EXPECT_NE(get(plain + "/metrics").status, 200);
}

TEST_F(Admin, ANodesReadinessFollowsItsBroker) {
  auto endpoint = cluster.startBroker({{"strata.heartbeat_ms", "200"}});
  auto& node = cluster.startNode("w1", "echo", {{"strata.admin.bind", "127.0.0.1:0"}});
  ASSERT_TRUE(node.waitForLog("admin listening on ", 10s)) << node.log();
  std::smatch match;
  auto log = node.log();
  ASSERT_TRUE(std::regex_search(log, match, std::regex("admin listening on (http://127\\.0\\.0\\.1:[0-9]+)")));
  std::string url = match[1];
  ASSERT_TRUE(waitUntil([&] { return get(url + "/readyz").status == 200; }, 10s)) << get(url + "/readyz").body;
  auto metrics = get(url + "/metrics");
  EXPECT_EQ(sample(metrics.body, "strata_node_brokers_registered"), 1) << metrics.body;
  // The dashboard is the brokers'; a node says so rather than serve an empty page.
  auto page = get(url + "/");
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.body.find("the dashboard is on the brokers"), std::string::npos) << page.body;
  auto lint = runProgram(kPromtool, {"check", "metrics"}, metrics.body);
  EXPECT_EQ(lint.exitCode, 0) << lint.out << lint.err;

  // Its only broker killed: not ready, and it says why; back on the same address: ready.
  cluster.broker().signal(SIGKILL);
  Http ready;
  ASSERT_TRUE(waitUntil([&] {
    ready = get(url + "/readyz");
    return ready.status == 503;
  }, 15s)) << ready.body;
  EXPECT_NE(ready.body.find("registered with none of its 1 broker(s)"), std::string::npos) << ready.body;
  EXPECT_EQ(get(url + "/livez").status, 200) << "the node itself is alive";
  cluster.startBroker({{"strata.heartbeat_ms", "200"}, {"strata.broker.bind", endpoint}});
  ASSERT_TRUE(waitUntil([&] { return get(url + "/readyz").status == 200; }, 15s)) << get(url + "/readyz").body;
}

TEST_F(Admin, TheDashboardInChromiumFollowsALoadAndALostWorker) {
  auto url = startBroker();
  ASSERT_FALSE(url.empty()) << cluster.broker().log();
  auto& w1 = cluster.startNode("w1", "echo");
  cluster.startNode("w2", "echo");
  cluster.startProcess(cliBinary(),
                       {"call", "--config", cluster.clientConfig("front").string(), "--repeat", "100000000", "--window",
                        "4", "--timeout", "10000", "echo", "load"},
                       "load.log");
  auto opened = openInChromium(cluster, url + "/");
  auto& page = *opened;
  auto column = [&](const std::string& col) {
    return page.evaluate("(document.querySelector('tr[data-service=\"echo\"] td[data-col=\"" + col +
                         "\"]') || {}).textContent || ''");
  };
  ASSERT_TRUE(waitUntil([&] { return column("workers") == "2" && std::atof(column("rate").c_str()) > 0; }, 30s))
      << page.evaluate("document.body.innerText");
  EXPECT_EQ(page.evaluate("document.getElementById('status').textContent"), "live");
  auto shot = testOutputFolder("dashboard") / "broker-under-load.png";
  page.screenshot(shot);
  std::cout << "[ figures  ] echo at " << column("rate") << " req/s on the page; screenshot: " << shot.string() << "\n";

  // A worker killed for real: the page shows one left, without being reloaded.
  page.evaluate("window.notReloaded = true");
  w1.signal(SIGKILL);
  ASSERT_TRUE(waitUntil([&] { return column("workers") == "1"; }, 30s)) << page.evaluate("document.body.innerText");
  EXPECT_EQ(page.evaluate("String(window.notReloaded)"), "true");
  EXPECT_GT(std::atof(column("rate").c_str()), 0) << "the load goes on at the other worker";
}

TEST_F(Admin, TheDashboardShowsItsPoolSideBySideAndSeesABrokerGo) {
  auto other = cluster.startExtraBroker("broker-b", {{"strata.admin.bind", "127.0.0.1:0"}});
  auto otherUrl = adminUrlOf(other.process);
  ASSERT_FALSE(otherUrl.empty()) << other.process.log();
  auto url = startBroker({{"strata.admin.pool", otherUrl}});
  ASSERT_FALSE(url.empty()) << cluster.broker().log();
  cluster.startNode("w1", "echo", {{"strata.brokers", cluster.brokerEndpoint() + "," + other.endpoint}});
  ASSERT_TRUE(other.process.waitForLog("worker registered name=w1 ", 10s)) << other.process.log();

  auto pool = get(url + "/api/pool");
  ASSERT_EQ(pool.status, 200) << pool.body;
  auto brokers = Poco::JSON::Parser().parse(pool.body).extract<Poco::JSON::Object::Ptr>()->getArray("brokers");
  ASSERT_EQ(brokers->size(), 2u) << pool.body;
  EXPECT_EQ(brokers->getObject(1)->getValue<std::string>("url"), otherUrl);
  EXPECT_TRUE(brokers->getObject(1)->getValue<bool>("reachable")) << pool.body;

  auto opened = openInChromium(cluster, url + "/");
  auto& page = *opened;
  auto column = [&](const std::string& broker, const std::string& col) {
    return page.evaluate("(document.querySelector('tr[data-broker=\"" + broker + "\"] td[data-col=\"" + col +
                         "\"]') || {}).textContent || ''");
  };
  ASSERT_TRUE(waitUntil([&] {
    return column("this", "state") == "up" && column(otherUrl, "state") == "up" && column(otherUrl, "workers") == "1";
  }, 30s)) << page.evaluate("document.body.innerText");
  EXPECT_EQ(page.evaluate("String(document.getElementById('pool').hidden)"), "false");
  page.screenshot(testOutputFolder("dashboard") / "pool-side-by-side.png");

  // The other broker killed for real: its row turns unreachable, without a reload.
  page.evaluate("window.notReloaded = true");
  other.process.signal(SIGKILL);
  ASSERT_TRUE(waitUntil([&] { return column(otherUrl, "state") == "unreachable"; }, 30s))
      << page.evaluate("document.body.innerText");
  EXPECT_EQ(column("this", "state"), "up");
  EXPECT_EQ(page.evaluate("String(window.notReloaded)"), "true");
  page.screenshot(testOutputFolder("dashboard") / "pool-broker-lost.png");
}

}  // namespace
}  // namespace strata::test
