// The store plug-in as users run it: strata-node at layer 1 behind real brokers, written
// and watched through the bus by clients of several layers, with brokers and store nodes
// killed for real and a watcher cut off by a TCP proxy.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/codecs/payload.h>

#include <strata/nodes/client.h>
#include <strata/nodes/object_watch.h>

#include "cluster.h"
#include "postgres_server.h"
#include "tcp_proxy.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using nodes::Client;
using nodes::ErrorCode;
using nodes::ObjectWatch;
using Poco::JSON::Object;

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string jsonOf(const Poco::Dynamic::Var& value) { return codecs::jsonCodec().encode(value); }

// key -> (revision, attributes as JSON)
using State = std::map<std::string, std::pair<std::int64_t, std::string>>;

// What one watcher's application holds and saw.
struct Model {
  std::mutex mutex;
  State objects;
  std::vector<std::int64_t> revisions;  // of every change applied, in order
  std::vector<std::string> texts;       // every attributes text seen, snapshot and changes
  bool ready = false;
  int resets = 0;
  std::string error;

  ObjectWatch::Handlers handlers() {
    ObjectWatch::Handlers h;
    h.onObject = [this](const nodes::WatchedObject& o) {
      std::lock_guard lock(mutex);
      objects[o.key] = {o.revision, o.attributes};
      texts.push_back(o.attributes);
    };
    h.onReady = [this](std::int64_t, std::size_t) {
      std::lock_guard lock(mutex);
      ready = true;
    };
    h.onChange = [this](const nodes::WatchedChange& c) {
      std::lock_guard lock(mutex);
      revisions.push_back(c.revision);
      texts.push_back(c.attributes);
      if (c.op == "delete") {
        objects.erase(c.key);
      } else {
        objects[c.key] = {c.revision, c.attributes};
      }
    };
    h.onReset = [this](const std::string&) {
      std::lock_guard lock(mutex);
      objects.clear();
      ready = false;
      ++resets;
    };
    h.onError = [this](ErrorCode, const std::string& text) {
      std::lock_guard lock(mutex);
      error = text;
    };
    return h;
  }
  bool isReady() {
    std::lock_guard lock(mutex);
    return ready;
  }
  State state() {
    std::lock_guard lock(mutex);
    return objects;
  }
  std::vector<std::int64_t> seen() {
    std::lock_guard lock(mutex);
    return revisions;
  }
};

bool strictlyIncreasing(const std::vector<std::int64_t>& revisions) {
  for (std::size_t i = 1; i < revisions.size(); ++i) {
    if (revisions[i] <= revisions[i - 1]) return false;
  }
  return true;
}

std::string putBody(const std::string& collection, const std::string& key, const std::string& attributes,
                    std::optional<std::int64_t> expect = std::nullopt) {
  std::string body = "{\"collection\":\"" + collection + "\",\"key\":\"" + key + "\",\"attributes\":" + attributes;
  if (expect) body += ",\"expect\":" + std::to_string(*expect);
  return body + "}";
}

