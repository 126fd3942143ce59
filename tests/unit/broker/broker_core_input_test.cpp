// BrokerCore and bad or unexpected input: registrations it refuses, worker messages from
// peers that never registered, malformed and oversized messages, unknown identities.
// Whatever a peer sends, the core answers or drops it and goes on.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker_harness.h"

namespace strata::broker {
namespace {

using namespace std::string_literals;
using codecs::ErrorCode;
using core::MessageId;
using test::expectError;
using test::Harness;
using test::kData;
using test::kFront;
using test::kLogicA;
using test::kLogicB;
using test::kStranger;
using test::peerOf;
using test::ready;
using test::reply;
using test::request;
using test::Sent;
using test::sentAs;

void expectDisconnect(const Sent& sent, std::string_view to, std::string_view reasonPart) {
  EXPECT_EQ(sent.peer, peerOf(to));
  auto bye = sentAs<codecs::Disconnect>(sent);
  EXPECT_NE(bye.reason.find(reasonPart), std::string_view::npos) << bye.reason;
}

std::vector<std::string> encoded(const codecs::Message& message) { return codecs::encode(message); }

// ---- Registrations the broker refuses ----

TEST(BrokerCore, DisconnectsLayer4IdentityOfferingServices) {
  Harness h;
  h.send(kFront, ready(1, {"orders"}));
  expectDisconnect(h.takeOne(), kFront, "layer 4");
  EXPECT_EQ(h.broker.workerCount(), 0u);
  EXPECT_EQ(h.service("orders"), nullptr);
}

TEST(BrokerCore, DisconnectsWorkerOfferingReservedService) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders", "strata.services"}));
  expectDisconnect(h.takeOne(), kLogicA, "reserved");
  EXPECT_EQ(h.broker.workerCount(), 0u);
  EXPECT_EQ(h.service("orders"), nullptr);
}

TEST(BrokerCore, DisconnectsWorkerOfferingServiceAlreadyOfferedAtAnotherLayer) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kData, ready(1, {"orders"}));
  expectDisconnect(h.takeOne(), kData, "layer 2");
  EXPECT_EQ(h.broker.workerCount(), 1u);
  EXPECT_EQ(h.service("orders")->workers, 1u);
}

TEST(BrokerCore, LetsServiceMoveLayersOnceItsWorkersAreGone) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicA, codecs::Disconnect{"bye"});
  h.send(kData, ready(1, {"orders"}));
  EXPECT_TRUE(h.take().empty());
  ASSERT_NE(h.service("orders"), nullptr);
  // Now a layer-1 service: layer 4 may no longer call it.
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kForbidden);
}

// ---- Worker messages from peers that never registered ----

TEST(BrokerCore, AsksUnregisteredPeerSendingReplyToRegister) {
  Harness h;
  h.send(kLogicA, reply(MessageId::generate()));
  expectDisconnect(h.takeOne(), kLogicA, "not registered");
}

TEST(BrokerCore, AsksUnregisteredPeerSendingHeartbeatToRegister) {
  Harness h;
  h.send(kLogicA, codecs::Heartbeat{});
  expectDisconnect(h.takeOne(), kLogicA, "not registered");
}

TEST(BrokerCore, AsksUnregisteredPeerSendingCreditToRegister) {
  Harness h;
  h.send(kLogicA, codecs::Credit{5});
  expectDisconnect(h.takeOne(), kLogicA, "not registered");
}

TEST(BrokerCore, AsksUnregisteredPeerSendingPartialOrErrorToRegister) {
  Harness h;
  h.send(kLogicA, codecs::Partial{MessageId::generate(), {}, {"x"}});
  expectDisconnect(h.takeOne(), kLogicA, "not registered");
  h.send(kLogicA, codecs::Error{MessageId::generate(), ErrorCode::kInternal, "x"});
  expectDisconnect(h.takeOne(), kLogicA, "not registered");
}

TEST(BrokerCore, AsksWorkerRemovedForSilenceToRegisterAgain) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  for (int i = 0; i < 4; ++i) h.advanceAndTick(std::chrono::milliseconds(1000));
  h.take();
  h.send(kLogicA, codecs::Heartbeat{});
  expectDisconnect(h.takeOne(), kLogicA, "not registered");
}

TEST(BrokerCore, IgnoresDisconnectFromUnregisteredPeer) {
  Harness h;
  h.send(kFront, codecs::Disconnect{"bye"});
  EXPECT_TRUE(h.take().empty());
}

