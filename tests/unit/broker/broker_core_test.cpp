// BrokerCore routing: registration, dispatch with credit, fair sharing, answers going
// back to the right client, the layer policy and the reserved strata.* services.
// No sockets: messages go in through onMessage, come out through a recording Outbox.

#include <map>
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
using test::kData;
using test::kFront;
using test::kFront2;
using test::kLogicA;
using test::kLogicB;
using test::peerOf;
using test::ready;
using test::reply;
using test::request;
using test::Sent;
using test::sentAs;

// The body of a reserved service's JSON answer.
std::string reservedAnswer(Harness& h, std::string_view service, std::string_view body = "") {
  auto id = MessageId::generate();
  h.send(kFront, request(id, service, 5000, body));
  auto sent = h.takeOne();
  auto answer = sentAs<codecs::Reply>(sent);
  EXPECT_EQ(answer.id, id);
  return answer.body.empty() ? std::string() : std::string(answer.body[0]);
}

// ---- Registration and discovery ----

TEST(BrokerCore, RegistersServicesOfReadyWorker) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders", "billing"}));
  EXPECT_EQ(h.broker.workerCount(), 1u);
  ASSERT_NE(h.service("orders"), nullptr);
  ASSERT_NE(h.service("billing"), nullptr);
  EXPECT_EQ(h.service("orders")->workers, 1u);
  EXPECT_TRUE(h.take().empty());  // READY is not answered
}

TEST(BrokerCore, CountsEachWorkerOfAServiceOnce) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders", "orders"}));
  h.send(kLogicB, ready(10, {"orders"}));
  ASSERT_NE(h.service("orders"), nullptr);
  EXPECT_EQ(h.service("orders")->workers, 2u);
}

TEST(BrokerCore, ServicesCallReportsWorkersQueuedAndInFlight) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  h.send(kFront, request(MessageId::generate(), "orders"));
  h.take();
  EXPECT_EQ(reservedAnswer(h, "strata.services"),
            R"({"services":[{"name":"orders","workers":1,"queued":1,"in_flight":1}]})");
}

TEST(BrokerCore, ServicesCallListsServicesByName) {
  Harness h;
  h.send(kLogicA, ready(1, {"zeta", "alpha"}));
  EXPECT_EQ(reservedAnswer(h, "strata.services"),
            R"({"services":[{"name":"alpha","workers":1,"queued":0,"in_flight":0},)"
            R"({"name":"zeta","workers":1,"queued":0,"in_flight":0}]})");
}

TEST(BrokerCore, ServicesCallAnswersWithJsonContentType) {
  Harness h;
  auto id = MessageId::generate();
  h.send(kFront, request(id, "strata.services"));
  auto sent = h.takeOne();
  auto answer = sentAs<codecs::Reply>(sent);
  ASSERT_EQ(answer.headers.size(), 1u);
  EXPECT_EQ(answer.headers[0].key, "content-type");
  EXPECT_EQ(answer.headers[0].value, "application/json");
  ASSERT_EQ(answer.body.size(), 1u);
  EXPECT_EQ(answer.body[0], R"({"services":[]})");
}

TEST(BrokerCore, ServiceCallReportsOneService) {
  Harness h;
  h.send(kLogicA, ready(5, {"orders"}));
  h.send(kLogicB, ready(5, {"orders"}));
  EXPECT_EQ(reservedAnswer(h, "strata.service", "orders"), R"({"name":"orders","workers":2,"queued":0})");
}

TEST(BrokerCore, ServiceCallAnswersUnknownServiceForUnofferedName) {
  Harness h;
  auto id = MessageId::generate();
  h.send(kFront, request(id, "strata.service", 5000, "orders"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kUnknownService);
}

TEST(BrokerCore, StatsCallReportsCounters) {
  Harness h;
  h.send(kFront, request(MessageId::generate(), "nobody-home"));
  h.take();
  h.advance(std::chrono::milliseconds(1500));
  // The stats request itself is counted before the answer is built.
  EXPECT_EQ(reservedAnswer(h, "strata.stats"),
            R"({"name":"test-broker","uptime_ms":1500,"connections":0,"requests":2,"replies":0,"errors":1,"timeouts":0,"forbidden":0,"unknown_service":1,)"
            R"("rejected_full":0,"malformed":0,"too_large":0,"requeued":0,"workers_lost":0,"sends_full":0,)"
            R"("other_version":0,"workers":0,"pending":0,"deadlines":0})");
}

TEST(BrokerCore, AnswersUnknownReservedServiceWithUnknownService) {
  Harness h;
  auto id = MessageId::generate();
  h.send(kFront, request(id, "strata.nothing"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kUnknownService);
}

TEST(BrokerCore, ReservedServicesAnswerEveryLayer) {
  Harness h;
  for (auto who : {kFront, kLogicA, kData}) {
    auto id = MessageId::generate();
    h.send(who, request(id, "strata.services"));
    auto sent = h.takeOne();
    EXPECT_EQ(sent.peer, peerOf(who));
    EXPECT_EQ(sentAs<codecs::Reply>(sent).id, id) << who;
  }
}

// ---- Dispatch ----

TEST(BrokerCore, AnswersRequestForUnknownServiceWithUnknownService) {
  Harness h;
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kUnknownService);
  EXPECT_EQ(h.broker.stats().unknownService, 1u);
}

TEST(BrokerCore, DispatchesRequestToWorkerOfferingService) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 5000, "place order 7"));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kLogicA));
  auto r = sentAs<codecs::Request>(sent);
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.service, "orders");
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0], "place order 7");
}

