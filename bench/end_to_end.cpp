#include "end_to_end.h"

#include <sys/types.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_process.h"
#include "cluster.h"

namespace strata::bench {
namespace {

namespace fs = std::filesystem;
using test::Cluster;

constexpr int kRounds = 3;              // each throughput and latency row is the median round
constexpr std::uint64_t kWindow = 100;  // requests in flight for the throughput rows
constexpr std::size_t kLatencyBody = 64;
constexpr std::uint64_t kWorkerCredit = 128;  // strata-node capacity and bare-worker credit: above kWindow
constexpr std::uint64_t kWarmupDivisor = 10;  // the warm-up run sends requests / this
constexpr const char* kCallTimeoutMs = "30000";
constexpr const char* kSummaryKey = "requests";  // every client's summary line starts "requests="

enum class Path { kStrata, kBare, kNats, kNatsTls };

const char* nameOf(Path path) {
  switch (path) {
    case Path::kStrata: return "strata";
    case Path::kBare: return "bare";
    case Path::kNats: return "nats";
    case Path::kNatsTls: return "nats-tls";
  }
  return "?";
}

struct Scenario {
  Path path = Path::kStrata;
  int workers = 1;
  std::size_t body = 64;
  std::uint64_t window = kWindow;
  std::uint64_t requests = 0;
  // NATS paths only: libnats writes each message at once (1) or lets its flusher thread
  // gather writes (0).
  bool natsSendAsap = false;
};

struct Result {
  Scenario scenario;
  double reqPerSec = 0;
  std::uint64_t p50 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t errors = 0;
  // CPU microseconds (user + system) per answered request, over the timed run.
  double cpuClient = 0;
  double cpuMiddle = 0;
  double cpuWorkers = 0;  // all workers together
};

// The server side of one path, running: the processes to watch and how a client reaches it.
struct RunningPath {
  pid_t middle = -1;
  std::vector<pid_t> workers;
  std::string clientProgram;
  std::function<std::vector<std::string>(std::uint64_t requests)> clientArgs;
};

std::string workerName(int i) { return "worker-" + std::to_string(i); }

RunningPath startStrata(Cluster& cluster, const Scenario& s) {
  // At information the broker logs each worker it registers, which startNode waits for.
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}});
  RunningPath path;
  path.middle = cluster.broker().pid();
  for (int i = 0; i < s.workers; ++i) {
    auto& node = cluster.startNode(workerName(i), "echo",
                                   {{"strata.worker.capacity", std::to_string(kWorkerCredit)},
                                    {"strata.log.level", "warning"},
                                    {"strata.heartbeat_ms", "1000"}});
    path.workers.push_back(node.pid());
  }
  path.clientProgram = test::cliBinary();
  path.clientArgs = [config = cluster.clientConfig("client").string(), s](std::uint64_t requests) {
    return std::vector<std::string>{"call",     "--config", config, "echo",   std::string(s.body, 'x'),
                                    "--repeat", std::to_string(requests), "--window", std::to_string(s.window),
                                    "--timeout", kCallTimeoutMs};
  };
  return path;
}

RunningPath startBare(Cluster& cluster, const Scenario& s) {
  auto& forwarder = cluster.startProcess(
      benchProgram("bare-forwarder"),
      {"--key", (cluster.dir() / "broker").string(), "--authorized-keys", (cluster.dir() / "authorized_keys").string()},
      "bare-forwarder.log");
  auto frontend = forwarder.waitForEndpoint("frontend listening on", kStartTimeout);
  auto backend = forwarder.waitForEndpoint("backend listening on", kStartTimeout);
  if (frontend.empty() || backend.empty()) {
    throw std::runtime_error("bare-forwarder did not start:\n" + forwarder.log());
  }
  RunningPath path;
  path.middle = forwarder.pid();
  for (int i = 0; i < s.workers; ++i) {
    auto& worker = cluster.startProcess(benchProgram("bare-worker"),
                                        {"--connect", backend, "--key", (cluster.dir() / workerName(i)).string(),
                                         "--server-key", cluster.pubFile("broker").string(), "--credit",
                                         std::to_string(kWorkerCredit)},
                                        "bare-" + workerName(i) + ".log");
    path.workers.push_back(worker.pid());
  }
  if (!forwarder.waitForLog("worker ready", kStartTimeout, static_cast<std::size_t>(s.workers))) {
    throw std::runtime_error("bare workers did not reach the forwarder:\n" + forwarder.log());
  }
  path.clientProgram = benchProgram("bare-client");
  path.clientArgs = [frontend, key = (cluster.dir() / "client").string(), server = cluster.pubFile("broker").string(),
                     s](std::uint64_t requests) {
    return std::vector<std::string>{"--connect",    frontend, "--key", key, "--server-key", server,
                                    "--requests",   std::to_string(requests), "--window", std::to_string(s.window),
                                    "--body-size",  std::to_string(s.body), "--timeout-ms", kCallTimeoutMs};
  };
  return path;
}

