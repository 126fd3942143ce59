// Side effects once: a retried id never applies its effect twice, even when the broker
// that carried it is killed and the request arrives again through another.

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <strata/nodes/client.h>
#include <strata/nodes/idempotency_store.h>
#include <strata/nodes/worker.h>

#include "cluster.h"
#include "postgres_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using nodes::IdempotencyStore;
using nodes::IncomingRequest;
using nodes::Outcome;

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string text = error ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error(text);
  }
}

long long queryCount(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  long long n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

// The effect: one row per application, in the same transaction as the id's record.
Outcome applyEffect(const IncomingRequest& request, const nodes::PartialSender&) {
  return request.store->transaction(request.id, [&](sqlite3* db) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO effects (request) VALUES (?)", -1, &stmt, nullptr);
    sqlite3_bind_blob(stmt, 1, request.id.bytes().data(), 16, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error("insert failed");
    return Outcome::reply({"applied"});
  });
}

class ExactlyOnce : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 4);
    cluster.addIdentity("logic-a", 2);
    cluster.addIdentity("logic-b", 2);
    store = cluster.dir() / "effects.db";
    {
      IdempotencyStore init(store);
      sqlite3* db = nullptr;
      sqlite3_open(store.c_str(), &db);
      exec(db, "CREATE TABLE effects (request BLOB NOT NULL)");
      sqlite3_close(db);
    }
  }

  std::unique_ptr<nodes::Worker> startWorker(const std::string& name, const std::vector<std::string>& brokers) {
    nodes::WorkerOptions o;
    o.name = name;
    o.brokers = brokers;
    o.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(cluster.keyFile(name)));
    o.brokerKey = core::loadPublicKey(cluster.pubFile("broker"));
    o.heartbeat = 200ms;
    o.idempotency = std::make_shared<IdempotencyStore>(store);
    auto worker = std::make_unique<nodes::Worker>(o);
    worker->addService("apply", applyEffect);
    worker->start();
    return worker;
  }

  void runPoolUnderLoad(const std::function<void(Process& brokerA)>& disrupt,
                        const std::function<void(Process& brokerA)>& afterLoad);

  Cluster cluster;
  std::filesystem::path store;
};

TEST_F(ExactlyOnce, AnswersARetriedIdFromTheStoreWithoutApplyingAgain) {
  cluster.startBroker();
  auto worker = startWorker("logic-a", {cluster.brokerEndpoint()});
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=logic-a ", 10s));
  nodes::Client client(cluster.clientOptions("front"));
  nodes::OutgoingRequest request{"apply", {"x"}, {}, 5s, core::MessageId::generate()};
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = client.call(request);
    ASSERT_TRUE(r.ok) << r.errorText;
    EXPECT_EQ(r.bodyText(), "applied");
  }
  EXPECT_EQ(queryCount(store, "SELECT COUNT(*) FROM effects"), 1);
}

// Two brokers, two workers sharing one store, a client of both under load; disrupt runs
// once, on the loop thread, after the 500th answer. Every request must be answered and
// applied once.
void ExactlyOnce::runPoolUnderLoad(const std::function<void(Process& brokerA)>& disrupt,
                                   const std::function<void(Process& brokerA)>& afterLoad) {
  auto endpointA = cluster.startBroker();
  auto [brokerB, endpointB] = cluster.startExtraBroker("broker-b");
  auto workerA = startWorker("logic-a", {endpointA, endpointB});
  auto workerB = startWorker("logic-b", {endpointA, endpointB});
  ASSERT_TRUE(brokerB.waitForLog("worker registered name=", 10s, 2));
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=", 10s, 2));

  auto options = cluster.clientOptions("front");
  options.endpoints = {endpointA, endpointB};
  options.pingInterval = 200ms;
  nodes::Client client(options);
  constexpr std::uint64_t kRequests = 3000;
  std::mutex mutex;
  std::condition_variable done;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t ok = 0;
  std::function<void()> sendOne = [&] {
    ++sent;
    client.callAsync(nodes::OutgoingRequest{"apply", {"x"}, {}, 30s, {}}, [&](nodes::Response&& r) {
      std::lock_guard lock(mutex);
      ++answered;
      ok += r.ok ? 1 : 0;
      if (answered == 500) disrupt(cluster.broker());
      if (sent < kRequests) sendOne();
      if (answered == kRequests) done.notify_all();
    });
  };
  {
    std::lock_guard lock(mutex);
    for (int i = 0; i < 40; ++i) sendOne();
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, 90s, [&] { return answered == kRequests; })) << answered;
  lock.unlock();
  afterLoad(cluster.broker());
  EXPECT_EQ(ok, kRequests);
  EXPECT_GT(client.resent(), 0u);  // the disruption did catch requests in flight
  EXPECT_EQ(queryCount(store, "SELECT COUNT(*) FROM effects"), static_cast<long long>(kRequests));
  EXPECT_EQ(queryCount(store, "SELECT COUNT(DISTINCT request) FROM effects"), static_cast<long long>(kRequests));
}

