#include "events_bench.h"

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <chrono>
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

using test::Cluster;

constexpr int kRounds = 3;  // each row is the median of this many alternating rounds
constexpr std::size_t kBody = 64;
// From this many subscribers on, a run sends a tenth of the events (and a paced one at a
// tenth of the rate), so the middle delivers about as many as at 10 in all (and per second).
constexpr int kWideFanOut = 100;
constexpr std::uint64_t kWideDivisor = 10;
constexpr const char* kSubject = "bench.events";
// A subscriber idle this long stops and reports what it got: a lost event costs the row
// this much, not the whole run kClientDeadline.
constexpr const char* kIdleTimeoutMs = "20000";
constexpr std::chrono::seconds kSubscribeTimeout{60};  // for every subscriber of a run to be in
constexpr const char* kSummaryKey = "events";          // publishers' and subscribers' lines start "events="
// Layers 0 to 3 may publish by default, 4 (front ends) may not; every layer may subscribe.
constexpr int kPublisherLayer = 2;
constexpr int kSubscriberLayer = 4;

enum class Path { kStrata, kBare, kNats };

const char* nameOf(Path path) {
  switch (path) {
    case Path::kStrata: return "strata";
    case Path::kBare: return "bare";
    case Path::kNats: return "nats";
  }
  return "?";
}

struct Scenario {
  Path path = Path::kStrata;
  int subscribers = 1;
  std::uint64_t events = 0;  // what the publisher sends
  std::uint64_t rate = 0;    // events per second; 0: as fast as the publisher can
};

struct Result {
  Scenario scenario;
  double evPerSec = 0;  // delivered per second, all subscribers together
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;  // as the subscribers count them
  std::uint64_t publishErrors = 0;
  int publisherExit = 0;
  std::uint64_t p50 = 0;  // the median of the subscribers' p50
  std::uint64_t p99 = 0;  // the highest of the subscribers' p99
  // CPU microseconds (user + system) per delivered event.
  double cpuPublisher = 0;
  double cpuMiddle = 0;
  double cpuSubscribers = 0;  // all subscribers together

  std::uint64_t expected() const { return scenario.events * static_cast<std::uint64_t>(scenario.subscribers); }
};

// Scales a throughput or latency run to the fan-out (kWideFanOut).
std::uint64_t forFanOut(std::uint64_t value, int subscribers) {
  return subscribers >= kWideFanOut ? std::max<std::uint64_t>(value / kWideDivisor, 1) : value;
}

// The middle of one path, running, and how its publisher and subscribers reach it.
struct RunningPath {
  pid_t middle = -1;
  std::string subscriberProgram;
  std::function<std::vector<std::string>(std::uint64_t count)> subscriberArgs;
  std::string publisherProgram;
  std::function<std::vector<std::string>(const Scenario& s)> publisherArgs;
  // Returns once every one of the subscribers started has its subscription in place at
  // the middle; throws std::runtime_error when that takes longer than kSubscribeTimeout.
  std::function<void(const std::vector<BackgroundClient>& subscribers)> awaitSubscribers;
};

// Waits until each subscriber's log holds line (which it prints once the middle has
// confirmed its subscription), for all of them at most kSubscribeTimeout.
void awaitLogLine(const std::vector<BackgroundClient>& subscribers, const std::string& line) {
  const auto deadline = std::chrono::steady_clock::now() + kSubscribeTimeout;
  for (const auto& subscriber : subscribers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    bool in = test::waitUntil([&] { return subscriber.log().find(line) != std::string::npos; },
                              std::max(left, std::chrono::milliseconds(0)));
    if (!in) throw std::runtime_error("a subscriber did not subscribe in time:\n" + subscriber.log());
  }
}

std::string subscribedLine() { return std::string("subscribed to ") + kSubject; }

RunningPath startStrata(Cluster& cluster) {
  // At information the broker logs the endpoint it listens on, which startBroker waits for.
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}});
  RunningPath path;
  path.middle = cluster.broker().pid();
  path.subscriberProgram = test::cliBinary();
  // The subscribers share one key and one configuration file; each is its own connection.
  path.subscriberArgs = [config = cluster.clientConfig("subscriber").string()](std::uint64_t count) {
    return std::vector<std::string>{"subscribe", "--config", config,    kSubject,      "--count",
                                    std::to_string(count), "--quiet", "--summary", "--stamped", "--timeout", kIdleTimeoutMs};
  };
  path.publisherProgram = test::cliBinary();
  path.publisherArgs = [config = cluster.clientConfig("publisher").string()](const Scenario& s) {
    std::vector<std::string> args{"publish", "--config", config, kSubject, "--repeat", std::to_string(s.events),
                                  "--size",  std::to_string(kBody), "--stamp"};
    if (s.rate > 0) args.insert(args.end(), {"--rate", std::to_string(s.rate)});
    return args;
  };
  path.awaitSubscribers = [](const std::vector<BackgroundClient>& subscribers) {
    awaitLogLine(subscribers, subscribedLine());
  };
  return path;
}

