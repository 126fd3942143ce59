#pragma once

// Private to the broker: publish/subscribe (docs/protocol.md, "Events").

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include <strata/broker/broker_core.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/authorized_keys.h>
#include <strata/core/clock.h>
#include <strata/core/layer_policy.h>

#include "record_queue.h"
#include "subscription_table.h"

namespace strata::broker {

// A subscriber session: one client's subscriptions and the queue of what it has yet to
// receive. It outlives the connection it came on for EventSettings::linger, so that a
// subscriber that reconnects (or was paused) gets its queue and hears what it lost.
struct Subscriber {
  std::string name;  // as ZAP authenticated it
  core::Layer layer = core::kMaxLayer;
  std::uint64_t session = 0;
  PeerId peer;        // its current connection; empty while it has none
  std::vector<std::string> patterns;
  core::TimePoint lastSeen{};

  RecordQueue queue;  // not yet sent
  std::uint64_t dropped = 0;  // running total, as EVENTS reports it
  std::uint64_t delivered = 0;
  std::uint64_t nextBatch = 1;
  // Sent batches it has not yet confirmed (RECEIVED): sent again when it reconnects, so a
  // batch lost with a connection is not lost to it.
  std::deque<std::pair<std::uint64_t, zmq::message_t>> unconfirmed;
  // How many of the newest unconfirmed batches have not gone out yet (the connection's
  // queue was full): sent first, in order, the next time there is something to send.
  std::size_t unsent = 0;
  bool pending = false;        // in EventHub's list of subscribers with something to send
  std::uint64_t matchStamp = 0;  // SubscriptionTable's mark while matching
};

struct PatternInfo {
  std::string pattern;
  std::size_t subscribers = 0;
};

// Subscriptions, subscriber queues and publishing, with no sockets: messages come in
// from BrokerCore, what goes out goes through send. Single-threaded, like BrokerCore.
class EventHub {
 public:
  using Send = std::function<SendResult(const PeerId&, FrameList&)>;

  EventHub(const EventSettings& settings, const core::LayerPolicy& policy, Send send);
  ~EventHub();

  void onSubscribe(const PeerId& peer, const core::Identity& who, const codecs::Subscribe& message,
                   core::TimePoint now);
  void onUnsubscribe(const PeerId& peer, const core::Identity& who, const codecs::Unsubscribe& message);
  void onPublish(const PeerId& peer, const core::Identity& who, const codecs::Publish& message);
  void onReceived(const PeerId& peer, const codecs::Received& message, core::TimePoint now);
  // A ping (strata.ping) from peer: its subscriber session, if any, is alive. Not called
  // per message: the loop pays for it only on pings, SUBSCRIBE and RECEIVED.
  void onSeen(const PeerId& peer, core::TimePoint now);
  // Ends the sessions of every subscriber whose name matches, telling a connected one why
  // (DISCONNECT); returns how many ended.
  std::size_t endSessionsOf(const std::function<bool(const std::string&)>& matches, std::string_view why);
  // Sends what the messages handled since the last call produced: batches to the
  // subscribers that can take them, ACCEPTED to the publishers. Once per loop turn, so
  // that under load one frame carries many events.
  void flush();
  // Ends the sessions not seen for EventSettings::linger.
  void onTick(core::TimePoint now);

  bool empty() const { return sessions_.empty(); }
  const EventStats& stats() const { return stats_; }
  std::vector<PatternInfo> patterns() const;
  const std::unordered_map<std::string, std::unique_ptr<Subscriber>>& sessions() const { return sessions_; }

 private:
  struct Accepts {
    std::uint64_t session = 0;
    std::vector<codecs::SequenceRange> ranges;
  };

  void reply(const PeerId& peer, const core::MessageId& id, std::string text);
  void refuse(const PeerId& peer, const core::MessageId& id, codecs::ErrorCode code, std::string text);
  void refuseSubscription(const PeerId& peer, const core::MessageId& id, codecs::ErrorCode code, std::string text);
  // Whether who may publish on subject, refusing event when not.
  bool admitted(const PeerId& peer, const core::Identity& who, const codecs::Event& event);
  void enqueue(Subscriber& subscriber, std::string_view record);
  void sendBatches(Subscriber& subscriber);
  SendResult sendFrame(Subscriber& subscriber, zmq::message_t& frame);
  void sendUnsent(Subscriber& subscriber);
  // Puts subscriber on the list flush() sends to, once, when it has something to send.
  void markPending(Subscriber& subscriber);
  // Encodes message and sends it to peer (replies, refusals, ACCEPTED, DISCONNECT).
  void sendMessage(const PeerId& peer, const codecs::Message& message);
  void accept(const PeerId& peer, Accepts& accepts, const core::MessageId& id);
  void flushAccepts(const PeerId& peer, Accepts& accepts);
  void end(Subscriber& subscriber);
  Subscriber* attached(const PeerId& peer);
  std::optional<std::string> overLimits(std::string_view subject) const;

  const EventSettings& settings_;
  const core::LayerPolicy& policy_;
  Send send_;
  EventStats stats_;
  SubscriptionTable table_;
  std::unordered_map<std::string, std::unique_ptr<Subscriber>> sessions_;  // by name and session
  std::unordered_map<PeerId, Subscriber*> byPeer_;
  std::vector<Subscriber*> toSend_;
  std::unordered_map<PeerId, Accepts> accepts_;
  std::vector<Subscriber*> matched_;  // reused by every publish
  std::string record_;                // reused to encode each relayed event
  core::TimePoint nextLingerCheck_{};
  FrameList out_;
};

}  // namespace strata::broker
