// strata-chaos: a soak under faults, with a ledger that says whether anything was lost.
//
// A pool of three brokers (each with its SQLite journal), four worker processes sharing
// one idempotency store, and a client sending a steady mix of durable and plain requests,
// while a seeded driver kills and restarts brokers with SIGKILL, freezes workers with
// SIGSTOP/SIGCONT and cuts worker links through TCP proxies. At the end the ledger checks
// that every request was answered, every effect applied exactly once, and every durable
// request the pool acknowledged completed. Exit 0 only then.
//
//   strata-chaos [--minutes N] [--rate R] [--durable-percent P] [--seed S]
//
// The same binary is the worker process: strata-chaos worker DIR NAME STORE ENDPOINT...

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <strata/core/curve_keys.h>
#include <strata/core/errors.h>
#include <strata/core/whole_number.h>
#include <strata/nodes/client.h>
#include <strata/nodes/idempotency_store.h>
#include <strata/nodes/worker.h>

#include "cluster.h"
#include "tcp_proxy.h"

namespace strata::chaos {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kBrokers = 3;
constexpr int kWorkers = 4;
constexpr auto kRequestTimeout = 120s;  // longer than any fault: a request outlives them all
constexpr auto kAttemptTimeout = 2s;    // then the client tries the next broker, same id
constexpr auto kDrainTimeout = 150s;    // for the last answers after the load stops
constexpr const char* kService = "apply";

// ---- the worker process ----

// The effect: one row per application, in the transaction that records the id.
nodes::Outcome applyEffect(const nodes::IncomingRequest& request, const nodes::PartialSender&) {
  return request.store->transaction(request.id, [&](sqlite3* db) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO effects (request) VALUES (?)", -1, &statement, nullptr);
    sqlite3_bind_blob(statement, 1, request.id.bytes().data(), static_cast<int>(request.id.bytes().size()),
                      SQLITE_TRANSIENT);
    int rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("insert failed: ") + sqlite3_errmsg(db));
    return nodes::Outcome::reply({"applied"});
  });
}

int runWorker(const std::vector<std::string>& args) {
  if (args.size() < 4) {
    std::cerr << "usage: strata-chaos worker DIR NAME STORE ENDPOINT...\n";
    return static_cast<int>(ExitCode::kUsage);
  }
  fs::path dir = args[0];
  nodes::WorkerOptions options;
  options.name = args[1];
  options.brokers.assign(args.begin() + 3, args.end());
  options.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(dir / (options.name + ".key")));
  options.brokerKey = core::loadPublicKey(dir / "broker.pub");
  options.heartbeat = 200ms;
  options.idempotency = std::make_shared<nodes::IdempotencyStore>(args[2]);
  nodes::Worker worker(options);
  worker.addService(kService, applyEffect);
  worker.start();
  std::cout << "worker " << options.name << " started" << std::endl;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  int received = 0;
  sigwait(&stop, &received);
  worker.stop();
  return 0;
}

// ---- the driver ----

struct Settings {
  int minutes = 2;
  int rate = 100;  // requests per second
  int durablePercent = 30;
  std::uint64_t seed = 0;
};

std::optional<Settings> parseArgs(int argc, char** argv) {
  Settings s;
  s.seed = std::random_device{}();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    auto value = core::parseWholeNumber(argv[i + 1], 0, 1'000'000'000'000);
    if (!value) return std::nullopt;
    if (key == "--minutes" && *value >= 1) {
      s.minutes = static_cast<int>(*value);
    } else if (key == "--rate" && *value >= 1) {
      s.rate = static_cast<int>(*value);
    } else if (key == "--durable-percent" && *value <= 100) {
      s.durablePercent = static_cast<int>(*value);
    } else if (key == "--seed") {
      s.seed = static_cast<std::uint64_t>(*value);
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 == 0) return std::nullopt;
  return s;
}

