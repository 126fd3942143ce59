#include "plugin_bench.h"

#include <iomanip>
#include <iostream>

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
  return local.errors + one.errors + hundred.errors == 0 ? 0 : 1;
}

}  // namespace strata::bench
