// Publish/subscribe in BrokerCore, without sockets: subscriptions and policy, batching,
// flow control, slow subscribers, sessions that outlive their connection.

#include <gtest/gtest.h>

#include <set>

#include "broker_harness.h"
#include "event_hub.h"
#include "subscription_table.h"

namespace strata::broker::test {
namespace {

using namespace std::chrono_literals;
using codecs::ErrorCode;
using codecs::eventId;

constexpr std::uint64_t kSession = 77;
constexpr std::uint64_t kPublisherSession = 5;

codecs::Subscribe subscribe(std::vector<std::string_view> patterns, std::uint64_t session = kSession) {
  return codecs::Subscribe{core::MessageId::generate(), session, std::move(patterns)};
}

// A PUBLISH of one event each on subjects, sequence numbers from first.
codecs::Publish publish(const std::vector<std::string_view>& subjects, std::uint64_t first = 1,
                        std::string_view body = "payload") {
  codecs::Publish p;
  for (auto subject : subjects) p.events.push_back({eventId(kPublisherSession, first++), {}, subject, "", body});
  return p;
}

class BrokerEvents : public ::testing::Test {
 protected:
  explicit BrokerEvents(EventSettings events = {}) : harness(settingsWith(events)) {}

  static BrokerSettings settingsWith(EventSettings events) {
    auto s = testSettings();
    s.events = events;
    return s;
  }

  // Subscribes user (on its own peer) and takes the broker's answer, which must be a REPLY.
  void subscribed(std::string_view user, std::vector<std::string_view> patterns, std::uint64_t session = kSession) {
    harness.send(user, subscribe(std::move(patterns), session));
    auto answer = harness.takeOne();
    ASSERT_TRUE(std::holds_alternative<codecs::Reply>(decodeSent(answer).message)) << answer.peer;
  }

  // The events sent to user since the last take, batch by batch.
  std::vector<codecs::Events> batchesFor(std::string_view user, std::vector<Sent>& keep) {
    keep = harness.takeFor(user);
    std::vector<codecs::Events> out;
    for (const auto& s : keep) {
      auto decoded = decodeSent(s);
      if (auto* e = std::get_if<codecs::Events>(&decoded.message)) out.push_back(*e);
    }
    return out;
  }

  Harness harness;
};

TEST_F(BrokerEvents, RelaysAnEventToEverySubscriberWhosePatternMatchesOnceEach) {
  subscribed(kFront, {"orders.>", "orders.*"});  // two patterns matching one subject: still once
  subscribed(kFront2, {"audit.*"});
  harness.send(kLogicA, publish({"orders.eu"}));
  harness.broker.flushEvents();
  std::vector<Sent> keep;
  auto front = batchesFor(kFront, keep);
  ASSERT_EQ(front.size(), 1u);
  ASSERT_EQ(front[0].events.size(), 1u);
  EXPECT_EQ(front[0].events[0].subject, "orders.eu");
  EXPECT_EQ(front[0].events[0].publisher.name, kLogicA);
  EXPECT_EQ(front[0].events[0].publisher.layer, 2);
  EXPECT_EQ(front[0].events[0].body, "payload");
  EXPECT_EQ(front[0].batch, 1u);
  harness.send(kLogicA, publish({"orders.eu"}, 2));
  harness.broker.flushEvents();
  EXPECT_TRUE(harness.takeFor(kFront2).empty());
}

TEST_F(BrokerEvents, GathersWhatOneTurnPublishesIntoOneBatch) {
  subscribed(kFront, {">"});
  harness.send(kLogicA, publish({"a", "b"}, 1));
  harness.send(kLogicA, publish({"c"}, 3));
  harness.broker.flushEvents();
  auto sent = harness.take();
  std::vector<codecs::Events> batches;
  std::vector<codecs::Accepted> accepted;
  for (const auto& s : sent) {
    auto d = decodeSent(s);
    if (auto* e = std::get_if<codecs::Events>(&d.message)) batches.push_back(*e);
    if (auto* a = std::get_if<codecs::Accepted>(&d.message)) accepted.push_back(*a);
  }
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].events.size(), 3u);
  EXPECT_EQ(batches[0].events[2].subject, "c");
  // One ACCEPTED for the publisher, its three events as one range.
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].session, kPublisherSession);
  ASSERT_EQ(accepted[0].ranges.size(), 1u);
  EXPECT_EQ(accepted[0].ranges[0].first, 1u);
  EXPECT_EQ(accepted[0].ranges[0].last, 3u);
}

