#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include <strata/broker/journal.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/authorized_keys.h>
#include <strata/core/clock.h>
#include <strata/core/layer_policy.h>
#include <strata/core/logging.h>
#include <strata/core/message_id.h>

namespace strata::broker {

// A connection's ROUTER routing id.
using PeerId = std::string;
using FrameList = std::vector<zmq::message_t>;

// What became of a message handed to the Outbox.
enum class SendResult {
  kSent,  // queued for the peer
  kGone,  // no such peer connected (it left)
  kFull,  // the peer's queue is at its high-water mark: the message was not sent
};

// Where the core's messages go. The socket loop sends them; tests collect them.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Sends frames to peer and empties them either way, leaving the list for the caller
  // to use again (so a warm broker allocates no list per message). Whatever post() holds
  // for peer goes first, so a peer gets its messages in the order they were given.
  virtual SendResult send(const PeerId& peer, FrameList& frames) = 0;
  // The same, but a one-frame message may wait for the end of the loop's turn, to leave
  // in one BATCH with the others for peer. kSent then says only that it is held; a batch
  // that cannot leave is reported to BrokerCore::onUnsent.
  virtual SendResult post(const PeerId& peer, FrameList& frames) { return send(peer, frames); }
};

// Publish/subscribe limits (strata.events.*, docs/configuration.md).
struct EventSettings {
  static constexpr std::size_t kDefaultMaxSubject = 256;
  static constexpr std::size_t kDefaultMaxTokens = 16;
  static constexpr std::size_t kDefaultMaxSubscriptions = 1000;
  static constexpr std::size_t kDefaultQueueEvents = 10'000;
  static constexpr std::size_t kDefaultQueueBytes = 8 * 1024 * 1024;
  static constexpr std::chrono::milliseconds kDefaultLinger{30'000};
  enum class SlowPolicy { kDrop, kDisconnect };

  std::size_t maxSubject = kDefaultMaxSubject;  // bytes of a subject or pattern
  std::size_t maxTokens = kDefaultMaxTokens;
  std::size_t maxSubscriptions = kDefaultMaxSubscriptions;  // patterns per subscriber
  // Each subscriber's queue in the broker; past either bound the oldest events are
  // dropped and counted (kDrop) or the subscriber is sent away (kDisconnect).
  std::size_t queueEvents = kDefaultQueueEvents;
  std::size_t queueBytes = kDefaultQueueBytes;
  SlowPolicy slow = SlowPolicy::kDrop;
  // How long a subscriber's session (its subscriptions and queue) outlives its last
  // message, so that one that reconnects, or was paused, finds it again.
  std::chrono::milliseconds linger = kDefaultLinger;
};

struct BrokerSettings {
  static constexpr std::chrono::milliseconds kDefaultHeartbeat = codecs::kDefaultHeartbeat;
  static constexpr int kDefaultLiveness = codecs::kDefaultLiveness;
  static constexpr std::size_t kDefaultQueueMax = 100'000;

  std::chrono::milliseconds heartbeat = kDefaultHeartbeat;
  int liveness = kDefaultLiveness;         // missed heartbeats before a worker is dead
  std::size_t queueMax = kDefaultQueueMax;  // waiting requests per service
  EventSettings events;
};

struct EventStats {
  std::uint64_t published = 0;   // events accepted
  std::uint64_t refused = 0;     // publishes refused (policy, limits)
  std::uint64_t delivered = 0;   // event copies sent to subscribers
  std::uint64_t dropped = 0;     // event copies dropped from full subscriber queues
  std::uint64_t subscriptionsRefused = 0;
  std::uint64_t disconnectedSlow = 0;  // subscribers sent away for being slow (SlowPolicy::kDisconnect)
};

struct BrokerStats {
  std::uint64_t requests = 0;
  std::uint64_t replies = 0;
  std::uint64_t errors = 0;       // ERROR messages sent to clients, whoever made them
  std::uint64_t timeouts = 0;
  std::uint64_t forbidden = 0;
  std::uint64_t unknownService = 0;
  std::uint64_t rejectedFull = 0;
  std::uint64_t malformed = 0;
  std::uint64_t tooLarge = 0;
  std::uint64_t requeued = 0;     // requests moved off a dead worker
  std::uint64_t workersLost = 0;
  std::uint64_t durable = 0;      // durable requests journaled
  std::uint64_t restored = 0;     // durable requests taken back from the journal at start
  std::uint64_t sendsFull = 0;    // messages not sent because the peer's queue was full
  std::uint64_t otherVersion = 0;  // messages of another protocol version, refused
  std::uint64_t unlisted = 0;     // messages on a connection whose key a reload took away
  std::uint64_t keyReloads = 0;   // authorized_keys lists taken in since the start
  std::uint64_t connections = 0;  // open now, as the socket's owner last reported
};

// How long a service's requests took, broker in to final answer out, as a histogram
// with fixed bounds in seconds (Prometheus's cumulative buckets are made from it).
struct DurationHistogram {
  static constexpr std::array<double, 14> kBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  std::array<std::uint64_t, kBounds.size() + 1> counts{};  // the last: above every bound
  double sumSeconds = 0;

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++counts[i];
    sumSeconds += seconds;
  }
};