class Store : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("store", 1);
    cluster.addIdentity("app", 2);
    cluster.addIdentity("front", 4);
    cluster.addIdentity("store2", 1);
    cluster.startBroker(brokerPolicy());
  }

  // Front ends (layer 4) may use the store directly, as a deployment with browsers would
  // set; the default rules let them call layer 2 only.
  static std::map<std::string, std::string> brokerPolicy() {
    std::map<std::string, std::string> keys;
    for (const char* service : {"store.put", "store.patch", "store.delete", "store.get", "store.list", "store.watch"}) {
      keys[std::string("strata.policy.") + service] = "2,3,4";
    }
    return keys;
  }

  std::map<std::string, std::string> storeConfig(std::map<std::string, std::string> extra = {}) const {
    std::map<std::string, std::string> keys{
        {"strata.plugins", "store"},
        {"strata.data_dir", (cluster.dir() / "data").string()},
        // accounts: a layer-4 front end reads name and balance, never secret; balance is
        // written by layers 0-1 and the key named app.
        {"strata.plugin.store.collection.accounts.attribute.secret.read", "0-2"},
        {"strata.plugin.store.collection.accounts.attribute.balance.write", "0-1, app"},
        {"strata.plugin.store.collection.notes.write", "*"},
    };
    for (auto& [k, v] : extra) keys[k] = v;
    return keys;
  }

  Process& startStore(std::map<std::string, std::string> extra = {}, const std::string& name = "store") {
    auto& node = cluster.startNode(name, "", storeConfig(std::move(extra)));
    return node;
  }

  static nodes::Response call(Client& client, const std::string& service, const std::string& body) {
    nodes::OutgoingRequest request;
    request.service = service;
    request.body = {body};
    request.timeout = 10s;
    return client.call(std::move(request));
  }

  // Every object of collection as the store holds it, read at layer 2.
  State storeState(Client& client, const std::string& collection) {
    State out;
    std::string after;
    while (true) {
      auto r = call(client, "store.list",
                    "{\"collection\":\"" + collection + "\",\"limit\":1000,\"after_key\":" + jsonOf(after) + "}");
      EXPECT_TRUE(r.ok) << r.errorText;
      if (!r.ok) return out;
      auto page = parse(r.bodyText());
      auto objects = page->getArray("objects");
      for (unsigned i = 0; i < objects->size(); ++i) {
        auto o = objects->getObject(i);
        out[o->getValue<std::string>("key")] = {o->getValue<std::int64_t>("revision"), jsonOf(o->get("attributes"))};
      }
      if (!page->getValue<bool>("more")) return out;
      after = page->getValue<std::string>("next");
    }
  }

  Cluster cluster;
};

TEST_F(Store, WritesReadsAndACompareAndSetConflictThatChangesNothing) {
  startStore();
  Client app(cluster.clientOptions("app"));
  auto put = call(app, "store.put", putBody("notes", "a1", R"({"title":"Grüße 東京","n":1})"));
  ASSERT_TRUE(put.ok) << put.errorText;
  auto revision = parse(put.bodyText())->getValue<std::int64_t>("revision");
  EXPECT_GT(revision, 0);

  auto got = call(app, "store.get", R"({"collection":"notes","key":"a1"})");
  ASSERT_TRUE(got.ok) << got.errorText;
  auto object = parse(got.bodyText());
  EXPECT_TRUE(object->getValue<bool>("exists"));
  EXPECT_EQ(object->getObject("attributes")->getValue<std::string>("title"), "Grüße 東京");

  // A write that expects another revision is refused with `conflict` and changes nothing.
  auto stale = call(app, "store.put", putBody("notes", "a1", R"({"title":"lost"})", revision - 1 + 100));
  EXPECT_FALSE(stale.ok);
  EXPECT_EQ(stale.errorCode, ErrorCode::kConflict) << stale.errorText;
  EXPECT_NE(stale.errorText.find("nothing changed"), std::string::npos) << stale.errorText;
  auto create = call(app, "store.put", putBody("notes", "a1", R"({"title":"again"})", 0));
  EXPECT_EQ(create.errorCode, ErrorCode::kConflict) << create.errorText;
  got = call(app, "store.get", R"({"collection":"notes","key":"a1"})");
  EXPECT_EQ(parse(got.bodyText())->getObject("attributes")->getValue<std::string>("title"), "Grüße 東京");

  // The expected revision: applied; patch merges and null removes.
  auto fresh = call(app, "store.patch",
                    R"({"collection":"notes","key":"a1","attributes":{"n":2,"title":null},"expect":)" +
                        std::to_string(revision) + "}");
  ASSERT_TRUE(fresh.ok) << fresh.errorText;
  got = call(app, "store.get", R"({"collection":"notes","key":"a1"})");
  EXPECT_EQ(jsonOf(parse(got.bodyText())->get("attributes")), R"({"n":2})");

  // One request id applied once, however often it is sent.
  nodes::OutgoingRequest once;
  once.service = "store.patch";
  once.body = {R"({"collection":"notes","key":"a1","attributes":{"n":{"inc":1}}})"};
  once.id = core::MessageId::generate();
  once.timeout = 5s;
  auto first = app.call(once);
  auto second = app.call(once);
  ASSERT_TRUE(first.ok && second.ok) << first.errorText << second.errorText;
  EXPECT_EQ(first.bodyText(), second.bodyText());

  // Listing by prefix, and the end of a key.
  for (const char* key : {"b1", "b2", "c1"}) ASSERT_TRUE(call(app, "store.put", putBody("notes", key, "{}")).ok);
  auto listed = call(app, "store.list", R"({"collection":"notes","prefix":"b"})");
  ASSERT_TRUE(listed.ok) << listed.errorText;
  auto objects = parse(listed.bodyText())->getArray("objects");
  ASSERT_EQ(objects->size(), 2u) << listed.bodyText();
  EXPECT_EQ(objects->getObject(0)->getValue<std::string>("key"), "b1");

  auto removed = call(app, "store.delete", R"({"collection":"notes","key":"b1"})");
  ASSERT_TRUE(removed.ok) << removed.errorText;
  got = call(app, "store.get", R"({"collection":"notes","key":"b1"})");
  EXPECT_FALSE(parse(got.bodyText())->getValue<bool>("exists"));

  // Hostile input gets a clear `malformed` and changes nothing.
  for (const std::string bad : {"not json", R"({"collection":"notes"})", R"({"collection":"no/slash","key":"k","attributes":{}})",
                                R"({"collection":"notes","key":"k","attributes":[]})",
                                R"({"collection":"notes","key":"k","attributes":{},"extra":1})",
                                R"({"collection":"notes","key":"k","attributes":{},"expect":-1})"}) {
    auto r = call(app, "store.put", bad);
    EXPECT_EQ(r.errorCode, ErrorCode::kMalformed) << bad << " -> " << r.errorText;
  }
}

