// BrokerCore and time: deadlines, heartbeats, workers that go silent or leave, and how
// long the loop may sleep. Time moves only when the test advances the ManualClock.

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker_harness.h"

namespace strata::broker {
namespace {

using namespace std::chrono_literals;
using codecs::ErrorCode;
using core::MessageId;
using test::expectError;
using test::Harness;
using test::kFront;
using test::kLogicA;
using test::kLogicB;
using test::peerOf;
using test::ready;
using test::reply;
using test::request;
using test::Sent;
using test::sentAs;

// Keeps worker alive with a heartbeat, as a live worker would between broker ticks.
void heartbeatFrom(Harness& h, std::string_view worker) { h.send(worker, codecs::Heartbeat{}); }

// ---- Deadlines of queued requests ----

TEST(BrokerCore, KeepsQueuedRequestUntilItsDeadline) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 60'000));
  h.send(kFront, request(MessageId::generate(), "orders", 500));
  h.take();
  h.advanceAndTick(499ms);
  EXPECT_TRUE(h.takeFor(kFront).empty());
  EXPECT_EQ(h.service("orders")->queued, 1u);
}

TEST(BrokerCore, AnswersExpiredQueuedRequestWithTimeoutAtItsDeadline) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 60'000));
  auto waiting = MessageId::generate();
  h.send(kFront, request(waiting, "orders", 500));
  h.take();
  h.advanceAndTick(499ms);
  ASSERT_TRUE(h.takeFor(kFront).empty());
  h.advanceAndTick(1ms);
  auto toFront = h.takeFor(kFront);
  ASSERT_EQ(toFront.size(), 1u);
  expectError(toFront[0], kFront, waiting, ErrorCode::kTimeout);
  EXPECT_EQ(h.broker.stats().timeouts, 1u);
  EXPECT_EQ(h.service("orders")->queued, 0u);
}

TEST(BrokerCore, AnswersExpiredRequestOnlyOnce) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 60'000));
  h.send(kFront, request(MessageId::generate(), "orders", 500));
  h.take();
  h.advanceAndTick(500ms);
  ASSERT_EQ(h.takeFor(kFront).size(), 1u);
  h.advanceAndTick(500ms);
  EXPECT_TRUE(h.takeFor(kFront).empty());
}

TEST(BrokerCore, DoesNotDispatchRequestThatExpiredWhileQueued) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto first = MessageId::generate();
  h.send(kFront, request(first, "orders", 60'000));
  h.send(kFront, request(MessageId::generate(), "orders", 500));
  h.advanceAndTick(500ms);
  h.take();
  h.send(kLogicA, reply(first));
  auto sent = h.takeOne();  // the reply to the client, and nothing to the worker
  EXPECT_EQ(sent.peer, peerOf(kFront));
}

// ---- Deadlines of requests at a worker ----

TEST(BrokerCore, AnswersRequestExpiredAtWorkerWithTimeout) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.take();
  h.advanceAndTick(799ms);
  ASSERT_TRUE(h.takeFor(kFront).empty());
  h.advanceAndTick(1ms);
  auto toFront = h.takeFor(kFront);
  ASSERT_EQ(toFront.size(), 1u);
  expectError(toFront[0], kFront, id, ErrorCode::kTimeout);
}

TEST(BrokerCore, DropsLateWorkerReplyAfterTimeout) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.advanceAndTick(800ms);
  h.take();
  h.send(kLogicA, reply(id, "too late"));
  EXPECT_TRUE(h.takeFor(kFront).empty());
  EXPECT_EQ(h.broker.stats().replies, 0u);
}

TEST(BrokerCore, DropsLatePartialAfterTimeout) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.advanceAndTick(800ms);
  h.take();
  h.send(kLogicA, codecs::Partial{id, {}, {"too late"}});
  EXPECT_TRUE(h.take().empty());
}