// What a service has seen since the broker started.
struct ServiceCounters {
  std::uint64_t requests = 0;  // accepted into its queue
  std::uint64_t replies = 0;   // answered by a worker
  std::uint64_t errors = 0;    // answered with an error, by a worker or by its deadline
  DurationHistogram durations;
};

struct ServiceInfo {
  std::string name;
  std::size_t workers = 0;
  std::size_t queued = 0;
  std::size_t inFlight = 0;
  ServiceCounters counters;
};

class ServiceTable;
class EventHub;
class PendingRequests;
struct Service;
struct Worker;
struct Pending;

// All of the broker's routing state and rules, with no sockets and no threads: messages
// and clock ticks go in, messages come out through the Outbox. Single-threaded; the
// broker's event loop is its only caller. It decodes and routes; the services and their
// workers live in a ServiceTable, the requests it holds in PendingRequests (which alone
// moves them from state to state), the strata.* answers in reserved_services.
class BrokerCore {
 public:
  BrokerCore(BrokerSettings settings, std::shared_ptr<const core::AuthorizedKeys> keys, core::LayerPolicy policy,
             Outbox& outbox);
  ~BrokerCore();
  BrokerCore(const BrokerCore&) = delete;
  BrokerCore& operator=(const BrokerCore&) = delete;

  // One whole message from peer, authenticated by ZAP, whose User-Id is the peer's public
  // key (Z85). Never throws for bad input.
  void onMessage(const PeerId& peer, std::string_view userId, FrameList& frames, core::TimePoint now);
  // Messages that post() held for peer and then could not send (kFull, kGone): count of them.
  void onUnsent(const PeerId& peer, std::size_t count, SendResult result);
  // A message that broke the frame-count or size limit. frames holds its first frames only.
  void onOversized(const PeerId& peer, std::string_view userId, FrameList& frames, core::TimePoint now);
  // Expires requests, buries silent workers, sends heartbeats.
  void onTick(core::TimePoint now);
  // A reloaded authorized_keys. Connections under a name whose key or layer changed lose
  // what they hold: workers are sent away to register again, subscriber sessions end
  // (the client subscribes afresh under its new rights), and a connection on a key no
  // longer listed is refused from its next message on.
  void replaceKeys(std::shared_ptr<const core::AuthorizedKeys> keys);
  // What strata.stats reports of the broker itself: its instance name, when it started,
  // and how many connections its socket holds (the socket's owner keeps it current).
  void describeSelf(std::string name, core::TimePoint started);
  void setConnections(std::size_t open) { stats_.connections = open; }
  // The identity of a User-Id (a key) in the list in force, or nullptr.
  const core::Identity* identityOf(std::string_view userId) const { return keys_->lookup(userId); }
  // How long the loop may sleep before onTick has work to do.
  std::chrono::milliseconds timeUntilNextTick(core::TimePoint now) const;

  // Durable requests (header strata-durable: 1) are written to journal and acknowledged
  // (a PARTIAL with header strata-accepted: 1) only once flushJournal() has committed them.
  // Without a journal they are refused. Call before any message; restores what the journal
  // still holds from an earlier run.
  void setJournal(Journal* journal, core::TimePoint now);
  // Commits the journal writes of the messages handled since the last call, then sends
  // their acknowledgements. The loop calls it once per batch: one disk sync per batch.
  void flushJournal();
  // Sends the event batches and publish acknowledgements of the messages handled since
  // the last call. The loop calls it once per batch of messages, like flushJournal.
  void flushEvents();

