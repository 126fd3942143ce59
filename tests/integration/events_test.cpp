// Publish/subscribe through real brokers on 127.0.0.1: a pool with a broker killed for
// real, a subscriber frozen with SIGSTOP, the policy, and hostile input.

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <zmq.hpp>

#include <strata/codecs/wire_codec.h>
#include <strata/core/socket_setup.h>
#include <strata/nodes/client.h>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using nodes::Client;
using nodes::Event;
using nodes::OutgoingEvent;

// The last "name":N in json: for strata.subjects, the broker's total after the sessions' own.
std::uint64_t jsonNumber(const std::string& json, const std::string& name) {
  std::regex re("\"" + name + "\":([0-9]+)");
  std::uint64_t last = 0;
  for (std::sregex_iterator it(json.begin(), json.end(), re), end; it != end; ++it) last = std::stoull((*it)[1]);
  return last;
}

std::uint64_t residentKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// What one subscriber's application saw: each event's publisher sequence number, in order.
struct Seen {
  std::mutex mutex;
  std::vector<std::uint64_t> sequences;
  std::set<std::string> subjects;
  std::uint64_t lost = 0;

  Client::EventHandler handler() {
    return [this](const Event& e) {
      std::lock_guard lock(mutex);
      sequences.push_back(codecs::eventSequence(e.id));
      subjects.insert(e.subject);
    };
  }
  Client::LostHandler lostHandler() {
    return [this](std::uint64_t n, const std::string&) {
      std::lock_guard lock(mutex);
      lost += n;
    };
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return sequences.size();
  }
};

// Publishes count events on subject with up to window awaiting acceptance; calls
// between(i) before event i. Returns how many were accepted.
std::uint64_t publishMany(Client& client, const std::string& subject, std::uint64_t count, std::uint64_t window,
                          std::size_t bodySize, const std::function<void(std::uint64_t)>& between = nullptr) {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t inFlight = 0;
  std::uint64_t accepted = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (between) between(i);
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return inFlight < window; });
      ++inFlight;
    }
    client.publishAsync(OutgoingEvent{subject, std::string(bodySize, 'e'), {}, 20s}, [&](nodes::PublishResult&& r) {
      std::lock_guard lock(mutex);
      --inFlight;
      accepted += r.ok ? 1 : 0;
      changed.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return inFlight == 0; });
  return accepted;
}

class Events : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("store", 1);
    cluster.addIdentity("logic", 2);
    cluster.addIdentity("front", 4);
  }

  std::string subjects(const std::string& identity, const std::string& endpoint) {
    auto options = cluster.clientOptions(identity);
    options.endpoints = {endpoint};
    Client client(std::move(options));
    return client.call(std::string(codecs::kSubjectsService), "", 5s).bodyText();
  }

  Cluster cluster;
};

TEST_F(Events, ASubscriberGetsEachEventWithItsSubjectHeadersAndPublisher) {
  cluster.startBroker();
  Client subscriber(cluster.clientOptions("front"));
  std::mutex mutex;
  std::vector<Event> got;
  auto subscription = subscriber.subscribe({"orders.>"}, [&](const Event& e) {
    std::lock_guard lock(mutex);
    got.push_back(e);
  });
  Client publisher(cluster.clientOptions("logic"));
  auto result = publisher.publish(OutgoingEvent{"orders.eu.created", "Grüße, 東京", {{"trace", "t-1"}}, {}});
  ASSERT_TRUE(result.ok) << result.errorText;
  ASSERT_TRUE(publisher.publish("audit.login", "not for it").ok);
  ASSERT_TRUE(publisher.publish("orders.us", "second").ok);
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard lock(mutex);
        return got.size() >= 2;
      },
      10s));
  std::lock_guard lock(mutex);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].subject, "orders.eu.created");
  EXPECT_EQ(got[0].body, "Grüße, 東京");
  EXPECT_EQ(got[0].id, result.id);
  EXPECT_EQ(got[0].publisher.name, "logic");
  EXPECT_EQ(got[0].publisher.layer, 2);
  EXPECT_EQ(nodes::findHeader(got[0].headers, "trace"), "t-1");
  EXPECT_EQ(got[1].subject, "orders.us");
}

