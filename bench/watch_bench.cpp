#include "watch_bench.h"

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_process.h"
#include "cluster.h"
#include "postgres_server.h"

namespace strata::bench {
namespace {

using test::Cluster;

constexpr const char* kIdleTimeoutMs = "20000";  // a watcher idle this long stops and reports
constexpr std::chrono::seconds kWatchTimeout{120};  // for every watch of a run to have its snapshot
constexpr int kWriterLayer = 2;   // writes: layers 0 to 3 by the store's default rights
constexpr int kWatcherLayer = 2;  // reads: everyone
constexpr std::uint64_t kWriteRowWrites = 2000;

enum class Path { kSqlite, kPostgres, kNats };

const char* nameOf(Path path) {
  switch (path) {
    case Path::kSqlite: return "strata-sqlite";
    case Path::kPostgres: return "strata-pg";
    case Path::kNats: return "nats-kv";
  }
  return "?";
}

struct Scenario {
  Path path = Path::kSqlite;
  std::uint64_t watches = 0;    // all processes together
  std::uint64_t processes = 0;  // watcher processes
  std::uint64_t writes = 0;
  std::uint64_t rate = 0;    // writes per second; 0: as fast as the window lets
  std::uint64_t window = 1;  // writes in flight
};

struct Result {
  Scenario scenario;
  std::uint64_t delivered = 0;
  std::uint64_t p50 = 0;  // over every change of every watch (merged quantiles)
  std::uint64_t p99 = 0;
  double writesPerSec = 0;
  std::uint64_t writeP50 = 0;
  std::uint64_t writeErrors = 0;
  double cpuWriter = 0;  // CPU microseconds per delivered change, or per write without watchers
  double cpuMiddle = 0;
  double cpuWatchers = 0;