  const BrokerStats& stats() const { return stats_; }
  // Messages taken since the start, each one inside a batch counted on its own: the loop's
  // measure of a turn's work, whatever frames they came in.
  std::uint64_t messagesTaken() const { return taken_; }
  // How long each journal commit took (one per batch with durable requests).
  const DurationHistogram& journalCommits() const { return journalCommits_; }
  // The services with workers or waiting requests; with everyCounted, also those that
  // have none now but have counted requests (for metrics, whose counters must not vanish).
  std::vector<ServiceInfo> services(bool everyCounted = false) const;
  // Registered workers by layer, and durable requests in the journal not yet answered.
  std::array<std::size_t, core::kMaxLayer + 1> workersByLayer() const;
  std::size_t journaled() const;
  std::size_t held() const;  // requests queued or at a worker
  std::size_t workerCount() const;
  const EventHub& events() const { return *events_; }

 private:
  // Decoded messages, by the sender's role first: a registered worker's answers, credit
  // and goodbyes; then what any peer may send (requests, registrations).
  void handleFromWorker(const PeerId& peer, FrameList& frames, codecs::Message& message);
  void handleFromPeer(const PeerId& peer, const core::Identity& who, FrameList& frames, codecs::Message& message,
                      core::TimePoint now);
  void handleRequest(const PeerId& peer, const core::Identity& who, FrameList& frames, codecs::Request& request,
                     core::TimePoint now);
  void handleReserved(const PeerId& peer, const codecs::Request& request);
  void handleReady(const PeerId& peer, const core::Identity& who, const codecs::Ready& ready, core::TimePoint now);
  void handleWorkerAnswer(const PeerId& peer, FrameList& frames, const core::MessageId& id, bool final);
  void handleCredit(const PeerId& peer, std::uint32_t credit);
  // sender: the peer's name, for logs.
  void handleMalformed(const PeerId& peer, std::string_view sender, FrameList& frames, codecs::DecodeError error,
                       core::TimePoint now);
  void refuseUnlisted(const PeerId& peer, const codecs::Message& message, core::TimePoint now);
  // Who a User-Id (a key) is, for logs: its name, or "an unlisted key".
  std::string nameOf(std::string_view userId) const;

  void dispatch(Service& service);
  // Replaces frames' envelope with the one every worker of this request gets.
  void writeForWorkers(FrameList& frames, codecs::Request& request, const core::Identity& who);
  void sendToWorker(Worker& worker, Pending& pending);
  void removeWorker(const PeerId& peer, const char* why);
  void failQueued(Service& service);  // its last worker left
  void checkHeartbeats(core::TimePoint now);

  void forget(const core::MessageId& id);  // drops a durable request from the journal
  std::size_t adopt(std::vector<JournalEntry> entries, core::TimePoint now);  // queues journaled requests
  void takeOverIfDue(core::TimePoint now);

  // Through Outbox::post: may leave in a batch at the end of the turn. sendNow, through
  // Outbox::send, leaves at once and says what became of it (the event hub needs that).
  SendResult send(const PeerId& peer, FrameList& frames);
  SendResult sendNow(const PeerId& peer, FrameList& frames);
  SendResult noteSent(const PeerId& peer, SendResult result, std::size_t count);
  void onBatch(const PeerId& peer, std::string_view userId, codecs::Batch& batch, core::TimePoint now);
  void sendError(const PeerId& peer, const core::MessageId& id, codecs::ErrorCode code, std::string_view text);
  void sendDisconnect(const PeerId& peer, std::string_view reason);
  void sendEncoded(const PeerId& peer, const codecs::Message& message);

  BrokerSettings settings_;
  std::shared_ptr<const core::AuthorizedKeys> keys_;
  std::string name_;
  core::TimePoint started_{};
  DurationHistogram journalCommits_;
  core::LayerPolicy policy_;
  Outbox& outbox_;
  BrokerStats stats_;
  core::RateLimitedLog badInputLog_;
  core::TimePoint nextHeartbeat_{};
  core::TimePoint now_{};  // the time of the event being handled
  // Reused for every message, so that a warm broker decodes without allocating.
  std::vector<std::string_view> views_;
  codecs::Message decoded_;
  FrameList out_;  // what goes to a peer, built here message after message
  FrameList batched_;  // one message of a batch, as if it had come alone
  std::uint64_t taken_ = 0;
  std::vector<std::string_view> batchMessages_;
  Journal* journal_ = nullptr;
  core::TimePoint nextTakeOver_{};
  std::vector<std::pair<PeerId, core::MessageId>> toAccept_;  // journaled, awaiting commit
  std::size_t durableHeld_ = 0;  // durable requests in the journal, not yet finished

  std::unique_ptr<ServiceTable> table_;
  std::unique_ptr<PendingRequests> pending_;
  std::unique_ptr<EventHub> events_;
};

}  // namespace strata::broker