long long elapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// A broker of the pool that can be killed and started again on the same endpoint.
class Broker {
 public:
  Broker(test::Cluster& cluster, int index) : cluster_(cluster), name_("broker-" + std::to_string(index)) {
    keys_ = {{"strata.broker.bind", "tcp://127.0.0.1:*"},
             {"strata.key", cluster.keyFile("broker").string()},
             {"strata.authorized_keys", (cluster.dir() / "authorized_keys").string()},
             {"strata.heartbeat_ms", "200"},
             {"strata.journal", (cluster.dir() / (name_ + "-journal.db")).string()}};
    start();
    keys_["strata.broker.bind"] = endpoint_;  // restarts come back where clients look
  }
  void start() {
    auto config = cluster_.writeConfig(name_ + ".properties", keys_);
    process_ = std::make_unique<test::Process>(test::brokerBinary(), std::vector<std::string>{"--config", config.string()},
                                               cluster_.dir() / (name_ + "-" + std::to_string(++starts_) + ".log"));
    auto endpoint = process_->waitForEndpoint("listening on", 20s);
    if (endpoint.empty()) throw std::runtime_error(name_ + " did not start:\n" + process_->log());
    endpoint_ = endpoint;
  }
  void kill() {
    process_->signal(SIGKILL);
    process_->wait(10s);
  }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& name() const { return name_; }
  test::Process& process() { return *process_; }

 private:
  test::Cluster& cluster_;
  std::string name_;
  std::map<std::string, std::string> keys_;
  std::unique_ptr<test::Process> process_;
  std::string endpoint_;
  int starts_ = 0;
};

struct Entry {
  bool durable = false;
  bool accepted = false;  // a broker acknowledged it (durable requests)
  bool answered = false;
  bool ok = false;
  std::string error;
};

class Ledger {
 public:
  void sent(const core::MessageId& id, bool durable) {
    std::lock_guard lock(mutex_);
    entries_[id].durable = durable;
    ++outstanding_;
  }
  void accepted(const core::MessageId& id) {
    std::lock_guard lock(mutex_);
    entries_[id].accepted = true;
  }
  void answered(nodes::Response&& response) {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[response.id];
    if (entry.answered) return;
    entry.answered = true;
    entry.ok = response.ok;
    if (!response.ok) entry.error = response.errorText;
    --outstanding_;
    if (outstanding_ == 0) drained_.notify_all();
  }
  bool drain(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return drained_.wait_for(lock, timeout, [&] { return outstanding_ == 0; });
  }
  std::map<core::MessageId, Entry> entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable drained_;
  std::map<core::MessageId, Entry> entries_;
  std::size_t outstanding_ = 0;
};

