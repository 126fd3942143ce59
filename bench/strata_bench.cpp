// strata-bench: request/reply throughput and latency over CURVE through Strata's own
// topologies (broker, direct mode, a pool, durable requests, a broker killed under load),
// plus the broker's memory with many idle clients; and its subcommands: e2e (end_to_end.h),
// events (events_bench.h), watch (watch_bench.h), admin (admin_bench.h), soak (soak.h), plugins (plugin_bench.h). docs/performance.md
// explains the output.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <iomanip>
#include <iostream>
#include <map>
#include <thread>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include <strata/codecs/wire_codec.h>
#include <strata/core/socket_setup.h>
#include <strata/nodes/cli.h>
#include <strata/nodes/client.h>

#include "cluster.h"
#include "proc_stats.h"
#include "end_to_end.h"
#include "admin_bench.h"
#include "events_bench.h"
#include "watch_bench.h"
#include "plugin_bench.h"
#include "soak.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;
using test::Cluster;
using test::Process;

constexpr std::uint32_t kWorkerCapacity = 128;  // above the widest window, so direct mode never refuses
constexpr std::chrono::seconds kStartTimeout{15};
constexpr int kRounds = 3;  // throughput rows are the median of this many alternating rounds

struct Scenario {
  std::string path;  // broker, direct, pool, durable
  int workers = 1;
  std::size_t body = 64;
  std::uint64_t window = 100;
  std::uint64_t requests = 0;
};

struct Result {
  Scenario scenario;
  double reqPerSec = 0;
  std::uint64_t p50 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t errors = 0;
};

void prepareKeys(Cluster& cluster) {
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("worker", 2);  // every worker uses this key, so direct-mode clients know one server key
  cluster.addIdentity("client", 4);
}

std::map<std::string, std::string> workerSettings() {
  return {{"strata.worker.capacity", std::to_string(kWorkerCapacity)}, {"strata.log.level", "warning"},
          {"strata.heartbeat_ms", "1000"}};
}

// Starts the path's server side and returns the options a client uses to reach it.
nodes::ClientOptions startPath(Cluster& cluster, const Scenario& s) {
  auto options = cluster.clientOptions("client");
  if (s.path == "broker" || s.path == "durable") {
    std::map<std::string, std::string> settings{{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}};
    if (s.path == "durable") settings["strata.journal"] = (cluster.dir() / "journal.db").string();
    cluster.startBroker(settings);
    for (int i = 0; i < s.workers; ++i) {
      auto extra = workerSettings();
      extra["strata.key"] = cluster.keyFile("worker").string();
      extra["strata.log.level"] = "information";
      cluster.startNode("worker", "echo", extra);
    }
    options.endpoints = {cluster.brokerEndpoint()};
  } else if (s.path == "pool") {
    auto endpointA = cluster.startBroker({{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}});
    auto [brokerB, endpointB] = cluster.startExtraBroker("broker-b", {{"strata.heartbeat_ms", "1000"}});
    for (int i = 0; i < s.workers; ++i) {
      auto extra = workerSettings();
      extra["strata.key"] = cluster.keyFile("worker").string();
      extra["strata.log.level"] = "information";
      extra["strata.brokers"] = endpointA + "," + endpointB;
      cluster.startNode("worker", "echo", extra);
    }
    if (!brokerB.waitForLog("ready with credit", kStartTimeout, static_cast<std::size_t>(s.workers))) {
      throw std::runtime_error("workers did not reach the second broker");
    }
    options.endpoints = {endpointA, endpointB};
  } else {
    options.endpoints.clear();
    for (int i = 0; i < s.workers; ++i) {
      auto settings = workerSettings();
      settings["strata.node.bind"] = "tcp://127.0.0.1:*";
      settings["strata.key"] = cluster.keyFile("worker").string();
      settings["strata.authorized_keys"] = (cluster.dir() / "authorized_keys").string();
      settings["strata.services"] = "echo";
      settings["strata.node.name"] = "direct-" + std::to_string(i);
      settings["strata.log.level"] = "information";
      auto name = "direct-" + std::to_string(i);
      auto config = cluster.writeConfig(name + ".properties", settings);
      auto& node = cluster.startProcess(test::nodeBinary(), {"--config", config.string()}, name + ".log");
      auto endpoint = node.waitForEndpoint("listening on", kStartTimeout);
      if (endpoint.empty()) throw std::runtime_error("direct node did not start: " + node.log());
      options.endpoints.push_back(endpoint);
    }
    options.serverKey = core::loadPublicKey(cluster.pubFile("worker"));
  }
  return options;
}