TEST_F(BrokerEvents, SendsNoMoreThanTheWindowUntilTheSubscriberConfirms) {
  subscribed(kFront, {"x"});
  for (std::uint64_t i = 1; i <= codecs::kEventWindow + 3; ++i) {
    harness.send(kLogicA, publish({"x"}, i));
    harness.broker.flushEvents();
  }
  std::vector<Sent> keep;
  auto first = batchesFor(kFront, keep);
  ASSERT_EQ(first.size(), codecs::kEventWindow);
  // Confirming the first four lets the three waiting go, in one batch.
  harness.send(kFront, codecs::Received{kSession, 4});
  harness.broker.flushEvents();
  auto rest = batchesFor(kFront, keep);
  ASSERT_EQ(rest.size(), 1u);
  ASSERT_EQ(rest[0].events.size(), 3u);
  EXPECT_EQ(codecs::eventSequence(rest[0].events[0].id), codecs::kEventWindow + 1);
}

class SlowSubscriber : public BrokerEvents {
 protected:
  static EventSettings small() {
    EventSettings e;
    e.queueEvents = 5;
    return e;
  }
  SlowSubscriber() : BrokerEvents(small()) {}
};

TEST_F(SlowSubscriber, DropsItsOldestEventsAndSaysHowManyWithoutTouchingOthers) {
  subscribed(kFront, {"x"});
  subscribed(kFront2, {"x"});
  // kFront fills its window and never confirms; kFront2 confirms everything.
  std::uint64_t sequence = 1;
  for (std::size_t i = 0; i < codecs::kEventWindow; ++i) {
    harness.send(kLogicA, publish({"x"}, sequence++));
    harness.broker.flushEvents();
    harness.send(kFront2, codecs::Received{kSession, i + 1});
  }
  harness.take();
  // Twenty in one turn, four times kFront2's queue: it takes them in batches as they come.
  for (int i = 0; i < 20; ++i) harness.send(kLogicA, publish({"x"}, sequence++));
  harness.broker.flushEvents();
  std::vector<Sent> keep;
  std::size_t got = 0;
  for (const auto& batch : batchesFor(kFront2, keep)) {
    got += batch.events.size();
    EXPECT_EQ(batch.dropped, 0u);
  }
  EXPECT_EQ(got, 20u);
  // kFront confirms at last: it gets the newest five, and hears that fifteen were dropped.
  harness.send(kFront, codecs::Received{kSession, codecs::kEventWindow});
  harness.broker.flushEvents();
  auto slow = batchesFor(kFront, keep);
  ASSERT_EQ(slow.size(), 1u);
  ASSERT_EQ(slow[0].events.size(), 5u);
  EXPECT_EQ(slow[0].dropped, 15u);
  EXPECT_EQ(codecs::eventSequence(slow[0].events.back().id), sequence - 1);
  EXPECT_EQ(harness.broker.events().stats().dropped, 15u);
}

class TinyQueue : public BrokerEvents {
 protected:
  static EventSettings tiny() {
    EventSettings e;
    e.queueBytes = 64;
    return e;
  }
  TinyQueue() : BrokerEvents(tiny()) {}
};

TEST_F(TinyQueue, AnEventLargerThanTheWholeQueueIsDroppedAloneAndCounted) {
  subscribed(kFront, {"x"});
  // Fill the window so that events wait in the queue.
  std::uint64_t sequence = 1;
  for (std::size_t i = 0; i < codecs::kEventWindow; ++i) {
    harness.send(kLogicA, publish({"x"}, sequence++, "s"));
    harness.broker.flushEvents();
  }
  harness.take();
  harness.send(kLogicA, publish({"x"}, sequence++, "s"));                   // waits
  harness.send(kLogicA, publish({"x"}, sequence++, std::string(200, 'b')));  // can never fit
  harness.broker.flushEvents();
  harness.send(kFront, codecs::Received{kSession, codecs::kEventWindow});
  harness.broker.flushEvents();
  std::vector<Sent> keep;
  auto batches = batchesFor(kFront, keep);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].events.size(), 1u);  // the small one it held is still there
  EXPECT_EQ(batches[0].events[0].body, "s");
  EXPECT_EQ(batches[0].dropped, 1u);
}