// A self-signed certificate for 127.0.0.1 (Debian's openssl), for the NATS-over-TLS path;
// returns the certificate's path, the key sitting beside it.
fs::path makeCertificate(Cluster& cluster) {
  auto cert = cluster.dir() / "nats-cert.pem";
  auto key = cluster.dir() / "nats-key.pem";
  auto made = test::runProgram("/usr/bin/openssl",
                               {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                "-keyout", key.string(), "-out", cert.string(), "-days", "1", "-subj",
                                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  if (made.exitCode != 0) throw std::runtime_error("openssl could not make a certificate: " + made.err);
  return cert;
}

RunningPath startNats(Cluster& cluster, const Scenario& s, const std::string& natsServer) {
  std::vector<std::string> serverArgs;
  std::vector<std::string> tlsArgs;  // for client and workers
  if (s.path == Path::kNatsTls) {
    auto cert = makeCertificate(cluster);
    serverArgs = {"--tls", "--tlscert", cert.string(), "--tlskey", (cluster.dir() / "nats-key.pem").string()};
    tlsArgs = {"--ca", cert.string()};
  }
  auto server = startNatsServer(cluster, natsServer, serverArgs);
  const std::string url = (s.path == Path::kNatsTls ? "tls://" : "nats://") + server.address;
  const std::string sendAsap = s.natsSendAsap ? "1" : "0";
  RunningPath path;
  path.middle = server.pid;
  for (int i = 0; i < s.workers; ++i) {
    std::vector<std::string> workerArgs{"--url", url, "--send-asap", sendAsap};
    workerArgs.insert(workerArgs.end(), tlsArgs.begin(), tlsArgs.end());
    auto& worker = cluster.startProcess(benchProgram("nats-worker"), workerArgs, "nats-" + workerName(i) + ".log");
    if (!worker.waitForLog("subscribed", kStartTimeout)) {
      throw std::runtime_error("nats-worker did not subscribe:\n" + worker.log());
    }
    path.workers.push_back(worker.pid());
  }
  path.clientProgram = benchProgram("nats-client");
  path.clientArgs = [url, sendAsap, s, tlsArgs](std::uint64_t requests) {
    std::vector<std::string> args{"--url",        url, "--requests", std::to_string(requests),
                                  "--window",     std::to_string(s.window), "--body-size", std::to_string(s.body),
                                  "--timeout-ms", kCallTimeoutMs, "--send-asap", sendAsap};
    args.insert(args.end(), tlsArgs.begin(), tlsArgs.end());
    return args;
  };
  return path;
}

// Fresh processes for one measurement: start the path, warm up with a first client run,
// then time a second one. The middle's and workers' CPU is read right before the timed
// client starts and right after it exits; the client's is its whole process.
Result measure(const Scenario& s, const std::optional<std::string>& natsServer) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  for (int i = 0; i < s.workers; ++i) cluster.addIdentity(workerName(i), 2);
  cluster.addIdentity("client", 4);
  RunningPath path = s.path == Path::kStrata ? startStrata(cluster, s)
                     : s.path == Path::kBare ? startBare(cluster, s)
                                             : startNats(cluster, s, natsServer.value());
  // Warm up: connections and handshakes made, every worker reached, caches hot.
  runClient(path.clientProgram, path.clientArgs(std::max<std::uint64_t>(s.requests / kWarmupDivisor, 1)),
            cluster.dir() / "warmup-client.log", kSummaryKey);
  auto middleBefore = cpuTicks(path.middle);
  std::uint64_t workersBefore = 0;
  for (auto pid : path.workers) workersBefore += cpuTicks(pid);
  auto timed = runClient(path.clientProgram, path.clientArgs(s.requests), cluster.dir() / "client.log", kSummaryKey);
  auto middleAfter = cpuTicks(path.middle);
  std::uint64_t workersAfter = 0;
  for (auto pid : path.workers) workersAfter += cpuTicks(pid);

  Result r{s};
  auto answered = numberIn(timed.summary, "requests");
  r.reqPerSec = static_cast<double>(numberIn(timed.summary, "req_per_s"));
  r.p50 = numberIn(timed.summary, "p50_us");
  r.p99 = numberIn(timed.summary, "p99_us");
  r.errors = numberIn(timed.summary, "errors");
  r.cpuClient = microsecondsPer(timed.cpuTicks, answered);
  r.cpuMiddle = microsecondsPer(middleAfter - middleBefore, answered);
  r.cpuWorkers = microsecondsPer(workersAfter - workersBefore, answered);
  return r;
}

// Runs the paths in turns for kRounds rounds and returns each path's median round, by
// requests per second or, for a latency row, by p50: a burst of load from elsewhere on a
// shared machine then moves one round, not the ratio.
std::map<Path, Result> medianRounds(const std::vector<Path>& paths, Scenario s,
                                    const std::optional<std::string>& natsServer, bool byLatency) {
  return medianOfRounds<Path, Result>(
      paths, kRounds,
      [&](Path path) {
        s.path = path;
        bool nats = path == Path::kNats || path == Path::kNatsTls;
        // libnats's flusher gathers writes and waits about a millisecond for more: a
        // millisecond per hop with one request in flight, and with a window it is faster or
        // slower than sending each at once by the body's size (at 64 B a window of 100
        // fills its buffer too slowly). Window rows run both each round and keep the faster.
        s.natsSendAsap = s.window == 1;
        if (!nats || s.window == 1) return measure(s, natsServer);
        auto gathered = measure(s, natsServer);
        s.natsSendAsap = true;
        auto asap = measure(s, natsServer);
        return asap.reqPerSec > gathered.reqPerSec ? asap : gathered;
      },
      [byLatency](const Result& a, const Result& b) { return byLatency ? a.p50 < b.p50 : a.reqPerSec < b.reqPerSec; });
}

void printHeader() {
  std::cout << std::left << std::setw(10) << "path" << std::setw(9) << "workers" << std::setw(7) << "body"
            << std::setw(8) << "window" << std::right << std::setw(10) << "req/s" << std::setw(9) << "p50_us"
            << std::setw(9) << "p99_us" << std::setw(8) << "errors" << std::setw(12) << "cpu_client"
            << std::setw(12) << "cpu_middle" << std::setw(13) << "cpu_workers" << std::endl;
}

void printRow(const Result& r) {
  std::cout << std::left << std::setw(10) << nameOf(r.scenario.path) << std::setw(9) << r.scenario.workers
            << std::setw(7) << r.scenario.body << std::setw(8) << r.scenario.window << std::right << std::fixed
            << std::setprecision(0) << std::setw(10) << r.reqPerSec << std::setw(9) << r.p50 << std::setw(9) << r.p99
            << std::setw(8) << r.errors << std::setprecision(1) << std::setw(12) << r.cpuClient << std::setw(12)
            << r.cpuMiddle << std::setw(13) << r.cpuWorkers << std::endl;
}

}  // namespace