TEST(BrokerCore, LateWorkerReplyReturnsCredit) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto late = MessageId::generate();
  h.send(kFront, request(late, "orders", 800));
  auto waiting = MessageId::generate();
  h.send(kFront, request(waiting, "orders", 60'000));
  h.advanceAndTick(800ms);
  h.take();
  ASSERT_EQ(h.service("orders")->queued, 1u);  // the timeout alone does not free the worker
  h.send(kLogicA, reply(late));
  auto toWorker = h.takeFor(kLogicA);
  ASSERT_EQ(toWorker.size(), 1u);
  EXPECT_EQ(sentAs<codecs::Request>(toWorker[0]).id, waiting);
  EXPECT_EQ(h.service("orders")->inFlight, 1u);
}

// A client retries a timed-out request with the same id while the worker that timed out
// still holds the first attempt: the retry starts afresh rather than waiting for an
// answer the broker would drop.
TEST(BrokerCore, DispatchesRetryOfRequestThatTimedOutAtWorker) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.advanceAndTick(800ms);
  h.send(kLogicB, ready(1, {"orders"}));
  h.take();
  h.send(kFront, request(id, "orders", 5000));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kLogicB));  // logic-a has no credit until it answers
  auto r = sentAs<codecs::Request>(sent);
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.timeoutMs, 5000u);
}

TEST(BrokerCore, ForwardsAnswerToRetryOfRequestThatTimedOutAtWorker) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.advanceAndTick(800ms);
  h.send(kLogicB, ready(1, {"orders"}));
  h.send(kFront, request(id, "orders", 5000));
  h.take();
  h.send(kLogicA, reply(id, "first attempt, too late"));
  EXPECT_TRUE(h.take().empty());
  h.send(kLogicB, reply(id, "second attempt"));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kFront));
  auto answer = sentAs<codecs::Reply>(sent);
  ASSERT_EQ(answer.body.size(), 1u);
  EXPECT_EQ(answer.body[0], "second attempt");
  EXPECT_EQ(h.service("orders")->inFlight, 0u);
}

TEST(BrokerCore, RetryOfTimedOutRequestWaitsForCreditOfOnlyWorker) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.advanceAndTick(800ms);
  h.take();
  h.send(kFront, request(id, "orders", 5000));
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.service("orders")->queued, 1u);
  h.advance(1000ms);
  h.send(kLogicA, reply(id, "first attempt, too late"));
  auto sent = h.takeOne();  // the late answer is dropped; its credit sends the retry
  EXPECT_EQ(sent.peer, peerOf(kLogicA));
  EXPECT_EQ(sentAs<codecs::Request>(sent).timeoutMs, 4000u);
}

TEST(BrokerCore, AnswersRetryOfTimedOutRequestWithTimeoutAtItsNewDeadline) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 800));
  h.advanceAndTick(800ms);
  h.take();
  h.send(kFront, request(id, "orders", 2000));  // waits: logic-a still holds the first
  for (int i = 0; i < 19; ++i) {
    h.advanceAndTick(100ms);
    h.send(kLogicA, codecs::Heartbeat{});
  }
  ASSERT_TRUE(h.takeFor(kFront).empty());
  h.advanceAndTick(100ms);
  auto toFront = h.takeFor(kFront);
  ASSERT_EQ(toFront.size(), 1u);
  expectError(toFront[0], kFront, id, ErrorCode::kTimeout);
}

// ---- Heartbeats to workers ----

TEST(BrokerCore, SendsHeartbeatToWorkerEveryInterval) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.advanceAndTick(999ms);
  EXPECT_TRUE(h.take().empty());
  h.advanceAndTick(1ms);
  auto first = h.takeOne();
  EXPECT_EQ(first.peer, peerOf(kLogicA));
  sentAs<codecs::Heartbeat>(first);
  h.advanceAndTick(999ms);
  EXPECT_TRUE(h.take().empty());
  h.advanceAndTick(1ms);
  auto second = h.takeOne();
  EXPECT_EQ(second.peer, peerOf(kLogicA));
  sentAs<codecs::Heartbeat>(second);
}

TEST(BrokerCore, SendsHeartbeatToEveryWorker) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicB, ready(1, {"billing"}));
  h.advanceAndTick(1000ms);
  auto sent = h.take();
  ASSERT_EQ(sent.size(), 2u);
  std::vector<PeerId> peers{sent[0].peer, sent[1].peer};
  std::sort(peers.begin(), peers.end());
  EXPECT_EQ(peers, (std::vector<PeerId>{peerOf(kLogicA), peerOf(kLogicB)}));
}