TEST_F(ExactlyOnce, AppliesEachIdOnceWhenABrokerIsKilledUnderLoad) {
  runPoolUnderLoad([](Process& broker) { broker.signal(SIGKILL); }, [](Process&) {});
}

TEST_F(ExactlyOnce, AppliesEachIdOnceWhenABrokerIsPausedForFiveSeconds) {
  std::thread resumer;
  runPoolUnderLoad(
      [&](Process& broker) {
        broker.signal(SIGSTOP);
        resumer = std::thread([&broker] {
          std::this_thread::sleep_for(5s);  // the pause itself is the scenario, not a wait
          broker.signal(SIGCONT);
        });
      },
      [&](Process& broker) {
        resumer.join();
        // Once resumed, the paused broker hands what it held to the workers, whose store
        // answers those ids without applying them again: wait until it has nothing left.
        EXPECT_TRUE(broker.running());
        nodes::Client probe(cluster.clientOptions("front"));
        EXPECT_TRUE(waitUntil(
            [&] {
              auto r = probe.call("strata.stats", "", 2s);
              return r.ok && r.bodyText().find("\"pending\":0") != std::string::npos;
            },
            20s));
      });
}

TEST_F(ExactlyOnce, DeliversJournaledRequestsOnceAfterTheBrokerIsKilled) {
  constexpr std::size_t kRequests = 10000;
  auto journal = (cluster.dir() / "journal.db").string();
  auto endpoint = cluster.startBroker({{"strata.journal", journal}});
  std::atomic<std::size_t> accepted{0};
  {
    auto options = cluster.clientOptions("front");
    nodes::Client client(options);
    for (std::size_t i = 0; i < kRequests; ++i) {
      nodes::OutgoingRequest request{"apply", {"x"}, {{"strata-durable", "1"}}, 120s, {}};
      client.callAsync(
          std::move(request), [](nodes::Response&&) {},
          [&](nodes::PartialResponse&& p) {
            if (nodes::findHeader(p.headers, "strata-accepted")) ++accepted;
          });
    }
    // No worker is up: the requests can only be waiting in the journal.
    ASSERT_TRUE(waitUntil([&] { return accepted.load() == kRequests; }, 60s)) << accepted.load();
    cluster.broker().signal(SIGKILL);
    cluster.broker().wait(10s);
  }
  cluster.startBroker({{"strata.journal", journal}, {"strata.broker.bind", endpoint}});
  ASSERT_TRUE(cluster.broker().waitForLog("journal restored durable_requests=10000", 10s)) << cluster.broker().log();
  auto worker = startWorker("logic-a", {endpoint});
  ASSERT_TRUE(waitUntil([&] { return queryCount(store, "SELECT COUNT(*) FROM effects") >= 10000; }, 90s))
      << queryCount(store, "SELECT COUNT(*) FROM effects");
  EXPECT_EQ(queryCount(store, "SELECT COUNT(*) FROM effects"), 10000);
  EXPECT_EQ(queryCount(store, "SELECT COUNT(DISTINCT request) FROM effects"), 10000);
  // Answered requests leave the journal.
  ASSERT_TRUE(waitUntil([&] { return queryCount(journal, "SELECT COUNT(*) FROM strata_journal") == 0; }, 10s));
}