int runEndToEnd(std::uint64_t requests, std::uint64_t latencyRequests, const std::string& only, std::size_t body) {
  std::cout << "strata-bench e2e: echo request/reply on loopback; each path has its own client, middle and worker "
               "processes\n"
               "  strata: strata call --repeat -> strata-broker -> strata-node (echo); CURVE on every hop\n"
               "  bare:   bare-client -> bare-forwarder -> bare-worker (bench/bare); CURVE on every hop, "
               "[16-byte id][body]\n"
               "  nats:   nats-client -> nats-server -> nats-worker (bench/nats); plain TCP\n"
               "  nats-tls: the same over TLS (a self-signed certificate that client and workers trust)\n"
               "          at window "
            << kWindow << " each round runs libnats's write gathering and send-asap and keeps the faster; "
               "send-asap at window 1\n";
  auto natsServer = natsServerOrExplain("nats-client", "nats-worker");
  std::vector<Path> paths{Path::kStrata, Path::kBare};
  if (natsServer) {
    paths.push_back(Path::kNats);
    paths.push_back(Path::kNatsTls);
  }
  if (!only.empty()) {
    // One path alone, for profiling it; the ratios then say n/a.
    std::erase_if(paths, [&](Path p) { return only != nameOf(p); });
    if (paths.empty()) throw std::runtime_error("--only takes strata, bare, nats or nats-tls (the last two need nats-server)");
  }
  std::cout << "each row: median of " << kRounds << " alternating rounds of fresh processes, after a warm-up of a "
            << "tenth of the requests; cpu_*: CPU microseconds (user + system) per request over the timed run, of "
               "the client, the middle (strata-broker, bare-forwarder, nats-server) and all workers together\n";
  // /proc counts CPU time in clock ticks, so a figure per request is only this fine.
  std::cout << "cpu_* resolution: one clock tick (" << std::fixed << std::setprecision(0)
            << microsecondsPer(1, 1) << " us) per run, " << std::setprecision(2)
            << microsecondsPer(1, requests) << " us per request at window " << kWindow << ", "
            << microsecondsPer(1, latencyRequests) << " at window 1\n\n";
  printHeader();

  std::map<std::pair<std::size_t, int>, std::map<Path, Result>> throughput;
  for (std::size_t size : {std::size_t{64}, std::size_t{1024}}) {
    if (body != 0 && size != body) continue;
    for (int workers : {1, 2}) {
      auto medians = medianRounds(paths, Scenario{Path::kStrata, workers, size, kWindow, requests}, natsServer, false);
      for (const auto& [path, result] : medians) printRow(result);
      throughput[{size, workers}] = medians;
    }
  }
  auto latency = medianRounds(paths, Scenario{Path::kStrata, 1, kLatencyBody, 1, latencyRequests}, natsServer, true);
  for (const auto& [path, result] : latency) printRow(result);

  auto rateOf = [](const std::map<Path, Result>& row, Path path) {
    auto it = row.find(path);
    return it == row.end() ? 0.0 : it->second.reqPerSec;
  };
  std::cout << "\nrequests per second at window " << kWindow << ", strata / bare, strata / nats and strata / nats-tls:\n";
  for (const auto& [key, row] : throughput) {
    std::cout << "  " << key.first << " B, " << key.second << " worker(s): strata/bare "
              << ratio(rateOf(row, Path::kStrata), rateOf(row, Path::kBare)) << "  strata/nats "
              << ratio(rateOf(row, Path::kStrata), rateOf(row, Path::kNats)) << "  strata/nats-tls "
              << ratio(rateOf(row, Path::kStrata), rateOf(row, Path::kNatsTls)) << "\n";
  }
  std::cout << "\nCPU per request at window " << kWindow << ", strata / bare, by process role:\n";
  for (const auto& [key, row] : throughput) {
    if (!row.contains(Path::kStrata) || !row.contains(Path::kBare)) continue;
    const auto& strata = row.at(Path::kStrata);
    const auto& bare = row.at(Path::kBare);
    std::cout << "  " << key.first << " B, " << key.second << " worker(s): client "
              << ratio(strata.cpuClient, bare.cpuClient) << "  middle " << ratio(strata.cpuMiddle, bare.cpuMiddle)
              << "  workers " << ratio(strata.cpuWorkers, bare.cpuWorkers) << "\n";
  }
  auto p50Of = [&latency](Path path) {
    auto it = latency.find(path);
    return it == latency.end() ? 0.0 : static_cast<double>(it->second.p50);
  };
  std::cout << "\np50 latency at window 1 (" << kLatencyBody << " B, 1 worker): strata/bare "
            << ratio(p50Of(Path::kStrata), p50Of(Path::kBare)) << "  strata/nats "
            << ratio(p50Of(Path::kStrata), p50Of(Path::kNats)) << "  strata/nats-tls "
            << ratio(p50Of(Path::kStrata), p50Of(Path::kNatsTls)) << "\n";
  return 0;
}

}  // namespace strata::bench