  std::uint64_t expected() const { return scenario.writes * scenario.watches; }
};

// The latency rows: watches, watcher processes, and the writer's pace (fewer writes per
// second as the watches grow, so the middle delivers at most 20,000 changes a second).
struct Shape {
  std::uint64_t watches;
  std::uint64_t processes;
  std::uint64_t rate;
  std::uint64_t writes;
};
constexpr std::array<Shape, 3> kShapes{{{1, 1, 200, 1000}, {100, 10, 100, 500}, {1000, 10, 20, 100}}};

// The quantiles a watcher printed (q_us=...), each standing for count / quantiles changes.
std::vector<std::uint64_t> quantilesOf(const std::string& log) {
  std::smatch match;
  std::vector<std::uint64_t> values;
  if (!std::regex_search(log, match, std::regex("q_us=([0-9,]+)"))) return values;
  std::string list = match[1];
  std::size_t start = 0;
  while (start < list.size()) {
    auto comma = list.find(',', start);
    values.push_back(std::stoull(list.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

// The value at fraction q of all watchers' changes together, each watcher's quantiles
// weighted by how many changes it had.
std::uint64_t mergedPercentile(const std::vector<std::pair<std::vector<std::uint64_t>, std::uint64_t>>& parts,
                               double q) {
  std::vector<std::pair<std::uint64_t, double>> weighted;
  double total = 0;
  for (const auto& [values, count] : parts) {
    if (values.empty()) continue;
    double each = static_cast<double>(count) / static_cast<double>(values.size());
    for (auto v : values) weighted.emplace_back(v, each);
    total += static_cast<double>(count);
  }
  if (weighted.empty()) return 0;
  std::sort(weighted.begin(), weighted.end());
  double seen = 0;
  for (const auto& [value, weight] : weighted) {
    seen += weight;
    if (seen >= q * total) return value;
  }
  return weighted.back().first;
}

// One path's middle, running, and how its writer and watchers reach it.
struct Running {
  std::vector<pid_t> middle;  // whose CPU counts as the middle's
  std::string writerProgram;
  std::vector<std::string> writerArgs;
  std::string watcherProgram;
  std::vector<std::string> watcherArgs;
};

Running startStrata(Cluster& cluster, Path path, const test::PostgresServer* postgres) {
  cluster.startBroker({{"strata.heartbeat_ms", "1000"}, {"strata.log.level", "information"}});
  std::map<std::string, std::string> store{{"strata.plugins", "store"},
                                           {"strata.data_dir", (cluster.dir() / "store-data").string()},
                                           {"strata.log.level", "warning"}};
  if (path == Path::kPostgres) {
    store["strata.plugin.store.connector"] = "postgresql";
    store["strata.plugin.store.database"] = postgres->uri();
  }
  auto& node = cluster.startNode("store", "", store);
  Running r;
  r.middle = {cluster.broker().pid(), node.pid()};
  r.writerProgram = benchProgram("strata-writer");
  r.writerArgs = {"--config", cluster.clientConfig("writer").string()};
  r.watcherProgram = benchProgram("strata-watchers");
  r.watcherArgs = {"--config", cluster.clientConfig("watcher").string()};
  return r;
}

Running startNats(Cluster& cluster, const std::string& natsServer) {
  auto server = startNatsServer(cluster, natsServer, {"-js", "-sd", (cluster.dir() / "jetstream").string()});
  const std::string url = "nats://" + server.address;
  Running r;
  r.middle = {server.pid};
  r.writerProgram = benchProgram("nats-kv-writer");
  r.writerArgs = {"--url", url};
  r.watcherProgram = benchProgram("nats-kv-watchers");
  r.watcherArgs = {"--url", url};
  return r;
}

std::uint64_t middleTicks(const Running& r) {
  std::uint64_t ticks = 0;
  for (auto pid : r.middle) ticks += cpuTicks(pid);
  return ticks;
}

Result measure(const Scenario& s, const std::optional<std::string>& natsServer) {
  // The PostgreSQL server is the path's own, fresh each round, like the others' stores.
  std::unique_ptr<test::PostgresServer> postgres;
  if (s.path == Path::kPostgres) postgres = std::make_unique<test::PostgresServer>();
  Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("store", 1);
  cluster.addIdentity("writer", kWriterLayer);
  cluster.addIdentity("watcher", kWatcherLayer);
  auto running = s.path == Path::kNats ? startNats(cluster, natsServer.value()) : startStrata(cluster, s.path, postgres.get());
  // A first write makes the bucket (NATS) and opens the store's file before anyone watches.
  auto setupArgs = running.writerArgs;
  setupArgs.insert(setupArgs.end(), {"--writes", "1"});
  runClient(running.writerProgram, setupArgs, cluster.dir() / "setup.log", "writes");

  std::vector<BackgroundClient> watchers;
  for (std::uint64_t i = 0; i < s.processes; ++i) {
    auto args = running.watcherArgs;
    args.insert(args.end(), {"--watches", std::to_string(s.watches / s.processes), "--count", std::to_string(s.writes),
                             "--timeout", kIdleTimeoutMs});
    watchers.emplace_back(running.watcherProgram, args, cluster.dir() / ("watchers-" + std::to_string(i) + ".log"));
  }
  for (const auto& w : watchers) {
    if (!test::waitUntil([&] { return w.log().find("watching ") != std::string::npos; }, kWatchTimeout)) {
      throw std::runtime_error("watchers did not get their snapshots in time:\n" + w.log());
    }
  }
  auto before = middleTicks(running);
  auto args = running.writerArgs;
  args.insert(args.end(), {"--writes", std::to_string(s.writes), "--rate", std::to_string(s.rate), "--window",
                           std::to_string(s.window)});
  auto written = runClient(running.writerProgram, args, cluster.dir() / "writer.log", "writes");

  Result r{s};
  std::vector<std::pair<std::vector<std::uint64_t>, std::uint64_t>> parts;
  std::uint64_t watcherTicks = 0;
  for (auto& w : watchers) {
    auto run = w.finish(kClientDeadline, "events");
    watcherTicks += run.cpuTicks;
    auto got = numberIn(run.summary, "events");
    r.delivered += got;
    parts.emplace_back(quantilesOf(w.log()), got);
  }
  auto after = middleTicks(running);
  r.p50 = mergedPercentile(parts, 0.50);
  r.p99 = mergedPercentile(parts, 0.99);
  r.writesPerSec = decimalIn(written.summary, "wr_per_s");
  r.writeP50 = numberIn(written.summary, "p50_us");
  r.writeErrors = numberIn(written.summary, "errors");
  auto per = s.watches > 0 ? r.delivered : numberIn(written.summary, "ok");
  r.cpuWriter = microsecondsPer(written.cpuTicks, per);
  r.cpuMiddle = microsecondsPer(after - before, per);
  r.cpuWatchers = microsecondsPer(watcherTicks, per);
  return r;
}

std::string noteOf(const Result& r) {
  std::string note;
  auto add = [&note](const std::string& text) { note += (note.empty() ? "* " : ", ") + text; };
  if (r.scenario.watches > 0 && r.delivered < r.expected()) add(std::to_string(r.expected() - r.delivered) + " missing");
  if (r.writeErrors > 0) add(std::to_string(r.writeErrors) + " write errors");
  return note;
}

void printHeader() {
  std::cout << std::left << std::setw(15) << "path" << std::setw(9) << "watches" << std::setw(7) << "procs"
            << std::setw(8) << "writes" << std::setw(7) << "rate" << std::setw(8) << "window" << std::right
            << std::setw(10) << "wr/s" << std::setw(10) << "wr_p50" << std::setw(11) << "delivered" << std::setw(9)
            << "p50_us" << std::setw(9) << "p99_us" << std::setw(10) << "cpu_wr" << std::setw(12) << "cpu_middle"
            << std::setw(12) << "cpu_watch" << "  note" << std::endl;
}

void printRow(const Result& r) {
  const auto& s = r.scenario;
  std::cout << std::left << std::setw(15) << nameOf(s.path) << std::setw(9) << s.watches << std::setw(7)
            << s.processes << std::setw(8) << s.writes << std::setw(7)
            << (s.rate == 0 ? std::string("max") : std::to_string(s.rate)) << std::setw(8) << s.window << std::right
            << std::fixed << std::setprecision(0) << std::setw(10) << r.writesPerSec << std::setw(10) << r.writeP50
            << std::setw(11) << r.delivered << std::setw(9) << r.p50 << std::setw(9) << r.p99 << std::setprecision(2)
            << std::setw(10) << r.cpuWriter << std::setw(12) << r.cpuMiddle << std::setw(12) << r.cpuWatchers << "  "
            << noteOf(r) << std::endl;
}

void printColumns(int rounds) {
  std::cout << "\ncolumns:\n"
               "  watches     watches of the one collection (bucket), all watcher processes together\n"
               "  procs       watcher processes, each with one connection and watches/procs watches\n"
               "  writes      puts of a 64-byte stamped value, keys k0 to k99 in turn\n"
               "  rate        puts per second (latency rows); max: as fast as the window lets (write rows)\n"
               "  window      puts in flight at once\n"
               "  wr/s        puts answered per second, first put to last answer\n"
               "  wr_p50      put to its answer, microseconds, median\n"
               "  delivered   changes that reached a watch, all together: writes x watches when none was lost\n"
               "  p50_us      put to watch: the writer stamps each value with CLOCK_MONOTONIC, the watcher reads\n"
               "              the clock when its library hands it the change; over every change of every watch\n"
               "  p99_us      the same, 99th percentile\n"
               "  cpu_wr      CPU microseconds (user + system, /proc/PID/stat) of the writer's whole process per\n"
               "              delivered change (per put in write rows)\n"
               "  cpu_middle  the same of the middle (strata-broker and the store's strata-node; nats-server),\n"
               "              from right before the writer starts to the last watcher's exit; PostgreSQL's own\n"
               "              processes are not counted\n"
               "  cpu_watch   the same of all watcher processes together, start-up and snapshot included\n"
               "each row: median of "
            << rounds
            << " rounds alternating the paths, latency rows by p50, write rows by wr/s; fresh processes and\n"
               "stores each round. Durability differs: Strata's store has each put on disk before it answers\n"
               "(SQLite in WAL mode with synchronous = FULL, an fdatasync per commit; PostgreSQL's fsync at\n"
               "commit); JetStream answers once the put is in its file store, which it syncs to disk every two\n"
               "minutes by default.\n";
}

}  // namespace

int runWatch(int rounds, const std::string& only) {
  std::cout << "strata-bench watch: live objects on loopback, one writer, watchers in 1 or 10 processes, each its "
               "own process\n"
               "  strata-sqlite: strata-writer -> strata-broker -> strata-node (store on SQLite) -> strata-watchers "
               "(ObjectWatch); CURVE on every hop\n"
               "  strata-pg:     the same with the store on PostgreSQL (a server of its own on loopback)\n"
               "  nats-kv:       nats-kv-writer -> nats-server -js -> nats-kv-watchers (kvStore_WatchAll, libnats); "
               "plain TCP\n";
  auto natsServer = natsServerOrExplain("nats-kv-writer", "nats-kv-watchers");
  std::vector<Path> paths{Path::kSqlite};
  try {
    test::PostgresServer probe;
    paths.push_back(Path::kPostgres);
  } catch (const std::exception& e) {
    std::cout << "(no PostgreSQL rows: " << e.what() << ")\n";
  }
  if (natsServer) paths.push_back(Path::kNats);
  if (!only.empty()) {
    std::erase_if(paths, [&](Path p) { return only != nameOf(p); });
    if (paths.empty()) throw std::runtime_error("--only takes strata-sqlite, strata-pg or nats-kv");
  }
  std::cout << "\n";
  printHeader();
  auto median = [&](Scenario s, bool byLatency) {
    return medianOfRounds<Path, Result>(
        paths, rounds,
        [&](Path path) {
          s.path = path;
          return measure(s, natsServer);
        },
        [byLatency](const Result& a, const Result& b) {
          return byLatency ? a.p50 < b.p50 : a.writesPerSec < b.writesPerSec;
        });
  };
  std::map<std::uint64_t, std::map<Path, Result>> latency;
  for (const auto& shape : kShapes) {
    auto row = median(Scenario{Path::kSqlite, shape.watches, shape.processes, shape.writes, shape.rate, 1000}, true);
    for (const auto& [path, result] : row) printRow(result);
    latency[shape.watches] = row;
  }
  std::map<std::uint64_t, std::map<Path, Result>> writes;
  for (std::uint64_t window : {1, 32}) {
    auto row = median(Scenario{Path::kSqlite, 0, 0, kWriteRowWrites, 0, window}, false);
    for (const auto& [path, result] : row) printRow(result);
    writes[window] = row;
  }
  printColumns(rounds);

  auto get = [](const std::map<Path, Result>& row, Path path, auto field) {
    auto it = row.find(path);
    return it == row.end() ? 0.0 : static_cast<double>(field(it->second));
  };
  auto p50 = [](const Result& r) { return r.p50; };
  auto p99 = [](const Result& r) { return r.p99; };
  auto rate = [](const Result& r) { return r.writesPerSec; };
  std::cout << "\nput-to-watch latency, strata / nats-kv (below 1: Strata faster):\n";
  for (const auto& [watches, row] : latency) {
    std::cout << "  " << watches << " watch(es): p50 sqlite " << ratio(get(row, Path::kSqlite, p50), get(row, Path::kNats, p50))
              << " pg " << ratio(get(row, Path::kPostgres, p50), get(row, Path::kNats, p50)) << "   p99 sqlite "
              << ratio(get(row, Path::kSqlite, p99), get(row, Path::kNats, p99)) << " pg "
              << ratio(get(row, Path::kPostgres, p99), get(row, Path::kNats, p99)) << "\n";
  }
  std::cout << "\nputs per second, strata / nats-kv (above 1: Strata faster):\n";
  for (const auto& [window, row] : writes) {
    std::cout << "  window " << window << ": sqlite " << ratio(get(row, Path::kSqlite, rate), get(row, Path::kNats, rate))
              << " pg " << ratio(get(row, Path::kPostgres, rate), get(row, Path::kNats, rate)) << "\n";
  }
  return 0;
}

}  // namespace strata::bench