TEST_F(ExactlyOnce, SurvivingBrokerTakesOverTheSharedJournalOfADeadOne) {
  constexpr std::size_t kRequests = 2000;
  PostgresServer postgres;
  std::map<std::string, std::string> shared{{"strata.journal", postgres.uri()}, {"strata.journal.lease_ms", "1000"}};
  auto endpointA = cluster.startBroker(shared);
  // Broker B shares the journal; no worker is up, so A's requests can only wait there.
  auto [brokerB, endpointB] = cluster.startExtraBroker("broker-b", shared);
  std::atomic<std::size_t> accepted{0};
  {
    nodes::Client client(cluster.clientOptions("front"));  // broker A only
    for (std::size_t i = 0; i < kRequests; ++i) {
      client.callAsync(
          nodes::OutgoingRequest{"apply", {"x"}, {{"strata-durable", "1"}}, 120s, {}}, [](nodes::Response&&) {},
          [&](nodes::PartialResponse&& p) {
            if (nodes::findHeader(p.headers, "strata-accepted")) ++accepted;
          });
    }
    ASSERT_TRUE(waitUntil([&] { return accepted.load() == kRequests; }, 60s)) << accepted.load();
    cluster.broker().signal(SIGKILL);
    cluster.broker().wait(10s);
  }
  // B notices A's lease running out and takes its requests; a worker on B applies them once.
  ASSERT_TRUE(brokerB.waitForLog("journal takeover durable_requests=", 20s)) << brokerB.log();
  auto worker = startWorker("logic-a", {endpointB});
  ASSERT_TRUE(waitUntil([&] { return queryCount(store, "SELECT COUNT(*) FROM effects") >= 2000; }, 60s))
      << queryCount(store, "SELECT COUNT(*) FROM effects");
  EXPECT_EQ(queryCount(store, "SELECT COUNT(*) FROM effects"), 2000);
  EXPECT_EQ(queryCount(store, "SELECT COUNT(DISTINCT request) FROM effects"), 2000);
}

TEST_F(ExactlyOnce, RefusesADurableRequestWithoutAJournal) {
  cluster.startBroker();
  auto worker = startWorker("logic-a", {cluster.brokerEndpoint()});
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=logic-a ", 10s));
  nodes::Client client(cluster.clientOptions("front"));
  auto r = client.call(nodes::OutgoingRequest{"apply", {"x"}, {{"strata-durable", "1"}}, 5s, {}});
  EXPECT_EQ(r.errorCode, nodes::ErrorCode::kUnavailable);
  EXPECT_NE(r.errorText.find("strata.journal"), std::string::npos) << r.errorText;
  EXPECT_EQ(queryCount(store, "SELECT COUNT(*) FROM effects"), 0);
}

TEST_F(ExactlyOnce, StoreSurvivesAReopen) {
  auto id = core::MessageId::generate();
  {
    IdempotencyStore first(store);
    first.record(id, Outcome::reply({"kept"}, {{"k", "v"}}));
  }
  IdempotencyStore second(store);
  auto found = second.find(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->body, nodes::Body{"kept"});
  EXPECT_FALSE(second.find(core::MessageId::generate()).has_value());
}

TEST_F(ExactlyOnce, ForgetsIdsOlderThanTheWindow) {
  auto id = core::MessageId::generate();
  IdempotencyStore tiny(store, std::chrono::milliseconds(1));
  tiny.record(id, Outcome::reply({"old"}));
  ASSERT_TRUE(waitUntil([&] { return !tiny.find(id).has_value(); }, 2s));
  EXPECT_EQ(tiny.prune(), 1u);
}

TEST_F(ExactlyOnce, RollsBackTheEffectWhenTheHandlerThrows) {
  IdempotencyStore s(store);
  auto id = core::MessageId::generate();
  EXPECT_THROW(s.transaction(id,
                             [](sqlite3* db) -> Outcome {
                               exec(db, "INSERT INTO effects (request) VALUES (x'00')");
                               throw std::runtime_error("handler failed");
                             }),
               std::runtime_error);
  EXPECT_EQ(queryCount(store, "SELECT COUNT(*) FROM effects"), 0);
  EXPECT_FALSE(s.find(id).has_value());
}

}  // namespace
}  // namespace strata::test