TEST_F(Store, AFrontEndNeverSeesAHiddenAttributeAndCannotWriteAReadOnlyOne) {
  startStore();
  Client app(cluster.clientOptions("app"));
  Client front(cluster.clientOptions("front"));
  ASSERT_TRUE(call(app, "store.put", putBody("accounts", "acme", R"({"name":"Acme","balance":10,"secret":"s3cr3t"})")).ok);

  auto got = call(front, "store.get", R"({"collection":"accounts","key":"acme"})");
  ASSERT_TRUE(got.ok) << got.errorText;
  EXPECT_EQ(got.bodyText().find("s3cr3t"), std::string::npos) << got.bodyText();
  EXPECT_EQ(got.bodyText().find("secret"), std::string::npos) << got.bodyText();
  EXPECT_NE(got.bodyText().find("Acme"), std::string::npos) << got.bodyText();

  Model frontView, appView;
  ObjectWatch frontWatch(front, "accounts", "", frontView.handlers());
  ObjectWatch appWatch(app, "accounts", "", appView.handlers());
  ASSERT_TRUE(waitUntil([&] { return frontView.isReady() && appView.isReady(); }, 10s));

  // A change to the hidden attribute only: the layer-2 watcher sees it, the front end nothing.
  ASSERT_TRUE(call(app, "store.patch", R"({"collection":"accounts","key":"acme","attributes":{"secret":"n3w"}})").ok);
  ASSERT_TRUE(call(app, "store.patch", R"({"collection":"accounts","key":"acme","attributes":{"name":"Acme Ltd"}})").ok);
  ASSERT_TRUE(waitUntil([&] { return appView.seen().size() == 2 && frontView.seen().size() == 1; }, 10s))
      << appView.seen().size() << " " << frontView.seen().size();
  EXPECT_EQ(frontView.seen(), std::vector<std::int64_t>{appView.seen()[1]}) << "the front end got the hidden change";

  // A front end may not write balance (layers 0-1) nor the hidden secret; nothing changes.
  ASSERT_TRUE(call(app, "store.put", putBody("notes", "x", "{}")).ok);  // notes: anyone may write
  auto refused = call(front, "store.patch", R"({"collection":"accounts","key":"acme","attributes":{"balance":1000000}})");
  EXPECT_EQ(refused.errorCode, ErrorCode::kForbidden) << refused.errorText;
  EXPECT_NE(refused.errorText.find("nothing changed"), std::string::npos) << refused.errorText;
  // A put by the front end would drop the secret: refused without naming it.
  auto drop = call(front, "store.put", putBody("accounts", "acme", R"({"name":"x"})"));
  EXPECT_EQ(drop.errorCode, ErrorCode::kForbidden) << drop.errorText;
  EXPECT_EQ(drop.errorText.find("secret"), std::string::npos) << drop.errorText;

  auto after = call(app, "store.get", R"({"collection":"accounts","key":"acme"})");
  auto attributes = parse(after.bodyText())->getObject("attributes");
  EXPECT_EQ(attributes->getValue<int>("balance"), 10);
  EXPECT_EQ(attributes->getValue<std::string>("secret"), "n3w");

  std::lock_guard lock(frontView.mutex);
  for (const auto& text : frontView.texts) EXPECT_EQ(text.find("s3cr"), std::string::npos) << text;
  for (const auto& text : frontView.texts) EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_FALSE(frontView.texts.empty());
}