TEST_F(Events, ThePolicyRefusesAPublishAndASubscriptionWithTheReason) {
  cluster.startBroker({{"strata.events.publish.1", "store.>"}, {"strata.events.subscribe.4", "public.>"}});
  Client front(cluster.clientOptions("front"));
  auto refused = front.publish("store.orders.changed", "x");
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.errorCode, codecs::ErrorCode::kForbidden);
  EXPECT_NE(refused.errorText.find("layer 4 may not publish on 'store.orders.changed'"), std::string::npos)
      << refused.errorText;
  Client store(cluster.clientOptions("store"));
  EXPECT_TRUE(store.publish("store.orders.changed", "x").ok);
  auto other = store.publish("orders.changed", "x");
  EXPECT_EQ(other.errorCode, codecs::ErrorCode::kForbidden) << other.errorText;
  try {
    auto s = front.subscribe({"public.news", "store.>"}, [](const Event&) {});
    ADD_FAILURE() << "a forbidden subscription was taken";
  } catch (const nodes::SubscribeError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 4 may not subscribe to 'store.>'"), std::string::npos) << e.what();
    EXPECT_EQ(e.exitCode(), ExitCode::kNoPermission);
  }
  // All or nothing: the allowed pattern of the refused message was not taken either.
  EXPECT_EQ(jsonNumber(subjects("front", cluster.brokerEndpoint()), "subscriptions_refused"), 1u);
  EXPECT_EQ(subjects("front", cluster.brokerEndpoint()).find("public.news"), std::string::npos);
  auto allowed = front.subscribe({"public.>"}, [](const Event&) {});
  EXPECT_TRUE(allowed.active());
}

TEST_F(Events, TheCommandLineToolPublishesAndSubscribes) {
  cluster.startBroker({{"strata.events.publish.1", "store.>"}});
  auto frontConfig = cluster.clientConfig("front");
  auto& subscriber = cluster.startProcess(
      cliBinary(), {"subscribe", "--config", frontConfig.string(), "store.>", "--json", "--count", "2"}, "sub.log");
  ASSERT_TRUE(subscriber.waitForLog("subscribed to store.>", 10s)) << subscriber.log();
  auto storeConfig = cluster.clientConfig("store");
  auto one = runProgram(cliBinary(), {"publish", "--config", storeConfig.string(), "store.kunden.änderung", "-H",
                                      "k=v"},
                        "erste Zeile\n");
  EXPECT_EQ(one.exitCode, 0) << one.err;
  auto many = runProgram(cliBinary(), {"publish", "--config", storeConfig.string(), "store.x", "--repeat", "1",
                                       "--size", "3"});
  EXPECT_EQ(many.exitCode, 0) << many.out;
  EXPECT_NE(many.out.find("events=1 ok=1 errors=0 ev_per_s="), std::string::npos) << many.out;
  auto forbidden = runProgram(cliBinary(), {"publish", "--config", frontConfig.string(), "store.x", "y"});
  EXPECT_EQ(forbidden.exitCode, 77) << forbidden.err;
  EXPECT_NE(forbidden.err.find("may not publish"), std::string::npos) << forbidden.err;
  ASSERT_TRUE(subscriber.wait(10s).has_value()) << subscriber.log();
  auto log = subscriber.log();
  EXPECT_NE(log.find("\"subject\":\"store.kunden.änderung\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"body\":\"erste Zeile\\n\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"publisher\":{\"layer\":1,\"name\":\"store\"}"), std::string::npos) << log;
  EXPECT_NE(log.find("\"headers\":{\"k\":\"v\"}"), std::string::npos) << log;
}

TEST_F(Events, StampedEventsGiveTheSubscriberTheirLatency) {
  cluster.startBroker();
  auto& subscriber = cluster.startProcess(cliBinary(),
                                          {"subscribe", "--config", cluster.clientConfig("front").string(), "tick",
                                           "--quiet", "--summary", "--stamped", "--count", "200"},
                                          "sub.log");
  ASSERT_TRUE(subscriber.waitForLog("subscribed to tick", 10s)) << subscriber.log();
  auto config = cluster.clientConfig("logic").string();
  // The stamp takes the body's first 8 bytes: a shorter body is refused before anything is sent.
  auto tooShort = runProgram(cliBinary(), {"publish", "--config", config, "tick", "--stamp", "--size", "7"});
  EXPECT_EQ(tooShort.exitCode, 64) << tooShort.err;
  EXPECT_NE(tooShort.err.find("at least 8 bytes"), std::string::npos) << tooShort.err;
  auto sent = runProgram(cliBinary(), {"publish", "--config", config, "tick", "--stamp", "--size", "64", "--repeat",
                                       "200", "--rate", "2000"});
  EXPECT_EQ(sent.exitCode, 0) << sent.out << sent.err;
  ASSERT_TRUE(subscriber.wait(10s).has_value()) << subscriber.log();
  // events=200 dropped=0 ev_per_s=N p50_us=N p99_us=N, with latencies from the stamps.
  auto log = subscriber.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(events=200 dropped=0 ev_per_s=\d+ p50_us=(\d+) p99_us=(\d+))")))
      << log;
  auto p50 = std::stoull(m[1]);
  auto p99 = std::stoull(m[2]);
  EXPECT_GT(p99, 0u) << log;
  EXPECT_LE(p50, p99) << log;
  EXPECT_LT(p99, 10'000'000u) << "a latency of more than 10 s is no stamp read right: " << log;
}