TEST(BrokerCore, KeepsRequestHeadersAndBodyFramesIntact) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto in = request(MessageId::generate(), "orders");
  in.headers = {{"trace-id", "t-1"}, {"content-type", "text/plain"}};
  in.body = {"one", "", "three"};
  h.send(kFront, in);
  auto sent = h.takeOne();
  auto r = sentAs<codecs::Request>(sent);
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].key, "trace-id");
  EXPECT_EQ(r.headers[0].value, "t-1");
  EXPECT_EQ(r.headers[1].value, "text/plain");
  EXPECT_EQ(r.body, (std::vector<std::string_view>{"one", "", "three"}));
}

TEST(BrokerCore, RewritesCallerToAuthenticatedNameAndLayer) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  auto sent = h.takeOne();
  auto r = sentAs<codecs::Request>(sent);
  EXPECT_EQ(r.caller.name, kFront);
  EXPECT_EQ(r.caller.layer, 4);
}

TEST(BrokerCore, OverwritesCallerClaimedByClient) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto forged = request(MessageId::generate(), "orders");
  forged.caller = codecs::Caller{2, "logic-b"};
  h.send(kFront, forged);
  auto sent = h.takeOne();
  auto r = sentAs<codecs::Request>(sent);
  EXPECT_EQ(r.caller.name, kFront);
  EXPECT_EQ(r.caller.layer, 4);
}

TEST(BrokerCore, SendsTimeLeftAsTimeoutWhenRequestIsDispatched) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto first = MessageId::generate();
  h.send(kFront, request(first, "orders", 60'000));
  h.send(kFront, request(MessageId::generate(), "orders", 5000));  // waits: no credit
  h.take();
  h.advance(1200ms);
  h.send(kLogicA, reply(first));
  auto toWorker = h.takeFor(kLogicA);
  ASSERT_EQ(toWorker.size(), 1u);
  EXPECT_EQ(sentAs<codecs::Request>(toWorker[0]).timeoutMs, 3800u);
}

TEST(BrokerCore, SendsFullTimeoutWhenDispatchedAtOnce) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders", 4321));
  auto sent = h.takeOne();
  EXPECT_EQ(sentAs<codecs::Request>(sent).timeoutMs, 4321u);
}

// ---- Credit ----

TEST(BrokerCore, SendsNoMoreRequestsThanWorkerCredit) {
  Harness h;
  h.send(kLogicA, ready(2, {"orders"}));
  for (int i = 0; i < 3; ++i) h.send(kFront, request(MessageId::generate(), "orders"));
  EXPECT_EQ(h.takeFor(kLogicA).size(), 2u);
  ASSERT_NE(h.service("orders"), nullptr);
  EXPECT_EQ(h.service("orders")->queued, 1u);
  EXPECT_EQ(h.service("orders")->inFlight, 2u);
}

TEST(BrokerCore, DispatchesQueuedRequestWhenReplyReturnsCredit) {
  Harness h;
  h.send(kLogicA, ready(2, {"orders"}));
  std::vector<MessageId> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(MessageId::generate());
    h.send(kFront, request(ids.back(), "orders"));
  }
  h.take();
  h.send(kLogicA, reply(ids[0]));
  auto toWorker = h.takeFor(kLogicA);
  ASSERT_EQ(toWorker.size(), 1u);
  EXPECT_EQ(sentAs<codecs::Request>(toWorker[0]).id, ids[2]);
  EXPECT_EQ(h.service("orders")->queued, 0u);
}

