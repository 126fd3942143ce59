#include "admin_bench.h"

#include <atomic>
#include <iomanip>
#include <iostream>
#include <regex>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "bench_process.h"
#include "cluster.h"

namespace strata::bench {
namespace {

constexpr int kWorkers = 2;
constexpr std::uint64_t kWindow = 100;
constexpr std::chrono::milliseconds kScrapeEvery{1000};

struct Result {
  double reqPerSec = 0;
  double cpuBroker = 0;  // microseconds per request
  std::uint64_t scrapes = 0;
  std::uint64_t errors = 0;
};

// Reads url's /metrics every kScrapeEvery until stopped, on a thread of its own.
class Scraper {
 public:
  explicit Scraper(std::string url) : url_(std::move(url)), thread_([this] { run(); }) {}
  ~Scraper() {
    stop_ = true;
    thread_.join();
  }
  std::uint64_t scrapes() const { return scrapes_; }

 private:
  void run() {
    Poco::URI uri(url_);
    while (!stop_) {
      try {
        Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        if (response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK && !body.empty()) ++scrapes_;
      } catch (const std::exception&) {
        // Counted by what did not succeed.
      }
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(kScrapeEvery / 10);  // the scrape interval
    }
  }

  std::string url_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> scrapes_{0};
  std::thread thread_;
};

Result measure(bool admin, std::uint64_t requests) {
  test::Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("client", 4);
  for (int i = 0; i < kWorkers; ++i) cluster.addIdentity("worker-" + std::to_string(i), 2);
  std::map<std::string, std::string> broker{{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}};
  if (admin) broker["strata.admin.bind"] = "127.0.0.1:0";
  cluster.startBroker(broker);
  for (int i = 0; i < kWorkers; ++i) {
    cluster.startNode("worker-" + std::to_string(i), "echo",
                      {{"strata.worker.capacity", "128"}, {"strata.log.level", "warning"}, {"strata.heartbeat_ms", "1000"}});
  }
  std::unique_ptr<Scraper> scraper;
  if (admin) {
    std::smatch match;
    auto log = cluster.broker().log();
    if (!std::regex_search(log, match, std::regex("admin listening on (http://127\\.0\\.0\\.1:[0-9]+)"))) {
      throw std::runtime_error("the broker's admin endpoint did not start:\n" + log);
    }
    scraper = std::make_unique<Scraper>(match[1]);
  }
  auto args = [&](std::uint64_t n) {
    return std::vector<std::string>{"call", "--config", cluster.clientConfig("client").string(), "echo",
                                    std::string(64, 'x'), "--repeat", std::to_string(n), "--window",
                                    std::to_string(kWindow), "--timeout", "30000"};
  };
  runClient(test::cliBinary(), args(requests / 10), cluster.dir() / "warmup.log", "requests");
  auto before = cpuTicks(cluster.broker().pid());
  auto run = runClient(test::cliBinary(), args(requests), cluster.dir() / "client.log", "requests");
  auto after = cpuTicks(cluster.broker().pid());
  Result r;
  r.reqPerSec = decimalIn(run.summary, "req_per_s");
  r.errors = numberIn(run.summary, "errors");
  r.cpuBroker = microsecondsPer(after - before, numberIn(run.summary, "ok"));
  if (scraper) r.scrapes = scraper->scrapes();
  return r;
}

}  // namespace

int runAdminBench(std::uint64_t requests, int rounds) {
  std::cout << "strata-bench admin: strata call --repeat " << requests << " (64 B, " << kWindow
            << " in flight) -> strata-broker -> " << kWorkers
            << " strata-node echo workers, CURVE; the broker without and with its admin endpoint, scraped on /metrics "
               "every second\n\n";
  auto medians = medianOfRounds<bool, Result>(
      {false, true}, rounds, [&](bool admin) { return measure(admin, requests); },
      [](const Result& a, const Result& b) { return a.reqPerSec < b.reqPerSec; });
  std::cout << std::left << std::setw(22) << "broker" << std::right << std::setw(10) << "req/s" << std::setw(14)
            << "cpu_broker_us" << std::setw(9) << "scrapes" << std::setw(8) << "errors" << "\n";
  for (bool admin : {false, true}) {
    const auto& r = medians[admin];
    std::cout << std::left << std::setw(22) << (admin ? "admin on, scraped" : "admin off") << std::right << std::fixed
              << std::setprecision(0) << std::setw(10) << r.reqPerSec << std::setprecision(2) << std::setw(14)
              << r.cpuBroker << std::setw(9) << r.scrapes << std::setw(8) << r.errors << "\n";
  }
  std::cout << "\neach row: median of " << rounds << " alternating rounds of fresh processes, by req/s\n"
            << "with admin / without: " << ratio(medians[true].reqPerSec, medians[false].reqPerSec)
            << " (target: at least 0.97)\n";
  return 0;
}

}  // namespace strata::bench