Result measure(const Scenario& s, std::uint64_t warmup) {
  Cluster cluster;
  prepareKeys(cluster);
  nodes::Client client(startPath(cluster, s));
  nodes::OutgoingRequest prototype;
  prototype.service = "echo";
  prototype.body = {std::string(s.body, 'x')};
  prototype.timeout = 30s;
  if (s.path == "durable") prototype.headers = {{"strata-durable", "1"}};
  // Warm up: connections made, every worker reached, caches hot.
  nodes::runLoad(client, prototype, warmup, s.window);
  auto summary = nodes::runLoad(client, prototype, s.requests, s.window);
  Result r{s};
  r.reqPerSec = static_cast<double>(summary.requests) / summary.seconds;
  r.p50 = nodes::percentile(summary.latenciesUs, 0.50);
  r.p99 = nodes::percentile(summary.latenciesUs, 0.99);
  r.errors = summary.errors;
  return r;
}

// A pool of two brokers under load, one killed with SIGKILL a third of the way in: the
// client's longest wait between two answers, and p99 latency over the whole run.
void measureBrokerKill(std::uint64_t requests) {
  Cluster cluster;
  prepareKeys(cluster);
  auto options = startPath(cluster, Scenario{"pool", 2, 64, 100, requests});
  nodes::Client client(options);
  std::mutex mutex;
  std::condition_variable done;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t errors = 0;
  std::vector<std::uint64_t> latencies;
  auto last = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration stall{};
  std::function<void()> sendOne = [&] {
    ++sent;
    auto at = std::chrono::steady_clock::now();
    client.callAsync(nodes::OutgoingRequest{"echo", {std::string(64, 'x')}, {}, 30s, {}}, [&, at](nodes::Response&& r) {
      std::lock_guard lock(mutex);
      auto now = std::chrono::steady_clock::now();
      stall = std::max(stall, now - last);
      last = now;
      latencies.push_back(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - at).count()));
      errors += r.ok ? 0 : 1;
      if (++answered == requests / 3) cluster.broker().signal(SIGKILL);
      if (sent < requests) sendOne();
      if (answered == requests) done.notify_all();
    });
  };
  {
    std::lock_guard lock(mutex);
    for (int i = 0; i < 100; ++i) sendOne();
  }
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return answered == requests; });
  std::cout << "\nbroker killed under load (pool of 2, 2 workers, 100 in flight, client pings every "
            << options.pingInterval.count() << " ms): " << requests << " requests, " << errors
            << " errors, resent " << client.resent() << ", longest stall "
            << std::chrono::duration_cast<std::chrono::milliseconds>(stall).count() << " ms, p99 "
            << nodes::percentile(latencies, 0.99) << " us\n";
}

// The disk's own limit for durable writes: how many small write + fdatasync pairs it
// completes in a second, in the same directory the journal uses.
double fsyncsPerSecond() {
  Cluster cluster;
  auto path = cluster.dir() / "fsync.probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::string block(64, 'x');
  std::uint64_t count = 0;
  auto start = std::chrono::steady_clock::now();
  auto end = start + 1s;
  while (std::chrono::steady_clock::now() < end) {
    if (::write(fd, block.data(), block.size()) < 0 || ::fdatasync(fd) != 0) break;
    ++count;
  }
  ::close(fd);
  return static_cast<double>(count) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Connects idle clients to a broker (each makes one call so its handshake is done) and
// reports the broker's resident memory before and after.
void measureIdleClients(int clients) {
  Cluster cluster;
  prepareKeys(cluster);
  cluster.startBroker();
  auto before = rssKiB(cluster.broker().pid());
  zmq::context_t context(1);
  context.set(zmq::ctxopt::max_sockets, clients + 64);
  auto secret = core::loadSecretKey(cluster.keyFile("client"));
  auto serverKey = core::loadPublicKey(cluster.pubFile("broker"));
  std::vector<zmq::socket_t> sockets;
  sockets.reserve(static_cast<std::size_t>(clients));
  for (int i = 0; i < clients; ++i) {
    sockets.emplace_back(context, zmq::socket_type::dealer);
    core::makeCurveClient(sockets.back(), secret, serverKey, core::Limits{});
    sockets.back().connect(cluster.brokerEndpoint());
    auto frames = codecs::encode(codecs::Request{core::MessageId::generate(), "strata.stats", 30000, {}, {}, {}});
    for (std::size_t f = 0; f < frames.size(); ++f) {
      sockets.back().send(zmq::buffer(frames[f]), f + 1 < frames.size() ? zmq::send_flags::sndmore
                                                                         : zmq::send_flags::none);
    }
  }
  int answered = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::vector<bool> done(sockets.size(), false);
  while (answered < clients && std::chrono::steady_clock::now() < deadline) {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : sockets) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), 1000ms);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::message_t part;
      while (sockets[i].recv(part, zmq::recv_flags::dontwait)) {
        if (!part.more() && !done[i]) {
          done[i] = true;
          ++answered;
        }
      }
    }
  }
  auto after = rssKiB(cluster.broker().pid());
  std::cout << "\nbroker memory with " << answered << " of " << clients << " idle CURVE clients connected: "
            << before / 1024 << " MiB before, " << after / 1024 << " MiB after, "
            << std::fixed << std::setprecision(1) << static_cast<double>(after - before) / answered
            << " KiB per client\n";
}