RunningPath startBare(Cluster& cluster) {
  auto& forwarder = cluster.startProcess(
      benchProgram("bare-event-forwarder"),
      {"--key", (cluster.dir() / "broker").string(), "--authorized-keys", (cluster.dir() / "authorized_keys").string()},
      "bare-event-forwarder.log");
  auto input = forwarder.waitForEndpoint("input listening on", kStartTimeout);
  auto output = forwarder.waitForEndpoint("output listening on", kStartTimeout);
  if (input.empty() || output.empty()) {
    throw std::runtime_error("bare-event-forwarder did not start:\n" + forwarder.log());
  }
  RunningPath path;
  path.middle = forwarder.pid();
  const auto serverKey = cluster.pubFile("broker").string();
  path.subscriberProgram = benchProgram("bare-subscriber");
  path.subscriberArgs = [output, serverKey, key = (cluster.dir() / "subscriber").string()](std::uint64_t count) {
    return std::vector<std::string>{"--connect", output, "--key", key, "--server-key", serverKey,
                                    "--count", std::to_string(count), "--timeout", kIdleTimeoutMs};
  };
  path.publisherProgram = benchProgram("bare-publisher");
  path.publisherArgs = [input, serverKey, key = (cluster.dir() / "publisher").string()](const Scenario& s) {
    return std::vector<std::string>{"--connect", input, "--key", key, "--server-key", serverKey,
                                    "--events", std::to_string(s.events), "--size", std::to_string(kBody),
                                    "--rate", std::to_string(s.rate)};
  };
  // A SUB socket hears of no confirmation; the forwarder's XPUB sees each subscription
  // arrive, after the subscriber's handshake, and says so.
  path.awaitSubscribers = [&forwarder](const std::vector<BackgroundClient>& subscribers) {
    if (!forwarder.waitForLog("subscriber joined", kSubscribeTimeout, subscribers.size())) {
      throw std::runtime_error("bare subscribers did not reach the forwarder:\n" + forwarder.log());
    }
  };
  return path;
}

RunningPath startNats(Cluster& cluster, const std::string& natsServer) {
  const auto server = startNatsServer(cluster, natsServer, {});
  const std::string url = "nats://" + server.address;
  RunningPath path;
  path.middle = server.pid;
  path.subscriberProgram = benchProgram("nats-subscriber");
  path.subscriberArgs = [url](std::uint64_t count) {
    return std::vector<std::string>{"--url",   url, "--subject", kSubject, "--count", std::to_string(count),
                                    "--timeout", kIdleTimeoutMs};
  };
  path.publisherProgram = benchProgram("nats-publisher");
  path.publisherArgs = [url](const Scenario& s) {
    // libnats gathers writes and waits about a millisecond for more before sending: good
    // for throughput, a millisecond more on every paced event.
    return std::vector<std::string>{"--url",  url, "--subject", kSubject, "--events", std::to_string(s.events),
                                    "--size", std::to_string(kBody), "--rate", std::to_string(s.rate),
                                    "--send-asap", s.rate > 0 ? "1" : "0"};
  };
  path.awaitSubscribers = [](const std::vector<BackgroundClient>& subscribers) {
    awaitLogLine(subscribers, subscribedLine());
  };
  return path;
}

// Fresh processes for one measurement: start the middle and the subscribers, wait until
// every subscription is in place, then run the publisher to its exit and wait for every
// subscriber to finish. The middle's CPU is read right before the publisher starts and
// after the last subscriber has exited; the publisher's and each subscriber's is their
// whole process.
Result measure(const Scenario& s, const std::optional<std::string>& natsServer) {
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("publisher", kPublisherLayer);
  cluster.addIdentity("subscriber", kSubscriberLayer);
  RunningPath path = s.path == Path::kStrata ? startStrata(cluster)
                     : s.path == Path::kBare ? startBare(cluster)
                                             : startNats(cluster, natsServer.value());
  // Declared after the cluster, so they are killed before its directory goes.
  std::vector<BackgroundClient> subscribers;
  subscribers.reserve(static_cast<std::size_t>(s.subscribers));
  for (int i = 0; i < s.subscribers; ++i) {
    subscribers.emplace_back(path.subscriberProgram, path.subscriberArgs(s.events),
                             cluster.dir() / ("subscriber-" + std::to_string(i) + ".log"));
  }
  path.awaitSubscribers(subscribers);
  auto middleBefore = cpuTicks(path.middle);
  auto published =
      runClient(path.publisherProgram, path.publisherArgs(s), cluster.dir() / "publisher.log", kSummaryKey);

  Result r{s};
  std::vector<std::uint64_t> p50s;
  std::uint64_t subscriberTicks = 0;
  for (auto& subscriber : subscribers) {
    // A subscriber that lost events stops kIdleTimeoutMs after the last one it got.
    auto run = subscriber.finish(kClientDeadline, kSummaryKey);
    subscriberTicks += run.cpuTicks;
    r.delivered += numberIn(run.summary, "events");
    r.dropped += numberIn(run.summary, "dropped");
    r.evPerSec += decimalIn(run.summary, "ev_per_s");
    p50s.push_back(numberIn(run.summary, "p50_us"));
    r.p99 = std::max(r.p99, numberIn(run.summary, "p99_us"));
  }
  auto middleAfter = cpuTicks(path.middle);
  std::sort(p50s.begin(), p50s.end());
  r.p50 = p50s.empty() ? 0 : p50s[p50s.size() / 2];
  r.publishErrors = numberIn(published.summary, "errors");
  r.publisherExit = published.exitCode;
  r.cpuPublisher = microsecondsPer(published.cpuTicks, r.delivered);
  r.cpuMiddle = microsecondsPer(middleAfter - middleBefore, r.delivered);
  r.cpuSubscribers = microsecondsPer(subscriberTicks, r.delivered);
  return r;
}

