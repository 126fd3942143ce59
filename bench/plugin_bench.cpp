#include "plugin_bench.h"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <strata/nodes/cli.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node.h>
#include <strata/nodes/plugin_host.h>

#include "cluster.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;
using test::Cluster;

constexpr const char* kQuote = "apple 3";

struct Rate {
  double perSecond = 0;
  double p50 = 0;  // microseconds
  double p99 = 0;
  std::uint64_t errors = 0;
};

void printRate(const std::string& path, std::uint64_t window, const Rate& r) {
  std::cout << "  " << std::left << std::setw(44) << path << std::setw(8) << window << std::right << std::setw(12)
            << std::fixed << std::setprecision(0) << r.perSecond << std::setprecision(2) << std::setw(10) << r.p50
            << std::setw(10) << r.p99 << std::setw(8) << r.errors << "\n";
}

Rate rateOf(nodes::LoadSummary summary) {
  return {static_cast<double>(summary.requests) / summary.seconds,
          static_cast<double>(nodes::percentile(summary.latenciesUs, 0.50)),
          static_cast<double>(nodes::percentile(summary.latenciesUs, 0.99)), summary.errors};
}

// pricing.quote as a layer-3 module: Node::call on this thread, through the C ABI.
Rate inProcess(std::uint64_t requests) {
  test::Cluster scratch;  // only for its temporary directory
  nodes::WorkerOptions options;
  options.name = "bench";
  nodes::Node node(options, std::nullopt);
  nodes::PluginHost host(node, scratch.dir());
  nodes::PluginSpec pricing{"pricing", nodes::defaultPluginDir() / "libstrata_pricing.so", 3, {}};
  if (auto failure = host.load(pricing)) throw std::runtime_error(*failure);
  node.start();
  std::vector<std::uint64_t> latencies;  // nanoseconds
  latencies.reserve(requests);
  std::uint64_t errors = 0;
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < requests; ++i) {
    auto before = std::chrono::steady_clock::now();
    auto response = node.call(nodes::OutgoingRequest{"pricing.quote", {kQuote}, {}, {}, {}});
    if (!response.ok) ++errors;
    latencies.push_back(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - before).count()));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(requests) / seconds, static_cast<double>(nodes::percentile(latencies, 0.50)) / 1000,
          static_cast<double>(nodes::percentile(latencies, 0.99)) / 1000, errors};
}

// The same module loaded at layer 2 in strata-node, called through a broker.
std::pair<Rate, Rate> brokered(std::uint64_t requests) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("worker", 2);
  cluster.addIdentity("client", 4);
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}});
  cluster.startNode("worker", "",
                    {{"strata.plugins", "pricing"},
                     {"strata.data_dir", (cluster.dir() / "data").string()},
                     {"strata.worker.capacity", "128"},
                     {"strata.heartbeat_ms", "1000"}});
  nodes::Client client(cluster.clientOptions("client"));
  nodes::OutgoingRequest prototype{"pricing.quote", {kQuote}, {}, 30s, {}};
  nodes::runLoad(client, prototype, requests / 10, 100);
  auto one = rateOf(nodes::runLoad(client, prototype, requests / 4, 1));
  auto hundred = rateOf(nodes::runLoad(client, prototype, requests, 100));
  return {one, hundred};
}

// sql.query inserts through a broker into the SQLite file of an sql node: each request is
// its own transaction, committed with synchronous=FULL together with its id record.
std::pair<Rate, Rate> sqlInserts(std::uint64_t requests) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("worker", 1);
  cluster.addIdentity("client", 2);
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}});
  std::ofstream(cluster.dir() / "schema.sql") << "CREATE TABLE IF NOT EXISTS hits (n INTEGER, at TEXT);\n";
  cluster.startNode("worker", "",
                    {{"strata.plugins", "sql"},
                     {"strata.data_dir", (cluster.dir() / "data").string()},
                     {"strata.plugin.sql.init", (cluster.dir() / "schema.sql").string()},
                     {"strata.plugin.sql.statement.hit", "INSERT INTO hits (n, at) VALUES (:n, :at)"},
                     {"strata.worker.capacity", "128"},
                     {"strata.worker.threads", "4"},
                     {"strata.heartbeat_ms", "1000"}});
  nodes::Client client(cluster.clientOptions("client"));
  nodes::OutgoingRequest prototype{"sql.query",
                                   {R"({"statement": "hit", "params": {"n": 1, "at": "2026-11-27T10:00:00Z"}})"},
                                   {{"content-type", "application/json"}},
                                   30s,
                                   {}};
  nodes::runLoad(client, prototype, requests / 20, 16);
  auto one = rateOf(nodes::runLoad(client, prototype, requests / 4, 1));
  auto many = rateOf(nodes::runLoad(client, prototype, requests, 16));
  return {one, many};
}

