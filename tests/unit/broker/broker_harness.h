#pragma once

// A BrokerCore with no sockets: a ManualClock for time, a fixed set of identities, and an
// Outbox that records what the core sends so tests can decode it.

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <strata/broker/broker_core.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/authorized_keys.h>
#include <strata/core/clock.h>
#include <strata/core/curve_keys.h>
#include <strata/core/layer_policy.h>
#include <strata/core/message_id.h>

namespace strata::broker::test {

// Identities known to the broker by name; ZAP reports each by its key (userIdOf).
inline constexpr std::string_view kFront = "front";      // layer 4
inline constexpr std::string_view kFront2 = "front-2";   // layer 4
inline constexpr std::string_view kLogicA = "logic-a";   // layer 2
inline constexpr std::string_view kLogicB = "logic-b";   // layer 2
inline constexpr std::string_view kData = "data";        // layer 1
inline constexpr std::string_view kStranger = "stranger";  // not in the keys

// One peer (routing id) per identity, so a test can tell where a message went.
inline PeerId peerOf(std::string_view name) { return "peer:" + std::string(name); }

// The key each test identity has (the stranger's too), made once per test program.
inline const core::PublicKey& keyOf(std::string_view name) {
  static const auto keys = [] {
    std::map<std::string, core::PublicKey, std::less<>> made;
    for (auto n : {kFront, kFront2, kLogicA, kLogicB, kData, kStranger})
      made.emplace(std::string(n), core::generateKeyPair().publicKey);
    return made;
  }();
  return keys.at(std::string(name));
}

// What ZAP hands the broker as User-Id for a peer: its key.
inline std::string userIdOf(std::string_view name) { return name.empty() ? std::string() : keyOf(name).z85(); }

inline std::shared_ptr<core::AuthorizedKeys> testKeys() {
  auto keys = std::make_shared<core::AuthorizedKeys>();
  keys->add(keyOf(kFront), {std::string(kFront), 4});
  keys->add(keyOf(kFront2), {std::string(kFront2), 4});
  keys->add(keyOf(kLogicA), {std::string(kLogicA), 2});
  keys->add(keyOf(kLogicB), {std::string(kLogicB), 2});
  keys->add(keyOf(kData), {std::string(kData), 1});
  return keys;
}

struct Sent {
  PeerId peer;
  std::vector<std::string> frames;
};

class RecordingOutbox final : public Outbox {
 public:
  SendResult send(const PeerId& peer, FrameList& frames) override {
    bool isFull = full.contains(peer);
    Sent s{peer, {}};
    for (auto& frame : frames) s.frames.push_back(frame.to_string());
    frames.clear();
    if (isFull) return SendResult::kFull;
    if (gone.contains(peer)) return SendResult::kGone;
    sent.push_back(std::move(s));
    return SendResult::kSent;
  }
  std::vector<Sent> sent;
  std::set<PeerId> full;  // peers whose queue is full: what is sent to them is refused
  std::set<PeerId> gone;  // peers that left: what is sent to them goes nowhere
};

inline FrameList toFrames(const std::vector<std::string>& frames) {
  FrameList out;
  for (const auto& f : frames) out.emplace_back(f.data(), f.size());
  return out;
}

// The decoded message holds views into sent.frames: keep `sent` alive while reading it.
inline codecs::DecodeResult decodeSent(const Sent& sent) {
  std::vector<std::string_view> views(sent.frames.begin(), sent.frames.end());
  return codecs::decode(views);
}

// The message as T, or a test failure and a default T.
template <typename T>
T sentAs(const Sent& sent) {
  auto result = decodeSent(sent);
  EXPECT_TRUE(result.ok()) << "to " << sent.peer << ": " << codecs::decodeErrorName(result.error);
  const T* message = std::get_if<T>(&result.message);
  EXPECT_NE(message, nullptr) << "to " << sent.peer << ": decoded as alternative " << result.message.index();
  return message ? *message : T{};
}

// Checks that sent is an ERROR with code for id, addressed to the peer named to.
inline void expectError(const Sent& sent, std::string_view to, const core::MessageId& id, codecs::ErrorCode code) {
  EXPECT_EQ(sent.peer, peerOf(to));
  auto error = sentAs<codecs::Error>(sent);
  EXPECT_EQ(error.id, id);
  EXPECT_EQ(error.code, code) << "got " << codecs::errorCodeName(error.code) << ": " << error.text;
}

inline codecs::Request request(const core::MessageId& id, std::string_view service,
                               std::uint32_t timeoutMs = 5000, std::string_view body = "hello") {
  codecs::Request r;
  r.id = id;
  r.service = service;
  r.timeoutMs = timeoutMs;
  r.body = {body};
  return r;
}

inline codecs::Ready ready(std::uint32_t credit, std::vector<std::string_view> services,
                           std::uint32_t heartbeatMs = 1000) {
  return codecs::Ready{credit, heartbeatMs, std::move(services)};
}

inline codecs::Reply reply(const core::MessageId& id, std::string_view body = "done") {
  return codecs::Reply{id, {}, {body}};
}

// Settings that make the numbers in tests easy to follow.
inline BrokerSettings testSettings() {
  BrokerSettings s;
  s.heartbeat = std::chrono::milliseconds(1000);
  s.liveness = 3;
  s.queueMax = 1000;
  return s;
}

class Harness {
 public:
  explicit Harness(BrokerSettings settings = testSettings(), core::LayerPolicy policy = {})
      : broker(settings, testKeys(), std::move(policy), outbox) {
    broker.describeSelf("test-broker", clock.now());
  }

  // Delivers message from the identity `user` on its own peer.
  void send(std::string_view user, const codecs::Message& message) { sendFrom(peerOf(user), user, message); }
  void sendFrom(const PeerId& peer, std::string_view user, const codecs::Message& message) {
    sendRaw(peer, user, codecs::encode(message));
  }
  void sendRaw(const PeerId& peer, std::string_view user, const std::vector<std::string>& frames) {
    auto list = toFrames(frames);
    broker.onMessage(peer, userIdOf(user), list, clock.now());
  }
  void sendOversized(std::string_view user, const std::vector<std::string>& frames) {
    auto list = toFrames(frames);
    broker.onOversized(peerOf(user), userIdOf(user), list, clock.now());
  }
  void advance(std::chrono::milliseconds d) { clock.advance(d); }
  void tick() { broker.onTick(clock.now()); }
  void advanceAndTick(std::chrono::milliseconds d) {
    advance(d);
    tick();
  }

  // What was sent since the last take(), in order; clears the record.
  std::vector<Sent> take() {
    auto out = std::move(outbox.sent);
    outbox.sent.clear();
    return out;
  }
  // What was sent to one peer since the last take(); clears the whole record.
  std::vector<Sent> takeFor(std::string_view user) {
    std::vector<Sent> out;
    for (auto& s : take())
      if (s.peer == peerOf(user)) out.push_back(std::move(s));
    return out;
  }

  // The single message sent since the last take(), or a failure.
  Sent takeOne() {
    auto all = take();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Sent{} : std::move(all.front());
  }

  const ServiceInfo* service(std::string_view name) {
    services_ = broker.services();
    for (const auto& s : services_)
      if (s.name == name) return &s;
    return nullptr;
  }

  core::ManualClock clock;
  RecordingOutbox outbox;
  BrokerCore broker;

 private:
  std::vector<ServiceInfo> services_;
};

}  // namespace strata::broker::test