// Runs the paths in turns for kRounds rounds and returns each path's median round, by
// delivered events per second or, for a paced row, by p50: a burst of load from elsewhere
// on a shared machine then moves one round, not the ratio.
std::map<Path, Result> medianRounds(const std::vector<Path>& paths, Scenario s,
                                    const std::optional<std::string>& natsServer, bool byLatency) {
  return medianOfRounds<Path, Result>(
      paths, kRounds,
      [&](Path path) {
        s.path = path;
        return measure(s, natsServer);
      },
      [byLatency](const Result& a, const Result& b) { return byLatency ? a.p50 < b.p50 : a.evPerSec < b.evPerSec; });
}

// What a row lost, or nothing: such a row measured less than it says.
std::string noteOf(const Result& r) {
  std::string note;
  auto add = [&note](const std::string& text) { note += (note.empty() ? "* " : ", ") + text; };
  if (r.delivered < r.expected()) add(std::to_string(r.expected() - r.delivered) + " missing");
  if (r.dropped > 0) add(std::to_string(r.dropped) + " dropped");
  if (r.publishErrors > 0) add(std::to_string(r.publishErrors) + " publish errors");
  if (r.publisherExit != 0) add("publisher exit " + std::to_string(r.publisherExit));
  return note;
}

void printHeader() {
  std::cout << std::left << std::setw(8) << "path" << std::setw(6) << "subs" << std::setw(9) << "events"
            << std::setw(6) << "body" << std::setw(7) << "rate" << std::right << std::setw(11) << "ev/s"
            << std::setw(11) << "delivered" << std::setw(9) << "p50_us" << std::setw(9) << "p99_us" << std::setw(9)
            << "cpu_pub" << std::setw(12) << "cpu_middle" << std::setw(10) << "cpu_subs"
            << "  note" << std::endl;
}

void printRow(const Result& r) {
  std::cout << std::left << std::setw(8) << nameOf(r.scenario.path) << std::setw(6) << r.scenario.subscribers
            << std::setw(9) << r.scenario.events << std::setw(6) << kBody << std::setw(7)
            << (r.scenario.rate == 0 ? std::string("max") : std::to_string(r.scenario.rate)) << std::right
            << std::fixed << std::setprecision(0) << std::setw(11) << r.evPerSec << std::setw(11) << r.delivered
            << std::setw(9) << r.p50 << std::setw(9) << r.p99 << std::setprecision(2) << std::setw(9)
            << r.cpuPublisher << std::setw(12) << r.cpuMiddle << std::setw(10) << r.cpuSubscribers << "  "
            << noteOf(r) << std::endl;
}