TEST(BrokerCore, SendsNoHeartbeatsWithoutWorkers) {
  Harness h;
  h.send(kFront, request(MessageId::generate(), "strata.services"));
  h.take();
  for (int i = 0; i < 5; ++i) h.advanceAndTick(1000ms);
  EXPECT_TRUE(h.take().empty());
}

// ---- Silent workers ----

TEST(BrokerCore, KeepsWorkerSilentForHeartbeatTimesLiveness) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 3; ++i) h.advanceAndTick(1000ms);  // silent for exactly 3 s
  EXPECT_EQ(h.broker.workerCount(), 1u);
  EXPECT_EQ(h.broker.stats().workersLost, 0u);
}

TEST(BrokerCore, RemovesWorkerSilentLongerThanHeartbeatTimesLiveness) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 4; ++i) h.advanceAndTick(1000ms);
  EXPECT_EQ(h.broker.workerCount(), 0u);
  EXPECT_EQ(h.broker.stats().workersLost, 1u);
  EXPECT_EQ(h.service("orders"), nullptr);
}

TEST(BrokerCore, KeepsWorkerThatSendsHeartbeats) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 20; ++i) {
    h.advanceAndTick(1000ms);
    heartbeatFrom(h, kLogicA);
  }
  EXPECT_EQ(h.broker.workerCount(), 1u);
}

TEST(BrokerCore, AnyMessageFromWorkerCountsAsSignOfLife) {
  Harness h;
  h.send(kLogicA, ready(100, {"orders"}));
  for (int i = 0; i < 20; ++i) {
    auto id = MessageId::generate();
    h.send(kFront, request(id, "orders"));
    h.send(kLogicA, reply(id));
    h.advanceAndTick(1000ms);
  }
  EXPECT_EQ(h.broker.workerCount(), 1u);
}

TEST(BrokerCore, UsesWorkersLongerHeartbeatForLiveness) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}, 2000));
  for (int i = 0; i < 6; ++i) h.advanceAndTick(1000ms);  // 6 s = 2 s x 3
  EXPECT_EQ(h.broker.workerCount(), 1u);
  h.advanceAndTick(1000ms);
  EXPECT_EQ(h.broker.workerCount(), 0u);
}

TEST(BrokerCore, MovesRequestsOfSilentWorkerToAnotherWorker) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 60'000));
  ASSERT_EQ(h.takeOne().peer, peerOf(kLogicA));
  h.send(kLogicB, ready(1, {"orders"}));
  for (int i = 0; i < 3; ++i) {
    h.advanceAndTick(1000ms);
    heartbeatFrom(h, kLogicB);
  }
  h.take();
  h.advanceAndTick(1000ms);
  auto toB = h.takeFor(kLogicB);
  std::vector<MessageId> requestsToB;
  for (const auto& s : toB)
    if (auto r = test::decodeSent(s); std::holds_alternative<codecs::Request>(r.message))
      requestsToB.push_back(std::get<codecs::Request>(r.message).id);
  EXPECT_EQ(requestsToB, std::vector<MessageId>{id});
  EXPECT_EQ(h.broker.stats().requeued, 1u);
  EXPECT_EQ(h.broker.stats().workersLost, 1u);
}

TEST(BrokerCore, SendsNoHeartbeatToWorkerItRemoves) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 3; ++i) h.advanceAndTick(1000ms);
  h.take();
  h.advanceAndTick(1000ms);
  EXPECT_TRUE(h.take().empty());
}

// ---- Workers that leave ----

TEST(BrokerCore, MovesRequestsOfDisconnectingWorkerAtOnce) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.send(kLogicB, ready(1, {"billing", "orders"}));
  h.take();
  h.send(kLogicA, codecs::Disconnect{"worker stopping"});
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kLogicB));
  EXPECT_EQ(sentAs<codecs::Request>(sent).id, id);
  EXPECT_EQ(h.broker.stats().requeued, 1u);
  EXPECT_EQ(h.broker.workerCount(), 1u);
}