TEST_F(Store, WatchersOfConcurrentWritersEndWithTheStoresStateInRevisionOrder) {
  startStore();
  Client app(cluster.clientOptions("app"));
  Model early;
  ObjectWatch earlyWatch(app, "orders", "", early.handlers());
  ASSERT_TRUE(waitUntil([&] { return early.isReady(); }, 10s));

  constexpr int kWriters = 5, kChangesEach = 2000, kKeys = 50;
  std::atomic<int> failures{0};
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  std::vector<std::unique_ptr<Client>> clients;
  for (int w = 0; w < kWriters; ++w) clients.push_back(std::make_unique<Client>(cluster.clientOptions("app")));
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 random(static_cast<unsigned>(w));
      for (int i = 0; i < kChangesEach; ++i) {
        auto key = "k" + std::to_string(random() % kKeys);
        std::string service = i % 10 == 9 ? "store.delete" : (i % 2 == 0 ? "store.put" : "store.patch");
        std::string body = service == "store.delete"
                               ? R"({"collection":"orders","key":")" + key + "\"}"
                               : putBody("orders", key, R"({"by":)" + std::to_string(w) + R"(,"i":)" + std::to_string(i) + "}");
        if (!call(*clients[w], service, body).ok) ++failures;
        ++written;
      }
    });
  }
  // Two more watchers join while the writes go on.
  ASSERT_TRUE(waitUntil([&] { return written.load() >= 2000; }, 60s));
  Model middle, late;
  ObjectWatch middleWatch(app, "orders", "", middle.handlers());
  ASSERT_TRUE(waitUntil([&] { return written.load() >= 5000; }, 60s));
  ObjectWatch lateWatch(app, "orders", "k1", late.handlers());
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);

  auto expected = storeState(app, "orders");
  State expectedK1;
  for (auto& [k, v] : expected) {
    if (k.rfind("k1", 0) == 0) expectedK1[k] = v;
  }
  ASSERT_TRUE(waitUntil([&] { return early.state() == expected && middle.state() == expected && late.state() == expectedK1; },
                        30s))
      << early.state().size() << "/" << expected.size();
  for (auto* model : {&early, &middle, &late}) EXPECT_TRUE(strictlyIncreasing(model->seen()));
  // The first watcher was there from the start, and orders is the only collection written:
  // it saw every revision from the first to the head, each once.
  auto listed = parse(call(app, "store.list", R"({"collection":"orders","limit":1})").bodyText());
  auto seen = early.seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 1);
  EXPECT_EQ(seen.back(), listed->getValue<std::int64_t>("revision"));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(seen.back()));  // strictly increasing from 1: none missing
}