TEST_F(BrokerEvents, ABatchRefusedByAFullConnectionGoesOutFirstOnceItDrains) {
  subscribed(kFront, {"x"});
  harness.outbox.full.insert(peerOf(kFront));
  harness.send(kLogicA, publish({"x"}, 1));
  harness.broker.flushEvents();
  harness.outbox.full.clear();
  harness.send(kLogicA, publish({"x"}, 2));
  harness.broker.flushEvents();
  std::vector<Sent> keep;
  auto batches = batchesFor(kFront, keep);
  ASSERT_EQ(batches.size(), 2u);  // the refused batch, then the new one: nothing lost, in order
  EXPECT_EQ(batches[0].batch, 1u);
  EXPECT_EQ(codecs::eventSequence(batches[0].events[0].id), 1u);
  EXPECT_EQ(batches[1].batch, 2u);
  EXPECT_EQ(codecs::eventSequence(batches[1].events[0].id), 2u);
}

class DisconnectingSlow : public BrokerEvents {
 protected:
  static EventSettings disconnecting() {
    EventSettings e;
    e.queueEvents = 2;
    e.slow = EventSettings::SlowPolicy::kDisconnect;
    return e;
  }
  DisconnectingSlow() : BrokerEvents(disconnecting()) {}
};

TEST_F(DisconnectingSlow, EndsTheSessionOfASubscriberPastItsQueueAndTellsIt) {
  subscribed(kFront, {"x"});
  std::uint64_t sequence = 1;
  for (std::size_t i = 0; i < codecs::kEventWindow; ++i) {
    harness.send(kLogicA, publish({"x"}, sequence++));
    harness.broker.flushEvents();
  }
  harness.take();
  harness.send(kLogicA, publish({"x", "x", "x"}, sequence));
  auto sent = harness.takeFor(kFront);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<codecs::Disconnect>(decodeSent(sent[0]).message));
  EXPECT_TRUE(harness.broker.events().empty());
  EXPECT_EQ(harness.broker.events().stats().disconnectedSlow, 1u);
}

TEST_F(BrokerEvents, ASessionWaitsForItsSubscriberToComeBackAndResendsWhatWasUnconfirmed) {
  subscribed(kFront, {"x"});
  harness.send(kLogicA, publish({"x"}, 1));
  harness.broker.flushEvents();
  harness.take();
  // Its connection goes; what comes meanwhile waits in its queue.
  harness.outbox.gone.insert(peerOf(kFront));
  harness.send(kLogicA, publish({"x"}, 2));
  harness.broker.flushEvents();
  harness.send(kLogicA, publish({"x"}, 3));
  harness.broker.flushEvents();
  harness.take();
  // It comes back on a new connection with the same session: batch 1 again (never
  // confirmed), then everything queued.
  harness.sendFrom("peer:front-again", kFront, subscribe({"x"}));
  harness.broker.flushEvents();
  std::vector<codecs::Events> batches;
  std::vector<Sent> sent = harness.take();
  for (const auto& s : sent) {
    EXPECT_EQ(s.peer, "peer:front-again");
    auto d = decodeSent(s);
    if (auto* e = std::get_if<codecs::Events>(&d.message)) batches.push_back(*e);
  }
  std::vector<std::uint64_t> sequences;
  for (const auto& b : batches)
    for (const auto& e : b.events) sequences.push_back(codecs::eventSequence(e.id));
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST_F(BrokerEvents, ASilentSessionEndsAfterItsLinger) {
  subscribed(kFront, {"x"});
  harness.advanceAndTick(EventSettings::kDefaultLinger - 1s);
  harness.send(kFront, request(core::MessageId::generate(), codecs::kPingService));  // its client's ping keeps it
  harness.advanceAndTick(EventSettings::kDefaultLinger - 1s);
  EXPECT_FALSE(harness.broker.events().empty());
  harness.advanceAndTick(2s);
  EXPECT_TRUE(harness.broker.events().empty());
}

TEST_F(BrokerEvents, UnsubscribingEverythingEndsTheSessionAtOnce) {
  subscribed(kFront, {"x", "y"});
  harness.send(kFront, codecs::Unsubscribe{core::MessageId::generate(), kSession, {"x"}});
  harness.take();
  harness.send(kLogicA, publish({"x", "y"}));
  harness.broker.flushEvents();
  std::vector<Sent> keep;
  auto batches = batchesFor(kFront, keep);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].events.size(), 1u);  // y only: x was unsubscribed
  EXPECT_EQ(batches[0].events[0].subject, "y");
  harness.send(kFront, codecs::Unsubscribe{core::MessageId::generate(), kSession, {}});
  EXPECT_TRUE(harness.broker.events().empty());
}