TEST(BrokerCore, TakesWorkerMessagesOnlyFromTheRegisteredPeer) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  // Same identity, another connection: not the registered worker.
  h.sendFrom("peer:logic-a-second", kLogicA, codecs::Credit{5});
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, "peer:logic-a-second");
  sentAs<codecs::Disconnect>(sent);
}

// ---- Malformed input ----

TEST(BrokerCore, AnswersMalformedRequestWithReadableIdWithMalformed) {
  Harness h;
  auto id = MessageId::generate();
  auto frames = encoded(request(id, "no spaces allowed"));  // the encoder writes what it is given
  h.sendRaw(peerOf(kFront), kFront, frames);
  auto sent = h.takeOne();
  expectError(sent, kFront, id, ErrorCode::kMalformed);
  EXPECT_EQ(sentAs<codecs::Error>(sent).text, "bad service name");
  EXPECT_EQ(h.broker.stats().malformed, 1u);
}

TEST(BrokerCore, AnswersRequestWithBadTimeoutWithMalformed) {
  Harness h;
  auto id = MessageId::generate();
  auto frames = encoded(request(id, "orders", 0));
  h.sendRaw(peerOf(kFront), kFront, frames);
  expectError(h.takeOne(), kFront, id, ErrorCode::kMalformed);
}

TEST(BrokerCore, DropsJunkWithoutId) {
  Harness h;
  h.sendRaw(peerOf(kFront), kFront, {"junk"});
  h.sendRaw(peerOf(kFront), kFront, {"ST\x02\x01"s});  // a REQUEST header and nothing else
  h.sendRaw(peerOf(kFront), kFront, {});
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().malformed, 3u);
}

TEST(BrokerCore, DropsMalformedRequestWithZeroId) {
  Harness h;
  auto frames = encoded(request(MessageId{}, "bad service"));  // MessageId{} is all zeros
  h.sendRaw(peerOf(kFront), kFront, frames);
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().malformed, 1u);
}

TEST(BrokerCore, DropsMalformedRequestWithShortId) {
  Harness h;
  auto frames = encoded(request(MessageId::generate(), "orders"));
  frames[0].resize(codecs::kRequestIdOffset + core::MessageId::kSize - 1);  // cut inside the id
  h.sendRaw(peerOf(kFront), kFront, frames);
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().malformed, 1u);
}

TEST(BrokerCore, DropsMalformedReplyWithoutAnswering) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  h.take();
  auto frames = encoded(reply(id));
  frames[0] = frames[0].substr(0, codecs::kRequestIdOffset + core::MessageId::kSize) +
              codecs::encodeU32(100) + "ab";  // headers longer than the envelope
  h.sendRaw(peerOf(kLogicA), kLogicA, frames);
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().malformed, 1u);
  EXPECT_EQ(h.service("orders")->inFlight, 1u);
}

TEST(BrokerCore, KeepsServingAfterMalformedInput) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.sendRaw(peerOf(kFront), kFront, {"\xff\xff\xff\xff"s, "junk"});
  h.send(kFront, request(MessageId::generate(), "orders"));
  EXPECT_EQ(h.takeOne().peer, peerOf(kLogicA));
}

// ---- Batches ----

void expectReply(const Sent& sent, std::string_view to, const MessageId& id) {
  EXPECT_EQ(sent.peer, peerOf(to));
  EXPECT_EQ(sentAs<codecs::Reply>(sent).id, id);
}

// A BATCH frame of these one-frame messages, as a peer's loop sends them.
std::vector<std::string> batchOf(const std::vector<codecs::Message>& messages) {
  codecs::BatchWriter writer;
  std::vector<std::string> one;
  for (const auto& m : messages) {
    one = codecs::encode(m);
    writer.add(one.front());
  }
  return {std::string(writer.frame())};
}