TEST_F(Store, AWatcherCutOffForFiveSecondsCatchesUpWithExactlyTheChangesItMissed) {
  startStore();
  Client app(cluster.clientOptions("app"));
  TcpProxy proxy(cluster.brokerEndpoint());
  auto options = cluster.clientOptions("app");
  options.endpoints = {proxy.endpoint()};
  Client behind(options);
  Model cut, direct;
  ObjectWatch cutWatch(behind, "parts", "", cut.handlers());
  ObjectWatch directWatch(app, "parts", "", direct.handlers());
  ASSERT_TRUE(waitUntil([&] { return cut.isReady() && direct.isReady(); }, 10s));

  proxy.blackHole(true);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(call(app, "store.put", putBody("parts", "p" + std::to_string(i % 100), R"({"i":)" + std::to_string(i) + "}")).ok);
  }
  std::this_thread::sleep_for(5s);  // the partition's length is what is tested
  proxy.blackHole(false);
  auto expected = storeState(app, "parts");
  ASSERT_TRUE(waitUntil([&] { return cut.state() == expected; }, 30s)) << cut.seen().size();
  // Exactly the changes made, each once, in order: the same as the watcher never cut off.
  ASSERT_TRUE(waitUntil([&] { return direct.seen().size() == 1000; }, 10s));
  EXPECT_EQ(cut.seen(), direct.seen());
}

TEST_F(Store, ABrokerKilledUnderWatchersLosesNoChangeAndRepeatsNone) {
  auto second = cluster.startExtraBroker("second", brokerPolicy());
  std::string pool = cluster.brokerEndpoint() + ", " + second.endpoint;
  startStore({{"strata.brokers", pool}});
  ASSERT_TRUE(second.process.waitForLog("worker registered name=store ", 10s));
  auto options = cluster.clientOptions("app");
  options.endpoints = {cluster.brokerEndpoint(), second.endpoint};
  Client app(options);
  Client writer(options);
  Model watcher;
  ObjectWatch watch(app, "bins", "", watcher.handlers());
  ASSERT_TRUE(waitUntil([&] { return watcher.isReady(); }, 10s));
  for (int i = 0; i < 3000; ++i) {
    if (i == 1000) ::kill(cluster.broker().pid(), SIGKILL);
    auto r = call(writer, "store.put", putBody("bins", "b" + std::to_string(i % 200), R"({"i":)" + std::to_string(i) + "}"));
    ASSERT_TRUE(r.ok) << i << ": " << r.errorText;
  }
  auto expected = storeState(writer, "bins");
  ASSERT_TRUE(waitUntil([&] { return watcher.state() == expected; }, 30s)) << watcher.seen().size();
  EXPECT_EQ(watcher.seen().size(), 3000u);
  EXPECT_TRUE(strictlyIncreasing(watcher.seen()));
}

TEST_F(Store, AWatcherPastTheLogsRetentionIsToldAndGetsAFreshSnapshot) {
  startStore({{"strata.plugin.store.retention", "20"}});
  Client app(cluster.clientOptions("app"));
  TcpProxy proxy(cluster.brokerEndpoint());
  auto options = cluster.clientOptions("app");
  options.endpoints = {proxy.endpoint()};
  Client behind(options);
  Model model;
  ObjectWatch watch(behind, "logs", "", model.handlers());
  ASSERT_TRUE(waitUntil([&] { return model.isReady(); }, 10s));
  proxy.blackHole(true);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(call(app, "store.put", putBody("logs", "l" + std::to_string(i % 30), R"({"i":)" + std::to_string(i) + "}")).ok);
  }
  std::this_thread::sleep_for(4s);  // long enough for the stream to be lost, as a real cut would
  proxy.blackHole(false);
  auto expected = storeState(app, "logs");
  ASSERT_TRUE(waitUntil([&] { return model.state() == expected; }, 30s));
  std::lock_guard lock(model.mutex);
  EXPECT_GE(model.resets, 1);
}