TEST_F(BrokerEvents, RefusesAPublishTheLayerMayNotMakeWithItsReason) {
  harness.send(kFront, publish({"orders.eu"}, 9));
  harness.broker.flushEvents();
  auto sent = harness.takeOne();
  expectError(sent, kFront, eventId(kPublisherSession, 9), ErrorCode::kForbidden);
  EXPECT_NE(sentAs<codecs::Error>(sent).text.find("layer 4 may not publish on 'orders.eu'"), std::string::npos);
  EXPECT_EQ(harness.broker.events().stats().refused, 1u);
}

TEST(BrokerEventPolicy, RefusesASubscriptionOutsideTheLayersRightsWholly) {
  core::LayerPolicy policy;
  policy.setSubscribeRights(4, "public.>");
  Harness harness(testSettings(), policy);
  auto message = subscribe({"public.news", "private.>"});
  harness.send(kFront, message);
  auto sent = harness.takeOne();
  expectError(sent, kFront, message.id, ErrorCode::kForbidden);
  EXPECT_NE(sentAs<codecs::Error>(sent).text.find("may not subscribe to 'private.>'"), std::string::npos);
  EXPECT_TRUE(harness.broker.events().empty());  // not even public.news
}

TEST_F(BrokerEvents, HoldsTheLimitsOnSubjectsAndSubscriptions) {
  std::string longSubject(EventSettings::kDefaultMaxSubject + 1, 's');
  harness.send(kLogicA, publish({longSubject}));
  expectError(harness.takeOne(), kLogicA, eventId(kPublisherSession, 1), ErrorCode::kTooLarge);
  std::string manyTokens = "t";
  for (std::size_t i = 0; i < EventSettings::kDefaultMaxTokens; ++i) manyTokens += ".t";
  harness.send(kFront, subscribe({manyTokens}));
  EXPECT_EQ(sentAs<codecs::Error>(harness.takeOne()).code, ErrorCode::kTooLarge);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < EventSettings::kDefaultMaxSubscriptions + 1; ++i) names.push_back("p" + std::to_string(i));
  for (std::size_t at = 0; at < names.size(); at += codecs::kMaxPatternsPerMessage) {
    std::vector<std::string_view> part(names.begin() + static_cast<std::ptrdiff_t>(at),
                                       names.begin() + static_cast<std::ptrdiff_t>(
                                                           std::min(names.size(), at + codecs::kMaxPatternsPerMessage)));
    harness.send(kFront, subscribe(part));
  }
  auto answers = harness.take();
  ASSERT_EQ(answers.size(), 4u);  // 256 + 256 + 256 + 233 patterns
  EXPECT_TRUE(std::holds_alternative<codecs::Reply>(decodeSent(answers[2]).message));
  EXPECT_EQ(sentAs<codecs::Error>(answers[3]).code, ErrorCode::kTooLarge);
  EXPECT_EQ(harness.broker.events().sessions().begin()->second->patterns.size(), 768u);
}