void printRow(const Result& r) {
  std::cout << std::left << std::setw(11) << r.scenario.path << std::setw(9) << r.scenario.workers << std::setw(7)
            << r.scenario.body << std::setw(8) << r.scenario.window << std::right << std::setw(10) << std::fixed
            << std::setprecision(0) << r.reqPerSec << std::setw(10) << r.p50 << std::setw(10) << r.p99
            << std::setw(8) << r.errors << std::endl;
}

int runBench(std::uint64_t requests, std::uint64_t latencyRequests, int idleClients) {
  std::cout << "strata-bench: echo over CURVE on loopback through Strata's own topologies, with one client and "
               "worker code on every path (strata-bench e2e compares with ZeroMQ programs and NATS)\n\n";
  std::cout << std::left << std::setw(11) << "path" << std::setw(9) << "workers" << std::setw(7) << "body"
            << std::setw(8) << "window" << std::right << std::setw(10) << "req/s" << std::setw(10) << "p50_us"
            << std::setw(10) << "p99_us" << std::setw(8) << "errors" << "\n";
  // The paths take turns, round after round, and each row is the median round: a burst of
  // load from elsewhere on a shared machine then moves one round, not the ratio.
  for (std::size_t body : {std::size_t{64}, std::size_t{1024}}) {
    for (int workers : {1, 2}) {
      std::map<std::string, std::vector<Result>> rounds;
      for (int round = 0; round < kRounds; ++round) {
        for (const char* path : {"broker", "direct"}) {
          rounds[path].push_back(measure(Scenario{path, workers, body, 100, requests}, requests / 10));
        }
      }
      for (const char* path : {"broker", "direct"}) {
        auto& results = rounds[path];
        std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) { return a.reqPerSec < b.reqPerSec; });
        printRow(results[results.size() / 2]);
      }
    }
  }
  for (const char* path : {"broker", "direct"}) {
    printRow(measure(Scenario{path, 1, 64, 1, latencyRequests}, latencyRequests / 10));
  }
  auto single = measure(Scenario{"broker", 2, 64, 100, requests}, requests / 10);
  auto pool = measure(Scenario{"pool", 2, 64, 100, requests}, requests / 10);
  printRow(single);
  printRow(pool);
  auto plain = measure(Scenario{"broker", 1, 64, 100, requests}, requests / 10);
  auto durable = measure(Scenario{"durable", 1, 64, 100, requests}, requests / 10);
  printRow(plain);
  printRow(durable);
  auto fsyncs = fsyncsPerSecond();
  std::cout << "\ndurable / plain through the broker (64 B, 1 worker, window 100): " << std::setprecision(2)
            << durable.reqPerSec / plain.reqPerSec << "\n"
            << "durable requests per second / the disk's fsyncs per second (" << std::setprecision(0) << fsyncs
            << "): " << std::setprecision(1) << durable.reqPerSec / fsyncs << " (over 1: commits are grouped)\n";
  std::cout << "pool of two brokers / one broker (64 B, 2 workers, window 100): " << std::setprecision(2)
            << pool.reqPerSec / single.reqPerSec << "\n";
  measureBrokerKill(requests * 2);
  if (idleClients > 0) measureIdleClients(idleClients);
  return 0;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  CLI::App app{"strata-bench: Strata's topologies (broker, direct, pool, durable), and e2e and events against bare "
               "ZeroMQ programs and NATS"};
  std::uint64_t requests = 20'000;
  std::uint64_t latencyRequests = 5'000;
  int idleClients = 1000;
  app.add_option("--requests", requests, "requests per throughput measurement")->check(CLI::Range(100, 10'000'000));
  app.add_option("--latency-requests", latencyRequests, "requests per latency measurement (1 in flight)")
      ->check(CLI::Range(10, 1'000'000));
  app.add_option("--idle-clients", idleClients, "idle clients for the memory measurement (0: skip)")
      ->check(CLI::Range(0, 10'000));
  auto* plugins = app.add_subcommand("plugins", "measure plug-ins: a layer-3 module in process against a brokered "
                                                "call, and the integrations' request rates");
  // fallthrough: `strata-bench e2e --requests N` passes the option on to the main app.
  auto* e2e = app.add_subcommand("e2e", "compare Strata, bare ZeroMQ programs and NATS end to end, each path with "
                                        "its own client, middle and worker processes")
                  ->fallthrough();
  auto* soak = app.add_subcommand("soak", "the broker's memory under full load over a long run");
  int soakSeconds = 600;
  int soakInterval = 30;
  soak->add_option("--seconds", soakSeconds, "how long to run (default 600)")->check(CLI::Range(30, 86'400));
  soak->add_option("--interval", soakInterval, "seconds between samples (default 30)")->check(CLI::Range(1, 3600));
  std::string only;
  e2e->add_option("--only", only, "run one path alone (strata, bare, nats or nats-tls), e.g. to profile it");
  std::size_t e2eBody = 0;
  e2e->add_option("--body", e2eBody, "one body size alone for the throughput rows (64 or 1024; default both)")
      ->check(CLI::IsMember({64, 1024}));
  auto* events = app.add_subcommand("events", "publish/subscribe fan-out to 1, 10 and 100 subscribers: Strata, bare "
                                              "ZeroMQ programs and NATS, each publisher, middle and subscriber its "
                                              "own process");
  std::uint64_t eventCount = 200'000;
  std::uint64_t eventRate = 2'000;
  std::uint64_t latencyEvents = 5'000;
  std::string eventsOnly;
  events->add_option("--events", eventCount, "events per throughput run (default 200000; a tenth at 100 subscribers)")
      ->check(CLI::Range(100, 100'000'000));
  events->add_option("--rate", eventRate, "events per second of the paced latency runs (default 2000; a tenth at 100 "
                                          "subscribers)")
      ->check(CLI::Range(10, 1'000'000));
  events->add_option("--latency-events", latencyEvents, "events per latency run (default 5000; a tenth at 100 "
                                                        "subscribers)")
      ->check(CLI::Range(100, 10'000'000));
  events->add_option("--only", eventsOnly, "run one path alone (strata, bare or nats), e.g. to profile it");
  std::vector<int> fanOuts{1, 10, 100};
  events->add_option("--subscribers", fanOuts, "the fan-outs to run (default 1 10 100), e.g. one alone to profile it")
      ->check(CLI::Range(1, 1000));
  auto* watch = app.add_subcommand("watch", "live objects: Strata's store (SQLite, PostgreSQL) against NATS "
                                            "JetStream's key-value store, 1, 100 and 1,000 watches and writes per "
                                            "second, each writer, middle and watcher its own process");
  int watchRounds = 3;
  std::string watchOnly;
  watch->add_option("--rounds", watchRounds, "rounds per row, the median kept (default 3)")->check(CLI::Range(1, 11));
  watch->add_option("--only", watchOnly, "run one path alone (strata-sqlite, strata-pg or nats-kv)");
  auto* adminBench = app.add_subcommand("admin", "what the admin endpoint costs: the broker without and with it, "
                                                 "scraped every second, under the same load");
  std::uint64_t adminRequests = 200'000;
  int adminRounds = 5;
  adminBench->add_option("--requests", adminRequests, "requests per round (default 200000)")
      ->check(CLI::Range(1000, 100'000'000));
  adminBench->add_option("--rounds", adminRounds, "rounds per row, the median kept (default 5)")->check(CLI::Range(1, 21));
  CLI11_PARSE(app, argc, argv);
  try {
    if (*plugins) return strata::bench::runPluginBench(requests);
    if (*soak) return strata::bench::runSoak(std::chrono::seconds(soakSeconds), std::chrono::seconds(soakInterval));
    if (*e2e) return strata::bench::runEndToEnd(requests, latencyRequests, only, e2eBody);
    if (*events) return strata::bench::runEvents(eventCount, eventRate, latencyEvents, eventsOnly, fanOuts);
    if (*watch) return strata::bench::runWatch(watchRounds, watchOnly);
    if (*adminBench) return strata::bench::runAdminBench(adminRequests, adminRounds);
    return strata::bench::runBench(requests, latencyRequests, idleClients);
  } catch (const std::exception& e) {
    std::cerr << "strata-bench: " << e.what() << "\n";
    return 1;
  }
}