TEST(BrokerCore, MovedRequestKeepsItsOriginalDeadline) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 5000));
  h.send(kLogicB, ready(1, {"orders"}));
  h.take();
  h.advance(2000ms);
  h.send(kLogicA, codecs::Disconnect{"worker stopping"});
  auto sent = h.takeOne();
  EXPECT_EQ(sentAs<codecs::Request>(sent).timeoutMs, 3000u);
}

TEST(BrokerCore, ForwardsReplyOfMovedRequestFromNewWorker) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.send(kLogicB, ready(1, {"orders"}));
  h.send(kLogicA, codecs::Disconnect{"worker stopping"});
  h.take();
  h.send(kLogicB, reply(id));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kFront));
  EXPECT_EQ(sentAs<codecs::Reply>(sent).id, id);
}

TEST(BrokerCore, AnswersQueuedRequestsWithUnavailableWhenLastWorkerLeaves) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto atWorker = MessageId::generate();
  auto waiting = MessageId::generate();
  h.send(kFront, request(atWorker, "orders"));
  h.send(kFront, request(waiting, "orders"));
  h.take();
  h.send(kLogicA, codecs::Disconnect{"worker stopping"});
  auto sent = h.take();
  ASSERT_EQ(sent.size(), 2u);
  std::vector<MessageId> answered;
  for (const auto& s : sent) {
    auto error = sentAs<codecs::Error>(s);
    EXPECT_EQ(s.peer, peerOf(kFront));
    EXPECT_EQ(error.code, ErrorCode::kUnavailable) << codecs::errorCodeName(error.code);
    answered.push_back(error.id);
  }
  // The request the worker held goes back to the head of the queue.
  EXPECT_EQ(answered, (std::vector<MessageId>{atWorker, waiting}));
}

TEST(BrokerCore, ForgetsServiceWhenLastWorkerLeaves) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicA, codecs::Disconnect{"worker stopping"});
  EXPECT_EQ(h.service("orders"), nullptr);
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kUnknownService);
}

TEST(BrokerCore, ReadyAgainReplacesRegistration) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicA, ready(1, {"billing"}));  // it restarted with other services
  EXPECT_EQ(h.broker.workerCount(), 1u);
  EXPECT_EQ(h.service("orders"), nullptr);
  ASSERT_NE(h.service("billing"), nullptr);
  EXPECT_EQ(h.service("billing")->workers, 1u);
}

TEST(BrokerCore, ReadyAgainMovesRequestsOfOldRegistration) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.send(kLogicB, ready(1, {"orders"}));
  h.take();
  h.send(kLogicA, ready(1, {"orders"}));
  auto sent = h.takeOne();
  EXPECT_EQ(sentAs<codecs::Request>(sent).id, id);
  EXPECT_EQ(h.broker.stats().requeued, 1u);
}

// ---- How long the loop may sleep ----

TEST(BrokerCore, IdleBrokerSleepsOneSecond) {
  Harness h;
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now()), 1000ms);
}

TEST(BrokerCore, SleepsUntilNextHeartbeat) {
  auto settings = test::testSettings();
  settings.heartbeat = 400ms;
  Harness h(settings);
  h.send(kLogicA, ready(1, {"orders"}));
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now()), 400ms);
  h.advance(150ms);
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now()), 250ms);
}

TEST(BrokerCore, SleepsUntilNearestDeadline) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 5000));
  h.send(kFront, request(MessageId::generate(), "orders", 300));
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now()), 300ms);
  h.advance(120ms);
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now()), 180ms);
}

TEST(BrokerCore, RoundsSleepUpToWholeMilliseconds) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 300));
  // 49.5 ms left: waking after 49 ms would find nothing due and spin.
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now() + 250ms + 500us), 50ms);
}

TEST(BrokerCore, SleepsNotAtAllWhenDeadlineHasPassed) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 300));
  h.advance(400ms);
  EXPECT_EQ(h.broker.timeUntilNextTick(h.clock.now()), 0ms);
}

}  // namespace
}  // namespace strata::broker