TEST_F(Store, TwoStoreNodesOnOnePostgresqlDatabaseAndOneKilled) {
  PostgresServer postgres;
  std::map<std::string, std::string> pg{{"strata.plugin.store.connector", "postgresql"},
                                        {"strata.plugin.store.database", postgres.uri()},
                                        {"strata.plugin.store.poll_ms", "20"}};
  auto& first = startStore(pg);
  startStore(pg, "store2");
  Client app(cluster.clientOptions("app"));
  std::vector<std::unique_ptr<Model>> models;
  std::vector<std::unique_ptr<ObjectWatch>> watches;
  for (int i = 0; i < 4; ++i) {
    models.push_back(std::make_unique<Model>());
    watches.push_back(std::make_unique<ObjectWatch>(app, "fleet", "", models.back()->handlers()));
  }
  ASSERT_TRUE(waitUntil([&] {
    for (auto& m : models) if (!m->isReady()) return false;
    return true;
  }, 20s));
  for (int i = 0; i < 1500; ++i) {
    if (i == 500) ::kill(first.pid(), SIGKILL);
    auto r = call(app, "store.put", putBody("fleet", "f" + std::to_string(i % 100), R"({"i":)" + std::to_string(i) + "}"));
    ASSERT_TRUE(r.ok) << i << ": " << r.errorText;
  }
  auto expected = storeState(app, "fleet");
  for (auto& m : models) {
    ASSERT_TRUE(waitUntil([&] { return m->state() == expected; }, 30s)) << m->seen().size();
    EXPECT_EQ(m->seen().size(), 1500u);
    EXPECT_TRUE(strictlyIncreasing(m->seen()));
  }
}

TEST_F(Store, TheWatchCommandPrintsTheObjectsThenTheChanges) {
  startStore();
  Client app(cluster.clientOptions("app"));
  ASSERT_TRUE(call(app, "store.put", putBody("accounts", "acme", R"({"name":"Acme","secret":"hidden"})")).ok);
  auto snapshot = runProgram(cliBinary(), {"watch", "--config", cluster.clientConfig("front").string(), "accounts",
                                           "--snapshot"});
  EXPECT_EQ(snapshot.exitCode, 0) << snapshot.err;
  EXPECT_NE(snapshot.out.find("acme "), std::string::npos) << snapshot.out;
  EXPECT_NE(snapshot.out.find("-- ready at revision"), std::string::npos) << snapshot.out;
  EXPECT_EQ(snapshot.out.find("hidden"), std::string::npos) << snapshot.out;

  // Writes go on until the watcher has printed one change and left.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; !done && i < 200; ++i) {
      call(app, "store.patch", R"({"collection":"accounts","key":"acme","attributes":{"name":"Acme )" +
                                   std::to_string(i) + "\"}}");
      std::this_thread::sleep_for(100ms);  // a pace, not a wait for a condition
    }
  });
  auto changes = runProgram(cliBinary(), {"watch", "--config", cluster.clientConfig("app").string(), "accounts/ac",
                                          "--count", "1", "--json", "--timeout", "20000"});
  done = true;
  writer.join();
  EXPECT_EQ(changes.exitCode, 0) << changes.err;
  EXPECT_NE(changes.out.find(R"("type":"change")"), std::string::npos) << changes.out;
  EXPECT_NE(changes.out.find("Acme "), std::string::npos) << changes.out;
  EXPECT_EQ(countOf(changes.out, R"("type":"change")"), 1u) << changes.out;
}

}  // namespace
}  // namespace strata::test