// echo one at a time through the HTTP gateway (one keep-alive connection) against the
// same echo called directly with a bus client, on the same broker and worker.
std::pair<Rate, Rate> gatewayAgainstClient(std::uint64_t requests) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("worker", 2);
  cluster.addIdentity("gateway", 4);
  cluster.addIdentity("client", 4);
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}});
  cluster.startNode("worker", "echo", {{"strata.heartbeat_ms", "1000"}});
  auto config = cluster.writeConfig("gateway.properties",
                                    {{"strata.brokers", cluster.brokerEndpoint()},
                                     {"strata.key", cluster.keyFile("gateway").string()},
                                     {"strata.broker_key", cluster.pubFile("broker").string()},
                                     {"strata.plugins", "http"},
                                     {"strata.data_dir", (cluster.dir() / "data").string()},
                                     {"strata.plugin.http.listen", "127.0.0.1:0"},
                                     {"strata.plugin.http.anonymous_layer", "4"}});
  auto& gateway = cluster.startProcess(test::nodeBinary(), {"--config", config.string()}, "gateway.log");
  if (!gateway.waitForLog("http gateway listening on", 15s)) throw std::runtime_error("gateway: " + gateway.log());
  std::smatch match;
  auto log = gateway.log();
  if (!std::regex_search(log, match, std::regex("listening on http://127\\.0\\.0\\.1:([0-9]+)"))) {
    throw std::runtime_error("no gateway address in its log");
  }
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(std::stoi(match[1])));
  session.setKeepAlive(true);
  auto post = [&](std::uint64_t count) {
    std::vector<std::uint64_t> latencies;
    std::uint64_t errors = 0;
    auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
      auto before = std::chrono::steady_clock::now();
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/v1/services/echo",
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("text/plain");
      request.setContentLength(5);
      session.sendRequest(request) << "hello";
      Poco::Net::HTTPResponse response;
      std::string body;
      Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
      if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK || body != "hello") ++errors;
      latencies.push_back(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - before).count()));
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return Rate{static_cast<double>(count) / seconds, static_cast<double>(nodes::percentile(latencies, 0.50)),
                static_cast<double>(nodes::percentile(latencies, 0.99)), errors};
  };
  nodes::Client client(cluster.clientOptions("client"));
  nodes::OutgoingRequest prototype{"echo", {"hello"}, {}, 30s, {}};
  post(requests / 10);
  nodes::runLoad(client, prototype, requests / 10, 1);
  // Alternate halves so a burst of load elsewhere on the machine hits both paths.
  auto http1 = post(requests / 2);
  auto direct1 = rateOf(nodes::runLoad(client, prototype, requests / 2, 1));
  auto http2 = post(requests / 2);
  auto direct2 = rateOf(nodes::runLoad(client, prototype, requests / 2, 1));
  auto mean = [](const Rate& a, const Rate& b) {
    return Rate{(a.perSecond + b.perSecond) / 2, (a.p50 + b.p50) / 2, (a.p99 + b.p99) / 2, a.errors + b.errors};
  };
  return {mean(http1, http2), mean(direct1, direct2)};
}

}  // namespace

int runPluginBench(std::uint64_t requests) {
  std::cout << "strata-bench plugins: calls to the pricing module (examples/orders), one run\n\n";
  std::cout << "  " << std::left << std::setw(44) << "path" << std::setw(8) << "window" << std::right << std::setw(12)
            << "calls/s" << std::setw(10) << "p50_us" << std::setw(10) << "p99_us" << std::setw(8) << "errors"
            << "\n";
  auto local = inProcess(requests * 10);
  auto [one, hundred] = brokered(requests);
  printRate("layer-3 module, in process (C ABI)", 1, local);
  printRate("same module through a broker (CURVE)", 1, one);
  printRate("same module through a broker (CURVE)", 100, hundred);
  std::cout << "\n  in process / brokered, 1 in flight: " << std::setprecision(0) << local.perSecond / one.perSecond
            << " times the calls per second; p50 " << std::setprecision(2) << local.p50 << " us against " << one.p50
            << " us\n";
  auto [sqlOne, sqlMany] = sqlInserts(requests / 4);
  auto [http, direct] = gatewayAgainstClient(requests / 4);
  std::cout << "\n";
  printRate("sql.query insert, SQLite, through a broker", 1, sqlOne);
  printRate("sql.query insert, SQLite, through a broker", 16, sqlMany);
  printRate("echo through the HTTP gateway (keep-alive)", 1, http);
  printRate("echo through a bus client (strata call)", 1, direct);
  std::cout << "\n  HTTP gateway / bus client, 1 in flight: " << std::setprecision(2) << http.perSecond / direct.perSecond
            << "\n";
  auto errors = local.errors + one.errors + hundred.errors + sqlOne.errors + sqlMany.errors + http.errors + direct.errors;
  return errors == 0 ? 0 : 1;
}

}  // namespace strata::bench