TEST_F(Events, StrataServicesListsSubjectPatternsWithTheirSubscribers) {
  cluster.startBroker();
  Client a(cluster.clientOptions("front"));
  Client b(cluster.clientOptions("logic"));
  auto sa = a.subscribe({"orders.>", "audit.*"}, [](const Event&) {});
  auto sb = b.subscribe({"orders.>"}, [](const Event&) {});
  ASSERT_TRUE(b.publish("orders.eu", "x").ok);
  auto r = runProgram(cliBinary(), {"services", "--config", cluster.clientConfig("front").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("orders\\.> +2\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("audit\\.\\* +1\n"))) << r.out;
  EXPECT_NE(r.out.find("events: 1 published"), std::string::npos) << r.out;
  auto json = runProgram(cliBinary(), {"services", "--json", "--config", cluster.clientConfig("front").string()});
  EXPECT_NE(json.out.find("\"subjects\":{\"patterns\":["), std::string::npos) << json.out;
}

TEST_F(Events, AFrozenSubscriberSlowsNobodyAndHearsHowManyItLost) {
  constexpr std::uint64_t kEvents = 50'000;
  constexpr std::size_t kBody = 1024;
  // Each subscriber's queue holds 4 MiB; the publisher is paced to a rate the others can
  // keep up with on a shared machine, so only the frozen one falls behind.
  auto endpoint = cluster.startBroker({{"strata.events.queue_bytes", "4194304"}, {"strata.events.linger_ms", "60000"}});
  auto& frozen = cluster.startProcess(
      cliBinary(),
      {"subscribe", "--config", cluster.clientConfig("front").string(), "load.>", "--quiet", "--summary", "--count",
       std::to_string(kEvents), "--timeout", "3000"},
      "frozen.log");
  ASSERT_TRUE(frozen.waitForLog("subscribed to load.>", 10s)) << frozen.log();
  frozen.signal(SIGSTOP);
  Seen others[2];
  Client a(cluster.clientOptions("front"));
  Client b(cluster.clientOptions("logic"));
  auto subA = a.subscribe({"load.>"}, others[0].handler());
  auto subB = b.subscribe({"load.*"}, others[1].handler());
  Client publisher(cluster.clientOptions("logic"));
  std::uint64_t highestRss = 0;
  constexpr auto kPerEvent = 50us;  // 20,000 events a second
  auto start = std::chrono::steady_clock::now();
  auto accepted = publishMany(publisher, "load.x", kEvents, 500, kBody, [&](std::uint64_t i) {
    if (i % 5000 == 0) highestRss = std::max(highestRss, residentKiB(cluster.broker().pid()));
    if (i % 100 == 0) std::this_thread::sleep_until(start + i * kPerEvent);
  });
  EXPECT_EQ(accepted, kEvents);
  ASSERT_TRUE(waitUntil([&] { return others[0].count() == kEvents && others[1].count() == kEvents; }, 60s))
      << others[0].count() << " and " << others[1].count() << " of " << kEvents;
  highestRss = std::max(highestRss, residentKiB(cluster.broker().pid()));
  // 50,000 events of 1 KiB held for the frozen one would be 50 MiB; its queue holds 4 MiB.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under a sanitizer the broker's resident memory holds shadow memory and (ASan) every
  // freed block kept in quarantine, so it says nothing of the queue's bound; the drop
  // count below still shows the bound at work.
  constexpr bool kResidentMemoryMeans = false;
#else
  constexpr bool kResidentMemoryMeans = true;
#endif
  if (kResidentMemoryMeans) {
    EXPECT_LT(highestRss, 40u * 1024) << "broker resident memory " << highestRss << " KiB";
  }
  std::cout << "broker resident memory at most " << highestRss << " KiB\n";
  auto held = subjects("logic", endpoint);
  EXPECT_GT(jsonNumber(held, "dropped"), 0u) << held;
  frozen.signal(SIGCONT);
  ASSERT_TRUE(frozen.wait(30s).has_value()) << frozen.log();
  auto log = frozen.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("events=([0-9]+) dropped=([0-9]+)"))) << log;
  auto got = std::stoull(m[1]);
  auto lost = std::stoull(m[2]);
  EXPECT_GT(lost, 0u) << log;
  EXPECT_NE(log.find("lost " + std::to_string(lost)), std::string::npos) << log;
  // Nothing vanished without a word: what it got and what it was told it lost add up.
  EXPECT_EQ(got + lost, kEvents) << log;
}

TEST_F(Events, HostileInputIsRefusedAndCountedWhileTheBrokerServes) {
  auto endpoint = cluster.startBroker();
  Client attacker(cluster.clientOptions("front"));
  // A subject past the protocol's bound never leaves the client; one past the broker's
  // configured bound (256 bytes) is refused by the broker.
  auto huge = attacker.publish(std::string(1 << 20, 's'), "x");
  EXPECT_EQ(huge.errorCode, codecs::ErrorCode::kMalformed) << huge.errorText;
  Client logic(cluster.clientOptions("logic"));
  auto tooLong = logic.publish(std::string(300, 's'), "x");
  EXPECT_EQ(tooLong.errorCode, codecs::ErrorCode::kTooLarge) << tooLong.errorText;
  EXPECT_NE(tooLong.errorText.find("strata.events.max_subject"), std::string::npos) << tooLong.errorText;
  // 100,000 subscriptions from one peer: the first 1,000 are held, the rest refused.
  std::size_t refusedBatches = 0;
  std::vector<Client::Subscription> held;
  for (int batch = 0; batch < 400; ++batch) {
    std::vector<std::string> patterns;
    for (int i = 0; i < 250; ++i) patterns.push_back("flood." + std::to_string(batch) + "." + std::to_string(i));
    try {
      held.push_back(attacker.subscribe(patterns, [](const Event&) {}));
    } catch (const nodes::SubscribeError& e) {
      ++refusedBatches;
      EXPECT_NE(std::string(e.what()).find("strata.events.max_subscriptions"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(held.size(), 4u);
  EXPECT_EQ(refusedBatches, 396u);
  // Malformed event frames from an authorized peer.
  {
    zmq::context_t context;
    zmq::socket_t raw(context, zmq::socket_type::dealer);
    core::makeCurveClient(raw, core::loadSecretKey(cluster.keyFile("front")),
                          core::loadPublicKey(cluster.pubFile("broker")), core::Limits{});
    raw.connect(endpoint);
    std::string id(16, '\x01');
    for (const std::string& junk : {"ST\x02\x09"s + id + std::string(8, '\0'), "ST\x02\x09"s + id,
                                    "ST\x02\x0b"s + id + "\xff\xff" + std::string(100, 'a'),
                                    "ST\x02\x0d"s + std::string(20, '\x01'), "ST\x02\x0e"s}) {
      raw.send(zmq::buffer(junk), zmq::send_flags::none);
    }
    // A PUBLISH whose subject runs to a megabyte: its u16 length cannot say so, so the
    // decoder refuses it as malformed, whatever the length field claims.
    std::string megabyte = "ST\x02\x0b"s + "\x00\x00\x00\x01"s + std::string(8, '\x01') + std::string(8, '\x02') +
                           "\x00\xff\xff"s + std::string(1 << 20, 's');
    raw.send(zmq::buffer(megabyte), zmq::send_flags::none);
    // What only a broker sends, from a client: refused too.
    auto events = codecs::encode(codecs::Events{1, 0, {{codecs::eventId(1, 1), {1, "x"}, "a", "", "b"}}});
    raw.send(zmq::buffer(events.front()), zmq::send_flags::none);
    ASSERT_TRUE(waitUntil([&] {
      return jsonNumber(logic.call("strata.stats", "", 5s).bodyText(), "malformed") >= 7;
    }, 10s)) << logic.call("strata.stats", "", 5s).bodyText();
  }
  // And it serves: a subscriber still gets what is published.
  Seen seen;
  auto sub = logic.subscribe({"after.>"}, seen.handler());
  ASSERT_TRUE(logic.publish("after.attack", "ok").ok);
  EXPECT_TRUE(waitUntil([&] { return seen.count() == 1; }, 10s));
  auto listing = subjects("logic", endpoint);
  EXPECT_EQ(jsonNumber(listing, "subscriptions_refused"), 396u) << listing.substr(0, 300);
}

class EventPool : public Events {
 protected:
  void SetUp() override {
    Events::SetUp();
    endpointA = cluster.startBroker();
    auto extra = cluster.startExtraBroker("broker-b");
    endpointB = extra.endpoint;
  }

  nodes::ClientOptions poolClient(const std::string& identity) {
    auto options = cluster.clientOptions(identity);
    options.endpoints = {endpointA, endpointB};
    options.pingInterval = 200ms;
    return options;
  }

  std::string endpointA;
  std::string endpointB;
};

TEST_F(EventPool, EachSubscriberSeesEveryEventOnceAndInOrderWhenABrokerIsKilled) {
  constexpr std::uint64_t kEvents = 20'000;
  constexpr std::uint64_t kKillAt = 7'000;
  Seen seen[3];
  Client exact(poolClient("front"));
  Client star(poolClient("front"));
  Client tail(poolClient("logic"));
  auto s0 = exact.subscribe({"plant.line1.temperature"}, seen[0].handler(), seen[0].lostHandler());
  auto s1 = star.subscribe({"plant.*.temperature"}, seen[1].handler(), seen[1].lostHandler());
  auto s2 = tail.subscribe({"plant.>"}, seen[2].handler(), seen[2].lostHandler());
  // Every broker holds every subscription before the first event goes out.
  for (const auto& endpoint : {endpointA, endpointB}) {
    ASSERT_TRUE(waitUntil([&] { return jsonNumber(subjects("logic", endpoint), "published") == 0 &&
                                       subjects("logic", endpoint).find("plant.>") != std::string::npos &&
                                       subjects("logic", endpoint).find("plant.*.temperature") != std::string::npos &&
                                       subjects("logic", endpoint).find("plant.line1.temperature") !=
                                           std::string::npos; },
                          10s));
  }
  Client publisher(poolClient("store"));
  auto accepted = publishMany(publisher, "plant.line1.temperature", kEvents, 200, 64, [&](std::uint64_t i) {
    if (i == kKillAt) cluster.broker().signal(SIGKILL);
  });
  EXPECT_EQ(accepted, kEvents);
  for (auto& s : seen) {
    ASSERT_TRUE(waitUntil([&] { return s.count() >= kEvents; }, 60s)) << s.count() << " of " << kEvents;
  }
  for (int i = 0; i < 3; ++i) {
    std::lock_guard lock(seen[i].mutex);
    const auto& got = seen[i].sequences;
    EXPECT_EQ(got.size(), kEvents) << "subscriber " << i;
    // In order and each once: the sequence numbers are exactly 1, 2, ..., kEvents.
    bool inOrder = true;
    for (std::size_t k = 0; k < got.size(); ++k) inOrder = inOrder && got[k] == k + 1;
    EXPECT_TRUE(inOrder) << "subscriber " << i;
  }
  // The killed broker comes back on its address: its subscriptions come back with it,
  // sent by the subscribers themselves.
  auto restarted = cluster.startExtraBroker("broker-a-again", {{"strata.broker.bind", endpointA}});
  ASSERT_EQ(restarted.endpoint, endpointA);
  ASSERT_TRUE(waitUntil([&] {
    auto listing = subjects("logic", endpointA);
    return listing.find("\"plant.>\",\"subscribers\":1") != std::string::npos &&
           listing.find("\"plant.*.temperature\",\"subscribers\":1") != std::string::npos &&
           listing.find("\"plant.line1.temperature\",\"subscribers\":1") != std::string::npos;
  }, 20s)) << subjects("logic", endpointA);
  // And events published now reach them through it as well.
  auto onlyA = cluster.clientOptions("store");
  onlyA.endpoints = {endpointA};
  Client publisherA(std::move(onlyA));
  ASSERT_TRUE(publisherA.publish("plant.line1.temperature", "after").ok);
  for (auto& s : seen) EXPECT_TRUE(waitUntil([&] { return s.count() == kEvents + 1; }, 10s));
}

}  // namespace
}  // namespace strata::test