void printColumns(std::uint64_t smallestRow) {
  std::cout
      << "\ncolumns:\n"
         "  subs        subscriber processes, each with its own connection and subscription to "
      << kSubject
      << "\n"
         "  events      events the publisher sends; a tenth at "
      << kWideFanOut
      << " subscribers, so every row delivers about as many\n"
         "  rate        max: the publisher sends as fast as it can (throughput rows); a number: paced to that many\n"
         "              events per second (latency rows, a tenth at "
      << kWideFanOut
      << " subscribers so the middle delivers no more per\n"
         "              second than at 10)\n"
         "  ev/s        delivered events per second, all subscribers together: the sum of each subscriber's rate\n"
         "              from its first event to its last (start-up and the wait for the publisher left out)\n"
         "  delivered   events that reached a subscriber, all together; events x subs when none was lost\n"
         "  p50_us      publish to delivery: the publisher stamps each event with CLOCK_MONOTONIC, the subscriber\n"
         "              reads the clock when it has it; the median of the subscribers' medians\n"
         "  p99_us      the highest of the subscribers' 99th percentiles\n"
         "  cpu_pub     CPU microseconds (user + system, /proc/PID/stat) per delivered event, of the publisher's\n"
         "              whole process\n"
         "  cpu_middle  the same of the middle (strata-broker, bare-event-forwarder, nats-server), from right\n"
         "              before the publisher starts to the last subscriber's exit\n"
         "  cpu_subs    the same of all subscribers together, each its whole process (start-up and the wait for\n"
         "              the others and the publisher included)\n"
         "  note        what a row lost: events missing, events the subscribers counted as dropped, publisher\n"
         "              errors or exit code; a row with a note measured less than it should\n"
         "each row: median of "
      << kRounds
      << " alternating rounds of fresh processes, throughput rows by ev/s, latency rows by p50;\n"
         "cpu_* resolution: one clock tick ("
      << std::fixed << std::setprecision(0) << microsecondsPer(1, 1) << " us) per process and run, "
      << std::setprecision(3) << microsecondsPer(1, smallestRow) << " us per delivered event in the smallest rows ("
      << smallestRow << " delivered)\n";
}

}  // namespace

int runEvents(std::uint64_t events, std::uint64_t rate, std::uint64_t latencyEvents, const std::string& only,
              const std::vector<int>& fanOuts) {
  std::cout << "strata-bench events: publish/subscribe fan-out on loopback, one publisher and 1, 10 or 100 "
               "subscribers on one subject, each its own process, "
            << kBody
            << "-byte events\n"
               "  strata: strata publish --repeat --stamp -> strata-broker -> strata subscribe --summary --stamped; CURVE on "
               "every hop\n"
               "  bare:   bare-publisher (PUSH) -> bare-event-forwarder (PULL in, XPUB out) -> bare-subscriber (SUB) "
               "(bench/bare); CURVE on every hop\n"
               "  nats:   nats-publisher -> nats-server -> nats-subscriber (bench/nats); plain TCP, libnats's write "
               "gathering for throughput, send-asap when paced\n";
  auto natsServer = natsServerOrExplain("nats-publisher", "nats-subscriber");
  std::vector<Path> paths{Path::kStrata, Path::kBare};
  if (natsServer) paths.push_back(Path::kNats);
  if (!only.empty()) {
    // One path alone, for profiling it; the ratios then say n/a.
    std::erase_if(paths, [&](Path p) { return only != nameOf(p); });
    if (paths.empty()) throw std::runtime_error("--only takes strata, bare or nats (the last needs nats-server)");
  }
  std::cout << "\n";
  printHeader();

  std::map<int, std::map<Path, Result>> throughput;
  for (int subscribers : fanOuts) {
    auto medians = medianRounds(paths, Scenario{Path::kStrata, subscribers, forFanOut(events, subscribers), 0},
                                natsServer, false);
    for (const auto& [path, result] : medians) printRow(result);
    throughput[subscribers] = medians;
  }
  std::map<int, std::map<Path, Result>> latency;
  for (int subscribers : fanOuts) {
    auto medians = medianRounds(
        paths,
        Scenario{Path::kStrata, subscribers, forFanOut(latencyEvents, subscribers), forFanOut(rate, subscribers)},
        natsServer, true);
    for (const auto& [path, result] : medians) printRow(result);
    latency[subscribers] = medians;
  }
  printColumns(std::min(events, latencyEvents));

  auto rateOf = [](const std::map<Path, Result>& row, Path path) {
    auto it = row.find(path);
    return it == row.end() ? 0.0 : it->second.evPerSec;
  };
  auto p50Of = [](const std::map<Path, Result>& row, Path path) {
    auto it = row.find(path);
    return it == row.end() ? 0.0 : static_cast<double>(it->second.p50);
  };
  std::cout << "\ndelivered events per second, as fast as the publisher can, strata / bare and strata / nats:\n";
  for (const auto& [subscribers, row] : throughput) {
    std::cout << "  " << subscribers << " subscriber(s): strata/bare "
              << ratio(rateOf(row, Path::kStrata), rateOf(row, Path::kBare)) << "  strata/nats "
              << ratio(rateOf(row, Path::kStrata), rateOf(row, Path::kNats)) << "\n";
  }
  std::cout << "\np50 latency, paced, strata / bare and strata / nats:\n";
  for (const auto& [subscribers, row] : latency) {
    std::cout << "  " << subscribers << " subscriber(s) at " << forFanOut(rate, subscribers)
              << " ev/s: strata/bare " << ratio(p50Of(row, Path::kStrata), p50Of(row, Path::kBare))
              << "  strata/nats " << ratio(p50Of(row, Path::kStrata), p50Of(row, Path::kNats)) << "\n";
  }
  return 0;
}

}  // namespace strata::bench