// How many times each request's effect was applied, from the store.
std::map<core::MessageId, int> effectsIn(const fs::path& store) {
  std::map<core::MessageId, int> out;
  sqlite3* db = nullptr;
  sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT request, COUNT(*) FROM effects GROUP BY request", -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string_view bytes(static_cast<const char*>(sqlite3_column_blob(statement, 0)),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement, 0)));
    if (auto id = core::MessageId::fromBytes(bytes)) out[*id] = sqlite3_column_int(statement, 1);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

struct Faults {
  int kills = 0;
  int freezes = 0;
  int cuts = 0;
};

int runDriver(const Settings& settings) {
  auto started = Clock::now();
  std::cout << "chaos: seed " << settings.seed << " (run again with --seed " << settings.seed << "), "
            << settings.minutes << " min, " << settings.rate << " requests/s, " << settings.durablePercent
            << "% durable" << std::endl;
  test::Cluster cluster;
  cluster.addIdentity("broker", std::nullopt);
  cluster.addIdentity("front", 4);
  for (int w = 0; w < kWorkers; ++w) cluster.addIdentity("logic-" + std::to_string(w), 2);
  auto store = cluster.dir() / "effects.db";
  {
    nodes::IdempotencyStore init(store);
    sqlite3* db = nullptr;
    sqlite3_open(store.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE effects (request BLOB NOT NULL)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }

  std::vector<std::unique_ptr<Broker>> brokers;
  for (int b = 0; b < kBrokers; ++b) brokers.push_back(std::make_unique<Broker>(cluster, b));
  // Each worker reaches each broker through its own proxy, so one link can be cut.
  std::vector<std::vector<std::unique_ptr<test::TcpProxy>>> links(kWorkers);
  std::vector<std::unique_ptr<test::Process>> workers;
  auto self = fs::read_symlink("/proc/self/exe").string();
  for (int w = 0; w < kWorkers; ++w) {
    std::string name = "logic-" + std::to_string(w);
    std::vector<std::string> args{"worker", cluster.dir().string(), name, store.string()};
    for (auto& broker : brokers) {
      links[w].push_back(std::make_unique<test::TcpProxy>(broker->endpoint()));
      args.push_back(links[w].back()->endpoint());
    }
    workers.push_back(std::make_unique<test::Process>(self, args, cluster.dir() / (name + ".log")));
  }
  for (auto& broker : brokers) {
    if (!broker->process().waitForLog("worker registered name=", 20s, kWorkers)) {
      std::cerr << "chaos: the workers did not register with " << broker->name() << "\n" << broker->process().log();
      return static_cast<int>(ExitCode::kUnavailable);
    }
  }

  auto options = cluster.clientOptions("front");
  options.endpoints.clear();
  for (auto& broker : brokers) options.endpoints.push_back(broker->endpoint());
  options.pingInterval = 200ms;
  options.attemptTimeout = kAttemptTimeout;
  nodes::Client client(options);

  Ledger ledger;
  std::atomic<bool> loadDone{false};
  std::mt19937_64 random(settings.seed);
  std::mutex faultLog;
  auto note = [&](const std::string& text) {
    std::lock_guard lock(faultLog);
    std::cout << "  [" << static_cast<double>(elapsedMs(started)) / 1000 << " s] " << text << std::endl;
  };

  // The load: a steady rate, each request a new id; the durable ones marked so.
  std::thread load([&] {
    std::mt19937_64 mix(settings.seed + 1);
    auto interval = std::chrono::nanoseconds(1'000'000'000 / settings.rate);
    auto next = Clock::now();
    auto end = next + std::chrono::minutes(settings.minutes);
    while (Clock::now() < end) {
      bool durable = static_cast<int>(mix() % 100) < settings.durablePercent;
      nodes::OutgoingRequest request{kService, {"x"}, {}, kRequestTimeout, core::MessageId::generate()};
      if (durable) request.headers.emplace_back("strata-durable", "1");
      auto id = request.id;
      ledger.sent(id, durable);
      client.callAsync(
          std::move(request), [&](nodes::Response&& response) { ledger.answered(std::move(response)); },
          [&, id](nodes::PartialResponse&& partial) {
            if (nodes::findHeader(partial.headers, "strata-accepted")) ledger.accepted(id);
          });
      next += interval;
      std::this_thread::sleep_until(next);  // the pace of the load, not a wait for a condition
    }
    loadDone = true;
  });

  // The faults: one at a time, each 1 to 5 s long, 1 to 3 s of calm between them.
  Faults faults;
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<std::uint64_t>(n)); };
  auto seconds = [&](int low, int high) { return std::chrono::milliseconds(1000 * low + pick(1000 * (high - low))); };
  while (!loadDone) {
    std::this_thread::sleep_for(seconds(1, 3));  // calm: the injected schedule, not a wait
    if (loadDone) break;
    auto length = seconds(1, 5);
    switch (pick(3)) {
      case 0: {
        auto& broker = *brokers[static_cast<std::size_t>(pick(kBrokers))];
        note("SIGKILL " + broker.name() + " for " + std::to_string(length.count()) + " ms");
        broker.kill();
        std::this_thread::sleep_for(length);
        broker.start();
        ++faults.kills;
        break;
      }
      case 1: {
        auto& worker = *workers[static_cast<std::size_t>(pick(kWorkers))];
        note("SIGSTOP worker pid " + std::to_string(worker.pid()) + " for " + std::to_string(length.count()) + " ms");
        worker.signal(SIGSTOP);
        std::this_thread::sleep_for(length);
        worker.signal(SIGCONT);
        ++faults.freezes;
        break;
      }
      default: {
        int w = pick(kWorkers);
        int b = pick(kBrokers);
        note("cut logic-" + std::to_string(w) + " <-> broker-" + std::to_string(b) + " for " +
             std::to_string(length.count()) + " ms");
        links[w][b]->blackHole(true);
        std::this_thread::sleep_for(length);
        links[w][b]->blackHole(false);
        ++faults.cuts;
        break;
      }
    }
  }
  load.join();
  std::cout << "chaos: load done after " << elapsedMs(started) / 1000 << " s; waiting for the last answers" << std::endl;
  bool drained = ledger.drain(kDrainTimeout);

  // The ledger.
  auto entries = ledger.entries();
  auto effects = effectsIn(store);
  std::size_t durable = 0, accepted = 0, ok = 0, errors = 0, unanswered = 0, lost = 0, doubled = 0, missing = 0,
              acceptedNotCompleted = 0;
  std::vector<std::string> examples;
  for (const auto& [id, entry] : entries) {
    durable += entry.durable;
    accepted += entry.accepted;
    int applied = effects.count(id) ? effects[id] : 0;
    if (!entry.answered) ++unanswered;
    if (entry.answered && entry.ok) ++ok;
    if (entry.answered && !entry.ok) {
      ++errors;
      if (examples.size() < 5) examples.push_back(id.hex() + ": " + entry.error);
    }
    if (!entry.ok) ++lost;
    if (applied > 1) ++doubled;
    if (entry.ok && applied == 0) ++missing;
    if (entry.accepted && !(entry.ok && applied == 1)) ++acceptedNotCompleted;
  }
  std::size_t strays = 0;  // effects of ids nobody sent
  for (const auto& [id, count] : effects) strays += entries.count(id) == 0;
  std::cout << "chaos: seed=" << settings.seed << " minutes=" << settings.minutes << " requests=" << entries.size()
            << " durable=" << durable << " accepted=" << accepted << " answered_ok=" << ok << " errors=" << errors
            << " unanswered=" << unanswered << " lost=" << lost << " doubled=" << doubled << " missing=" << missing
            << " durable_accepted_not_completed=" << acceptedNotCompleted << " strays=" << strays
            << " faults: broker_kills=" << faults.kills << " worker_freezes=" << faults.freezes
            << " link_cuts=" << faults.cuts << std::endl;
  for (const auto& example : examples) std::cout << "  error " << example << std::endl;
  bool clean = drained && lost == 0 && doubled == 0 && missing == 0 && acceptedNotCompleted == 0 && strays == 0 &&
               !entries.empty();
  std::cout << (clean ? "chaos: PASS" : "chaos: FAIL") << std::endl;
  return clean ? 0 : 1;
}

}  // namespace
}  // namespace strata::chaos

int main(int argc, char** argv) {
  using namespace strata;
  try {
    if (argc >= 2 && std::string(argv[1]) == "worker") {
      return chaos::runWorker(std::vector<std::string>(argv + 2, argv + argc));
    }
    auto settings = chaos::parseArgs(argc, argv);
    if (!settings) {
      std::cerr << "usage: strata-chaos [--minutes N] [--rate R] [--durable-percent P] [--seed S]\n";
      return static_cast<int>(ExitCode::kUsage);
    }
    return chaos::runDriver(*settings);
  } catch (const std::exception& e) {
    std::cerr << "strata-chaos: " << e.what() << "\n";
    return static_cast<int>(ExitCode::kSoftware);
  }
}