TEST(BrokerCore, DispatchesQueuedRequestsInArrivalOrder) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  std::vector<MessageId> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(MessageId::generate());
    h.send(kFront, request(ids.back(), "orders"));
  }
  h.take();
  for (int i = 0; i < 3; ++i) {
    h.send(kLogicA, reply(ids[static_cast<std::size_t>(i)]));
    auto toWorker = h.takeFor(kLogicA);
    ASSERT_EQ(toWorker.size(), 1u);
    EXPECT_EQ(sentAs<codecs::Request>(toWorker[0]).id, ids[static_cast<std::size_t>(i) + 1]);
  }
}

TEST(BrokerCore, CreditMessageAddsCredit) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 4; ++i) h.send(kFront, request(MessageId::generate(), "orders"));
  ASSERT_EQ(h.takeFor(kLogicA).size(), 1u);
  h.send(kLogicA, codecs::Credit{2});
  EXPECT_EQ(h.takeFor(kLogicA).size(), 2u);
  EXPECT_EQ(h.service("orders")->queued, 1u);
}

TEST(BrokerCore, QueuesRequestsUntilAWorkerHasCredit) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  auto waiting = MessageId::generate();
  h.send(kFront, request(waiting, "orders"));
  h.take();
  h.send(kLogicB, ready(1, {"orders"}));  // a new worker takes what waits
  auto toB = h.takeFor(kLogicB);
  ASSERT_EQ(toB.size(), 1u);
  EXPECT_EQ(sentAs<codecs::Request>(toB[0]).id, waiting);
}

// ---- Fair sharing ----

TEST(BrokerCore, SharesRequestsEvenlyAcrossWorkersWithCredit) {
  Harness h;
  h.send(kLogicA, ready(1000, {"orders"}));
  h.send(kLogicB, ready(1000, {"orders"}));
  for (int i = 0; i < 100; ++i) h.send(kFront, request(MessageId::generate(), "orders"));
  std::map<PeerId, int> perWorker;
  for (const auto& s : h.take()) ++perWorker[s.peer];
  EXPECT_EQ(perWorker[peerOf(kLogicA)], 50);
  EXPECT_EQ(perWorker[peerOf(kLogicB)], 50);
  EXPECT_EQ(perWorker.size(), 2u);
}

TEST(BrokerCore, SkipsWorkerWithoutCredit) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicB, ready(1000, {"orders"}));
  std::map<PeerId, int> perWorker;
  for (int i = 0; i < 10; ++i) h.send(kFront, request(MessageId::generate(), "orders"));
  for (const auto& s : h.take()) ++perWorker[s.peer];
  EXPECT_EQ(perWorker[peerOf(kLogicA)], 1);
  EXPECT_EQ(perWorker[peerOf(kLogicB)], 9);
}

// ---- Answers ----

TEST(BrokerCore, ForwardsReplyToClientThatAsked) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders"}));
  auto fromFront = MessageId::generate();
  auto fromFront2 = MessageId::generate();
  h.send(kFront, request(fromFront, "orders"));
  h.send(kFront2, request(fromFront2, "orders"));
  h.take();
  h.send(kLogicA, reply(fromFront2, "for front-2"));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kFront2));
  auto r = sentAs<codecs::Reply>(sent);
  EXPECT_EQ(r.id, fromFront2);
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0], "for front-2");
  EXPECT_EQ(h.broker.stats().replies, 1u);
}

TEST(BrokerCore, ForwardsPartialWithoutEndingRequest) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  auto queued = MessageId::generate();
  h.send(kFront, request(queued, "orders"));
  h.take();
  h.send(kLogicA, codecs::Partial{id, {}, {"part 1"}});
  auto sent = h.takeOne();  // forwarded, and the queued request still waits for credit
  EXPECT_EQ(sent.peer, peerOf(kFront));
  EXPECT_EQ(sentAs<codecs::Partial>(sent).id, id);
  EXPECT_EQ(h.service("orders")->inFlight, 1u);
  EXPECT_EQ(h.service("orders")->queued, 1u);

  h.send(kLogicA, reply(id));
  auto after = h.take();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].peer, peerOf(kFront));
  EXPECT_EQ(sentAs<codecs::Reply>(after[0]).id, id);
  EXPECT_EQ(after[1].peer, peerOf(kLogicA));
  EXPECT_EQ(sentAs<codecs::Request>(after[1]).id, queued);
}

TEST(BrokerCore, ForwardsWorkerErrorToClientAndFreesCredit) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.take();
  h.send(kLogicA, codecs::Error{id, ErrorCode::kInternal, "handler failed"});
  auto sent = h.takeOne();
  expectError(sent, kFront, id, ErrorCode::kInternal);
  EXPECT_EQ(sentAs<codecs::Error>(sent).text, "handler failed");
  EXPECT_EQ(h.service("orders")->inFlight, 0u);
  EXPECT_EQ(h.broker.stats().errors, 1u);
  EXPECT_EQ(h.broker.stats().replies, 0u);
}

