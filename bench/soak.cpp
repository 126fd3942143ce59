#include "soak.h"

#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include <strata/nodes/client.h>

#include "cluster.h"
#include "proc_stats.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;

constexpr int kWorkers = 2;
constexpr const char* kWindow = "100";
constexpr const char* kTimeoutMs = "10000";  // the deadlines whose bookkeeping must not pile up
constexpr std::chrono::seconds kWarmup{20};

// A whole-number field of the broker's strata.stats JSON, or 0.
std::uint64_t statOf(const std::string& json, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(json, match, std::regex("\"" + name + "\":([0-9]+)"))) return 0;
  return std::stoull(match[1].str());
}

}  // namespace

int runSoak(std::chrono::seconds duration, std::chrono::seconds interval) {
  test::Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  for (int i = 0; i < kWorkers; ++i) cluster.addIdentity("worker-" + std::to_string(i), 2);
  cluster.addIdentity("client", 4);
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}});
  pid_t broker = cluster.broker().pid();
  for (int i = 0; i < kWorkers; ++i) {
    cluster.startNode("worker-" + std::to_string(i), "echo",
                      {{"strata.worker.capacity", "128"}, {"strata.log.level", "warning"}});
  }
  // More requests than the run can send (no path here nears this rate): the load stops
  // when the client is stopped. Not far more: the client keeps each latency.
  constexpr std::uint64_t kCeilingPerSecond = 400'000;  // twice the rate batches reach here
  auto repeat = std::to_string(kCeilingPerSecond * static_cast<std::uint64_t>(duration.count() + 60));
  auto& load = cluster.startProcess(test::cliBinary(),
                                    {"call", "--config", cluster.clientConfig("client").string(), "echo",
                                     std::string(64, 'x'), "--repeat", repeat, "--window", kWindow,
                                     "--timeout", kTimeoutMs},
                                    "load.log");
  nodes::Client stats(cluster.clientOptions("client"));

  std::cout << "strata-bench soak: 1 broker, " << kWorkers << " echo workers, strata call --repeat at window "
            << kWindow << " with " << kTimeoutMs << " ms deadlines, for " << duration.count() << " s\n\n"
            << std::left << std::setw(8) << "t_s" << std::right << std::setw(12) << "rss_kib" << std::setw(14)
            << "requests" << std::setw(10) << "req/s" << std::setw(10) << "pending" << std::setw(11) << "deadlines"
            << std::endl;
  auto start = std::chrono::steady_clock::now();
  std::uint64_t firstRss = 0;
  std::uint64_t lastRss = 0;
  std::uint64_t maxRss = 0;
  std::uint64_t lastRequests = 0;
  auto lastAt = start;
  for (auto next = start + interval; next <= start + duration; next += interval) {
    std::this_thread::sleep_until(next);  // the sampling period itself, not a wait for a condition
    if (!load.running()) throw std::runtime_error("the load stopped early:\n" + load.log());
    auto reply = stats.call(std::string(codecs::kStatsService), "", 5s);
    auto now = std::chrono::steady_clock::now();
    auto rss = rssKiB(broker);
    auto requests = statOf(reply.bodyText(), "requests");
    double rate = static_cast<double>(requests - lastRequests) / std::chrono::duration<double>(now - lastAt).count();
    lastRequests = requests;
    lastAt = now;
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - start);
    if (elapsed >= kWarmup && firstRss == 0) firstRss = rss;
    if (firstRss != 0) maxRss = std::max(maxRss, rss);
    lastRss = rss;
    std::cout << std::left << std::setw(8) << elapsed.count() << std::right << std::setw(12) << rss << std::setw(14)
              << requests << std::setw(10) << std::fixed << std::setprecision(0) << rate << std::setw(10)
              << statOf(reply.bodyText(), "pending") << std::setw(11) << statOf(reply.bodyText(), "deadlines")
              << std::endl;
  }
  load.signal(SIGINT);
  (void)load.wait(10s);
  std::cout << "\nbroker resident memory after warm-up: first " << firstRss << " KiB, last " << lastRss
            << " KiB, highest " << maxRss << " KiB (" << std::showpos
            << static_cast<long long>(lastRss) - static_cast<long long>(firstRss) << std::noshowpos
            << " KiB from first to last)\n";
  return 0;
}

}  // namespace strata::bench