TEST(BrokerCore, HandlesEachMessageOfABatchAsIfItCameAlone) {
  Harness h;
  h.sendRaw(peerOf(kLogicA), kLogicA, batchOf({ready(1, {"orders"}), codecs::Credit{1}}));
  auto first = MessageId::generate();
  auto second = MessageId::generate();
  auto third = MessageId::generate();
  h.sendRaw(peerOf(kFront), kFront,
            batchOf({request(first, "orders"), request(second, "orders"), request(third, "orders")}));
  // Credit 2 (READY 1, CREDIT 1): the first two go to the worker in order, the third waits.
  auto sent = h.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sentAs<codecs::Request>(sent[0]).id, first);
  EXPECT_EQ(sentAs<codecs::Request>(sent[1]).id, second);
  EXPECT_EQ(sentAs<codecs::Request>(sent[0]).caller.name, kFront);  // the caller as ZAP says, still
  h.sendRaw(peerOf(kLogicA), kLogicA, batchOf({reply(first, "one"), reply(second, "two")}));
  // The first answer goes to the client and its credit takes the third request to the
  // worker at once, before the second answer is read: as if they had come one by one.
  sent = h.take();
  ASSERT_EQ(sent.size(), 3u);
  expectReply(sent[0], kFront, first);
  EXPECT_EQ(sent[1].peer, peerOf(kLogicA));
  EXPECT_EQ(sentAs<codecs::Request>(sent[1]).id, third);
  expectReply(sent[2], kFront, second);
  EXPECT_EQ(h.broker.stats().requests, 3u);
}

TEST(BrokerCore, AnswersAMalformedMessageOfABatchAloneAndHandlesTheRest) {
  Harness h;
  h.send(kLogicA, ready(5, {"orders"}));
  auto bad = MessageId::generate();
  auto good = MessageId::generate();
  h.sendRaw(peerOf(kFront), kFront, batchOf({request(bad, "no spaces allowed"), request(good, "orders")}));
  auto sent = h.take();
  ASSERT_EQ(sent.size(), 2u);
  expectError(sent[0], kFront, bad, ErrorCode::kMalformed);
  EXPECT_EQ(sent[1].peer, peerOf(kLogicA));
  EXPECT_EQ(sentAs<codecs::Request>(sent[1]).id, good);
  EXPECT_EQ(h.broker.stats().malformed, 1u);
}

TEST(BrokerCore, DropsABatchBuiltWrongAsOneMalformedMessage) {
  Harness h;
  h.send(kLogicA, ready(5, {"orders"}));
  auto inner = batchOf({codecs::Heartbeat{}, codecs::Heartbeat{}}).front();
  auto request1 = codecs::encode(request(MessageId::generate(), "orders")).front();
  std::string nested = "ST\x02\x0f"s + codecs::encodeU32(static_cast<std::uint32_t>(request1.size())) + request1 +
                       codecs::encodeU32(static_cast<std::uint32_t>(inner.size())) + inner;
  h.sendRaw(peerOf(kFront), kFront, {nested});
  std::string cut = "ST\x02\x0f"s + codecs::encodeU32(static_cast<std::uint32_t>(request1.size())) + request1 +
                    codecs::encodeU32(400) + "ST\x02\x07"s;
  h.sendRaw(peerOf(kFront), kFront, {cut});
  // Nothing of either is handled, not even the well-formed request at its front.
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().malformed, 2u);
  EXPECT_EQ(h.broker.stats().requests, 0u);
}

TEST(BrokerCore, CountsEachMessageOfABatchAsTakenSoTheLoopsBudgetSeesThem) {
  Harness h;
  h.send(kLogicA, ready(5, {"orders"}));
  EXPECT_EQ(h.broker.messagesTaken(), 1u);
  h.sendRaw(peerOf(kFront), kFront,
            batchOf({request(MessageId::generate(), "orders"), request(MessageId::generate(), "orders"),
                     codecs::Heartbeat{}}));
  EXPECT_EQ(h.broker.messagesTaken(), 4u);
  h.sendRaw(peerOf(kFront), kFront, {"\xff\xff\xff\xff"s});  // malformed input is work taken too
  EXPECT_EQ(h.broker.messagesTaken(), 5u);
}

TEST(BrokerCore, CountsEveryMessageOfABatchThatCouldNotLeave) {
  Harness h;
  h.broker.onUnsent(peerOf(kFront), 7, SendResult::kFull);
  EXPECT_EQ(h.broker.stats().sendsFull, 7u);
  h.broker.onUnsent(peerOf(kFront), 3, SendResult::kGone);  // a peer that left is not full
  EXPECT_EQ(h.broker.stats().sendsFull, 7u);
}

// ---- Full peers ----

TEST(BrokerCore, CountsAMessageAFullPeerCouldNotTake) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.outbox.full.insert(peerOf(kLogicA));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders", 1000));
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().sendsFull, 1u);
  // Not sent is as good as lost: the deadline still answers the client.
  h.advanceAndTick(std::chrono::milliseconds(1000));
  expectError(h.takeOne(), kFront, id, ErrorCode::kTimeout);
}

