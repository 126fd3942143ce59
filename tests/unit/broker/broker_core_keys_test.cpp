// A reloaded authorized_keys in BrokerCore, without sockets: what connections made under
// a name whose key or layer changed keep, and what they lose.

#include <gtest/gtest.h>

#include "broker_harness.h"
#include "event_hub.h"

namespace strata::broker::test {
namespace {

using codecs::ErrorCode;
using core::MessageId;

// The test keys with one name's layer changed, or (layer nullopt) the name left out.
std::shared_ptr<const core::AuthorizedKeys> keysWith(std::string_view name, std::optional<core::Layer> layer) {
  auto keys = std::make_shared<core::AuthorizedKeys>();
  for (auto [n, l] : {std::pair{kFront, 4}, {kFront2, 4}, {kLogicA, 2}, {kLogicB, 2}, {kData, 1}}) {
    if (n != name) {
      keys->add(keyOf(n), {std::string(n), l});
    } else if (layer) {
      keys->add(keyOf(n), {std::string(n), *layer});
    }
  }
  return keys;
}

bool isDisconnect(const Sent& sent) { return std::holds_alternative<codecs::Disconnect>(decodeSent(sent).message); }

TEST(BrokerKeys, ARemovedCallerIsRefusedFromItsNextRequestOn) {
  Harness h;
  h.send(kLogicA, ready(2, {"orders"}));
  h.send(kFront, request(MessageId::generate(), "orders"));
  ASSERT_EQ(h.takeOne().peer, peerOf(kLogicA));
  h.broker.replaceKeys(keysWith(kFront, std::nullopt));
  EXPECT_TRUE(h.take().empty()) << "a caller holds nothing the reload must end";
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  expectError(h.takeOne(), kFront, id, ErrorCode::kForbidden);
  // The others keep going.
  h.send(kFront2, request(MessageId::generate(), "orders"));
  EXPECT_EQ(h.takeOne().peer, peerOf(kLogicA));
  EXPECT_EQ(h.broker.stats().keyReloads, 1u);
}

TEST(BrokerKeys, ACallersNewLayerAppliesToItsNextRequest) {
  core::LayerPolicy policy;
  policy.setServiceCallers("orders", "2");
  Harness h(testSettings(), policy);
  h.send(kLogicA, ready(1, {"orders"}));
  auto refused = MessageId::generate();
  h.send(kFront, request(refused, "orders"));
  expectError(h.takeOne(), kFront, refused, ErrorCode::kForbidden);
  h.broker.replaceKeys(keysWith(kFront, 2));
  h.send(kFront, request(MessageId::generate(), "orders"));
  EXPECT_EQ(h.takeOne().peer, peerOf(kLogicA));
}

TEST(BrokerKeys, AWorkerWhoseLayerChangedIsSentAwayToRegisterAgainAndItsRequestsMove) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kLogicB, ready(1, {"orders"}));
  auto id = MessageId::generate();
  h.send(kFront, request(id, "orders"));
  auto first = h.takeOne();
  auto moved = first.peer == peerOf(kLogicA) ? kLogicA : kLogicB;
  auto stays = moved == kLogicA ? kLogicB : kLogicA;
  h.broker.replaceKeys(keysWith(moved, 3));
  auto sent = h.take();
  ASSERT_EQ(sent.size(), 2u);
  // The request goes to the worker that stays; the other is told to register again.
  bool toStays = false;
  bool disconnected = false;
  for (const auto& s : sent) {
    if (s.peer == peerOf(stays)) toStays = sentAs<codecs::Request>(s).id == id;
    if (s.peer == peerOf(moved)) disconnected = isDisconnect(s);
  }
  EXPECT_TRUE(toStays);
  EXPECT_TRUE(disconnected);
  EXPECT_EQ(h.broker.workerCount(), 1u);
  // It comes back under its new layer: orders' workers are of layer 2, so not there.
  h.send(moved, ready(1, {"orders"}));
  EXPECT_TRUE(isDisconnect(h.takeOne()));
  h.send(moved, ready(1, {"reports"}));
  EXPECT_EQ(h.broker.workerCount(), 2u);
}

TEST(BrokerKeys, AnUnchangedListLeavesEveryoneInPlace) {
  Harness h;
  h.send(kLogicA, ready(1, {"orders"}));
  h.send(kFront, codecs::Subscribe{MessageId::generate(), 1, {"x.>"}});
  h.take();
  h.broker.replaceKeys(keysWith("", std::nullopt));
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.broker.workerCount(), 1u);
  EXPECT_FALSE(h.broker.events().empty());
}

TEST(BrokerKeys, ASubscriberWhoseKeyWasRemovedLosesItsSessionAndIsTold) {
  Harness h;
  h.send(kFront, codecs::Subscribe{MessageId::generate(), 1, {"x.>"}});
  h.send(kFront2, codecs::Subscribe{MessageId::generate(), 2, {"x.>"}});
  h.take();
  h.broker.replaceKeys(keysWith(kFront, std::nullopt));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kFront));
  EXPECT_TRUE(isDisconnect(sent));
  // Only the other one still hears what is published.
  h.send(kLogicA, codecs::Publish{{{codecs::eventId(9, 1), {}, "x.y", "", "body"}}});
  h.broker.flushEvents();
  bool toFront = false;
  bool toFront2 = false;
  for (const auto& s : h.take()) {
    if (!std::holds_alternative<codecs::Events>(decodeSent(s).message)) continue;
    toFront |= s.peer == peerOf(kFront);
    toFront2 |= s.peer == peerOf(kFront2);
  }
  EXPECT_FALSE(toFront);
  EXPECT_TRUE(toFront2);
}

}  // namespace
}  // namespace strata::broker::test
