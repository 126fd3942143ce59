// A real PostgreSQL server stopped for 30 s while four threads keep writing through one
// SqlService: every call in the outage fails fast with unavailable, and once the server
// is back the service answers again by itself, with each write applied at most once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <strata/core/errors.h>
#include <strata/integrations/sql/sql_service.h>

#include "postgres_server.h"
#include "temp_dir.h"

namespace strata::integrations::sql {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kThreads = 4;
constexpr auto kOutage = 30s;
// A call that fails while the server is down must fail in well under the session open
// timeout (10 s): the server's port refuses at once.
constexpr auto kFailFast = 3s;

struct Outcome {
  Clock::time_point began;
  Clock::time_point ended;
  strata_error code;
  std::string text;
};

class Ledger {
 public:
  void add(Outcome outcome) {
    std::lock_guard lock(mutex_);
    outcomes_.push_back(std::move(outcome));
    changed_.notify_all();
  }
  // Waits until at least count calls that began after since succeeded (or, with
  // succeeded false, failed); false at the deadline.
  bool waitFor(std::size_t count, bool succeeded, Clock::time_point since, std::chrono::seconds deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] {
      auto seen = std::count_if(outcomes_.begin(), outcomes_.end(), [&](const Outcome& o) {
        return (o.code == STRATA_OK) == succeeded && o.began >= since;
      });
      return static_cast<std::size_t>(seen) >= count;
    });
  }
  std::string lastFailure() {
    std::lock_guard lock(mutex_);
    for (auto o = outcomes_.rbegin(); o != outcomes_.rend(); ++o) {
      if (o->code != STRATA_OK) return o->text;
    }
    return "none";
  }
  std::vector<Outcome> all() {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Outcome> outcomes_;
};

std::size_t openDescriptors() {
  auto fds = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<std::size_t>(std::distance(begin(fds), end(fds)));
}

RequestId idOf(int thread, std::uint32_t sequence) {
  RequestId id{};
  id[0] = static_cast<std::uint8_t>(thread + 1);
  for (int i = 0; i < 4; ++i) id[1 + i] = static_cast<std::uint8_t>(sequence >> (8 * i));
  return id;
}

TEST(PostgresOutage, CallsFailFastWhileStoppedAndTheServiceRecoversByItself) {
  strata::test::PostgresServer server;
  core::test::TempDir dir;
  std::ofstream(dir / "schema.sql") << "CREATE TABLE IF NOT EXISTS writes (name TEXT PRIMARY KEY);";
  SqlConfig config;
  config.dialect = Dialect::kPostgresql;
  config.database = server.uri() + "?connect_timeout=10";
  config.initFile = dir / "schema.sql";
  config.poolSize = kThreads;
  config.statements["put"] = "INSERT INTO writes (name) VALUES (:name)";
  config.statements["count"] = "SELECT COUNT(*) AS c FROM writes";
  SqlService service(config);

  Ledger ledger;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> succeeded{0};
  std::vector<std::thread> load;
  for (int t = 0; t < kThreads; ++t) {
    load.emplace_back([&, t] {
      for (std::uint32_t n = 0; !stop; ++n) {
        std::string name = std::to_string(t) + "-" + std::to_string(n);
        Outcome outcome;
        outcome.began = Clock::now();
        auto result = service.query(idOf(t, n), R"({"statement":"put","params":{"name":")" + name + R"("}})");
        outcome.ended = Clock::now();
        outcome.code = result.code;
        outcome.text = result.text;
        if (result.ok()) ++succeeded;
        ledger.add(std::move(outcome));
      }
    });
  }

  const auto started = Clock::now();
  ASSERT_TRUE(ledger.waitFor(100, true, started, 30s)) << "no steady load before the outage";
  const std::size_t descriptorsBefore = openDescriptors();

  server.stop();
  const auto stopped = Clock::now();
  ASSERT_TRUE(ledger.waitFor(20, false, stopped, 30s)) << "calls did not fail while the server was down";
  // The outage itself: the server stays down this long whatever the calls do.
  std::this_thread::sleep_until(stopped + kOutage);
  const auto restarted = Clock::now();
  server.start();

  bool recovered = ledger.waitFor(100, true, restarted, 60s);
  const std::size_t descriptorsAfter = openDescriptors();
  stop = true;
  for (auto& thread : load) thread.join();
  // A failed connect that kept its socket would leave one descriptor per call behind.
  EXPECT_LE(descriptorsAfter, descriptorsBefore + kThreads)
      << "descriptors before the outage " << descriptorsBefore << ", after " << descriptorsAfter;
  ASSERT_TRUE(recovered) << "the service did not answer again after the server came back; the last failure: "
                         << ledger.lastFailure();

  std::size_t duringOutage = 0;
  std::size_t slow = 0;
  std::size_t notUnavailable = 0;
  std::string example;
  for (const auto& o : ledger.all()) {
    // Calls that began after the stop and ended before the restart saw only a down server.
    if (o.began < stopped + 1s || o.ended > restarted) continue;
    ++duringOutage;
    if (o.ended - o.began > kFailFast) ++slow;
    if (o.code != STRATA_ERROR_UNAVAILABLE) {
      ++notUnavailable;
      if (example.empty()) example = o.text;
    }
  }
  std::cout << "outage " << kOutage.count() << " s: " << duringOutage << " calls failed (" << slow
            << " slower than " << kFailFast.count() << " s), " << succeeded.load() << " writes in all"
            << std::endl;
  EXPECT_GT(duringOutage, 100u) << "too few calls ran while the server was down";
  EXPECT_EQ(slow, 0u) << "calls waited longer than " << kFailFast.count() << " s while the server was down";
  EXPECT_EQ(notUnavailable, 0u) << "a call in the outage failed with another code: " << example;

  // Every write reported done is in the table; at most the calls cut off by the stop
  // (one per thread) may have committed without being reported.
  auto counted = service.query(idOf(99, 0), R"({"statement":"count"})");
  ASSERT_TRUE(counted.ok()) << counted.text;
  auto at = counted.body.find("\"c\":");
  ASSERT_NE(at, std::string::npos) << counted.body;
  std::uint64_t rows = std::stoull(counted.body.substr(at + 4));
  EXPECT_GE(rows, succeeded.load());
  EXPECT_LE(rows, succeeded.load() + kThreads);
}

}  // namespace
}  // namespace strata::integrations::sql