// ---- Peers of another protocol version ----

TEST(BrokerCore, AnswersVersion1RequestInVersion1NamingBothVersions) {
  Harness h;
  auto id = MessageId::generate();
  h.sendRaw(peerOf(kFront), kFront,
            {"ST\x01\x01"s, std::string(id.bytes()), "orders", codecs::encodeU32(1000), "", "", "hi"});
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kFront));
  ASSERT_EQ(sent.frames.size(), 4u);  // version 1's ERROR, which that client can read
  EXPECT_EQ(sent.frames[0], "ST\x01\x04"s);
  EXPECT_EQ(sent.frames[1], std::string(id.bytes()));
  EXPECT_NE(sent.frames[3].find("version 1"), std::string::npos) << sent.frames[3];
  EXPECT_NE(sent.frames[3].find("version 2"), std::string::npos) << sent.frames[3];
  EXPECT_EQ(h.broker.stats().otherVersion, 1u);
  EXPECT_EQ(h.broker.stats().malformed, 0u);
}

TEST(BrokerCore, TellsVersion1WorkerToUpgradeWithoutRegisteringIt) {
  Harness h;
  h.sendRaw(peerOf(kLogicA), kLogicA, {"ST\x01\x05"s, codecs::encodeU32(5) + codecs::encodeU32(1000), "orders"});
  auto sent = h.takeOne();
  ASSERT_EQ(sent.frames.size(), 2u);
  EXPECT_EQ(sent.frames[0], "ST\x01\x08"s);
  EXPECT_NE(sent.frames[1].find("upgrade"), std::string::npos) << sent.frames[1];
  EXPECT_EQ(h.broker.workerCount(), 0u);
}

// ---- Oversized input ----

TEST(BrokerCore, AnswersOversizedRequestWithTooLarge) {
  Harness h;
  auto id = MessageId::generate();
  auto frames = encoded(request(id, "orders"));
  frames.resize(1);  // the socket loop keeps only the first frames; the id is in the envelope
  h.sendOversized(kFront, frames);
  expectError(h.takeOne(), kFront, id, ErrorCode::kTooLarge);
  EXPECT_EQ(h.broker.stats().tooLarge, 1u);
}

TEST(BrokerCore, DropsOversizedMessageWithoutRequestId) {
  Harness h;
  h.sendOversized(kFront, {"ST\x02\x01"s});
  h.sendOversized(kLogicA, encoded(reply(MessageId::generate())));
  h.sendOversized(kFront, {"junk", std::string(16, 'i')});
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.stats().tooLarge, 3u);
}

TEST(BrokerCore, PassesManyBodyFramesThrough) {
  // The frame-count limit is the socket loop's; whatever reaches the core is routed whole.
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto message = request(MessageId::generate(), "orders");
  message.body.clear();
  auto frames = encoded(message);
  frames.resize(300, "body");
  h.sendRaw(peerOf(kFront), kFront, frames);
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kLogicA));
  EXPECT_EQ(sent.frames.size(), 300u);
}

// ---- Unknown identities ----

// A key ZAP let in that the list no longer holds (a reload took it away).
TEST(BrokerCore, RefusesRequestFromKeyNotInKeys) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kStranger, request(id, "orders"));
  expectError(h.takeOne(), kStranger, id, ErrorCode::kForbidden);
  auto reserved = MessageId::generate();
  h.send(kStranger, request(reserved, "strata.services"));
  expectError(h.takeOne(), kStranger, reserved, ErrorCode::kForbidden);
  EXPECT_EQ(h.broker.stats().requests, 0u);
  EXPECT_EQ(h.broker.stats().unlisted, 2u);
}

TEST(BrokerCore, SendsAwayReadyFromKeyNotInKeys) {
  Harness h;
  h.send(kStranger, ready(1, {"orders"}));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kStranger));
  EXPECT_TRUE(std::holds_alternative<codecs::Disconnect>(decodeSent(sent).message));
  EXPECT_EQ(h.broker.workerCount(), 0u);
}

TEST(BrokerCore, SendsAwayMessageWithoutUserId) {
  Harness h;
  h.sendFrom(peerOf(kLogicB), "", ready(1, {"orders"}));
  EXPECT_TRUE(std::holds_alternative<codecs::Disconnect>(test::decodeSent(h.takeOne()).message));
  EXPECT_EQ(h.broker.workerCount(), 0u);
}

}  // namespace
}  // namespace strata::broker