TEST_F(BrokerEvents, ABatchWithARefusedEventAmongRunsOfOneSubjectRefusesThatOneAlone) {
  subscribed(kFront, {"a.*"});
  subscribed(kFront2, {"b"});
  std::string tooLong(EventSettings::kDefaultMaxSubject + 1, 's');
  // Runs of one subject share their checks and match; the refused one in the middle must
  // neither pass nor carry the run's match over to the events after it.
  harness.send(kLogicA, publish({"a.x", "a.x", tooLong, "a.x", "b", "b", "a.y"}));
  harness.broker.flushEvents();
  std::vector<std::string> front, front2;
  std::size_t refusals = 0;
  for (const auto& s : harness.take()) {
    auto d = decodeSent(s);
    if (auto* e = std::get_if<codecs::Events>(&d.message)) {
      ASSERT_TRUE(s.peer == peerOf(kFront) || s.peer == peerOf(kFront2)) << s.peer;
      for (const auto& event : e->events) (s.peer == peerOf(kFront) ? front : front2).emplace_back(event.subject);
    }
    if (auto* error = std::get_if<codecs::Error>(&d.message)) {
      EXPECT_EQ(s.peer, peerOf(kLogicA));
      EXPECT_EQ(error->id, eventId(kPublisherSession, 3));
      ++refusals;
    }
  }
  EXPECT_EQ(front, (std::vector<std::string>{"a.x", "a.x", "a.x", "a.y"}));
  EXPECT_EQ(front2, (std::vector<std::string>{"b", "b"}));
  EXPECT_EQ(refusals, 1u);
  EXPECT_EQ(harness.broker.events().stats().published, 6u);
}

TEST(RecordQueue, KeepsOrderAndSizesAcrossDropsBatchesAndCompaction) {
  RecordQueue q;
  std::uint64_t pushed = 0, taken = 0;
  auto record = [](std::uint64_t n) { return std::string(1 + n % 700, static_cast<char>('a' + n % 26)); };
  // Enough to pass the kept capacity several times, so the buffer is compacted and drained.
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 37; ++i) q.push(record(pushed++));
    if (round % 3 == 0) {
      q.pop();  // the oldest dropped
      ++taken;
    }
    std::size_t count = 0, bytes = 0;
    for (; count < q.size() && count < 20; ++count) bytes += q.sizeAt(count);
    auto run = q.front(bytes);
    std::size_t at = 0;
    for (std::size_t i = 0; i < count; ++i, ++taken) {
      auto expected = record(taken);
      ASSERT_EQ(run.substr(at, expected.size()), expected) << "record " << taken;
      at += expected.size();
    }
    q.popFront(count, bytes);
  }
  std::size_t left = 0;
  for (std::size_t i = 0; i < q.size(); ++i) left += q.sizeAt(i);
  EXPECT_EQ(q.bytes(), left);
  EXPECT_EQ(q.size(), pushed - taken);
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q.front(q.frontSize()), record(taken));
}

TEST_F(BrokerEvents, RefusesEventsFromAPeerThatIsNoBroker) {
  harness.send(kFront, codecs::Events{1, 0, {{eventId(1, 1), {1, "x"}, "a", "", "b"}}});
  EXPECT_EQ(harness.broker.stats().malformed, 1u);
  EXPECT_TRUE(harness.take().empty());
}

TEST(SubscriptionTable, MatchesByTokenAndHandsEachSubscriberOutOnce) {
  SubscriptionTable table;
  Subscriber a;
  Subscriber b;
  Subscriber c;
  table.add("orders.*.created", &a);
  table.add("orders.>", &a);
  table.add("orders.eu.created", &b);
  table.add(">", &c);
  table.add("orders.>", &a);  // twice: held once
  EXPECT_EQ(table.size(), 4u);
  std::vector<Subscriber*> out;
  table.match("orders.eu.created", out);
  EXPECT_EQ(std::set<Subscriber*>(out.begin(), out.end()), (std::set<Subscriber*>{&a, &b, &c}));
  EXPECT_EQ(out.size(), 3u);
  table.match("orders", out);
  EXPECT_EQ(out, std::vector<Subscriber*>{&c});  // "orders.>" needs one token more
  table.remove("orders.>", &a);
  table.remove(">", &c);
  table.match("orders.eu.shipped", out);
  EXPECT_TRUE(out.empty());
  table.remove("orders.*.created", &a);
  table.remove("orders.eu.created", &b);
  EXPECT_EQ(table.size(), 0u);
  table.match("orders.eu.created", out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace strata::broker::test