TEST(BrokerCore, IgnoresReplyForRequestItNeverSent) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  auto queued = MessageId::generate();
  h.send(kFront, request(queued, "orders"));
  h.take();
  h.send(kLogicA, reply(MessageId::generate()));
  EXPECT_TRUE(h.take().empty());  // nothing forwarded, and no credit made up from nowhere
  EXPECT_EQ(h.service("orders")->queued, 1u);
}

TEST(BrokerCore, IgnoresReplyFromWorkerNotHoldingRequest) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicB, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  auto sent = h.takeOne();
  auto other = sent.peer == peerOf(kLogicA) ? kLogicB : kLogicA;
  h.send(other, reply(id, "not mine"));
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.service("orders")->inFlight, 1u);
}

// ---- Retries ----

TEST(BrokerCore, DoesNotDispatchRetriedRequestTwice) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.send(kFront, request(id, "orders"));
  EXPECT_EQ(h.takeFor(kLogicA).size(), 1u);
  EXPECT_EQ(h.service("orders")->inFlight, 1u);
}

TEST(BrokerCore, DoesNotQueueRetriedRequestTwice) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  auto waiting = MessageId::generate();
  h.send(kFront, request(waiting, "orders"));
  h.send(kFront, request(waiting, "orders"));
  EXPECT_EQ(h.service("orders")->queued, 1u);
}

TEST(BrokerCore, SendsAnswerOfRetriedRequestWhereRetryCameFrom) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  // The client reconnected: same identity, a new routing id.
  h.sendFrom("peer:front-reconnected", kFront, request(id, "orders"));
  h.take();
  h.send(kLogicA, reply(id));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, "peer:front-reconnected");
}

TEST(BrokerCore, RefusesRequestIdInUseByAnotherIdentity) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.take();
  h.send(kFront2, request(id, "orders"));
  expectError(h.takeOne(), kFront2, id, ErrorCode::kMalformed);
  EXPECT_EQ(h.service("orders")->inFlight, 1u);
}

TEST(BrokerCore, KeepsAnswerWithIdentityThatMadeRequest) {
  Harness h;
  h.send(kLogicA, ready(10, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.send(kFront2, request(id, "orders"));  // ids are not secrets: they travel in logs
  h.take();
  h.send(kLogicA, reply(id, "for front only"));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kFront));
  EXPECT_EQ(sentAs<codecs::Reply>(sent).id, id);
}

// ---- Queue limit ----

TEST(BrokerCore, AnswersRequestWithUnavailableWhenQueueIsFull) {
  auto settings = test::testSettings();
  settings.queueMax = 2;
  Harness h(settings);
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 3; ++i) h.send(kFront, request(MessageId::generate(), "orders"));  // 1 at worker, 2 wait
  h.take();
  auto rejected = MessageId::generate();
  h.send(kFront, request(rejected, "orders"));
  expectError(h.takeOne(), kFront, rejected, ErrorCode::kUnavailable);
  EXPECT_EQ(h.broker.stats().rejectedFull, 1u);
  EXPECT_EQ(h.service("orders")->queued, 2u);
}

// ---- Layer policy ----

TEST(BrokerCore, RefusesLayer4CallingLayer1Service) {
  Harness h;
  h.send(kData, ready(1, {"storage"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "storage"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kForbidden);
  EXPECT_EQ(h.broker.stats().forbidden, 1u);
}

TEST(BrokerCore, AllowsLayer4CallingLayer2Service) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  EXPECT_EQ(h.takeOne().peer, peerOf(kLogicA));
}

TEST(BrokerCore, AllowsLayer2CallingLayer1Service) {
  Harness h;
  h.send(kData, ready(1, {"storage"}));
  h.send(kLogicA, request(MessageId::generate(), "storage"));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kData));
  EXPECT_EQ(sentAs<codecs::Request>(sent).caller.layer, 2);
}

TEST(BrokerCore, ServiceOverrideAllowsLayer4CallingLayer1Service) {
  core::LayerPolicy policy;
  policy.setServiceCallers("storage", "4");
  Harness h(test::testSettings(), policy);
  h.send(kData, ready(1, {"storage"}));
  h.send(kFront, request(MessageId::generate(), "storage"));
  EXPECT_EQ(h.takeOne().peer, peerOf(kData));
}

TEST(BrokerCore, ServiceOverrideRefusesLayersItDoesNotList) {
  core::LayerPolicy policy;
  policy.setServiceCallers("orders", "2");
  Harness h(test::testSettings(), policy);
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kForbidden);
}

}  // namespace
}  // namespace strata::broker
