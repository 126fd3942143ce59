#include <strata/broker/broker.h>

#include <array>
#include <cstring>

#include <Poco/Logger.h>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>
#include <strata/core/socket_setup.h>

#include "event_hub.h"

namespace strata::broker {

namespace codec = strata::codecs;

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.broker"); }

// Messages taken per poll wake-up before timers get a turn; keeps deadlines honest
// under a flood without paying a poll per message.
constexpr std::uint64_t kReceiveBatch = 512;

}  // namespace

class Broker::SocketOutbox final : public Outbox {
 public:
  // maxBatch: the most bytes one frame may carry (Limits::maxOneFrameMessage).
  SocketOutbox(zmq::socket_t& socket, std::size_t maxBatch) : socket_(socket), maxBatch_(maxBatch) {}

  SendResult send(const PeerId& peer, FrameList& frames) override {
    if (auto it = slot_.find(peer); it != slot_.end()) flush(held_[it->second]);
    SendResult result = sendAll(peer, frames);
    frames.clear();
    return result;
  }

  SendResult post(const PeerId& peer, FrameList& frames) override {
    if (frames.size() != 1) return send(peer, frames);
    auto message = frames.front().to_string_view();
    auto [it, added] = slot_.try_emplace(peer, used_);
    if (added) {
      if (used_ == held_.size()) held_.push_back({peer, codec::BatchWriter(maxBatch_)});
      held_[used_].peer = peer;
      ++used_;
    }
    Held& held = held_[it->second];
    if (!held.batch.takes(message.size())) return send(peer, frames);
    if (!held.batch.fits(message.size())) flush(held);
    held.batch.add(message);
    frames.clear();
    return SendResult::kSent;
  }

  // Sends what post() held, each peer's messages as one frame; unsent(peer, count,
  // result) hears of each batch that could not leave.
  template <typename Unsent>
  void flushAll(Unsent&& unsent) {
    for (std::size_t i = 0; i < used_; ++i) flush(held_[i]);
    // The writers stay, with their buffers, for the peers of the next turn.
    slot_.clear();
    used_ = 0;
    for (const auto& f : failed_) unsent(f.peer, f.count, f.result);
    failed_.clear();
  }

 private:
  struct Held {
    PeerId peer;
    codec::BatchWriter batch;
  };
  struct Failed {
    PeerId peer;
    std::size_t count;
    SendResult result;
  };

  void flush(Held& held) {
    if (held.batch.empty()) return;
    auto result = sendFrame(held.peer, held.batch.frame());
    if (result != SendResult::kSent) failed_.push_back({held.peer, held.batch.count(), result});
    held.batch.clear();
  }

  SendResult sendFrame(const PeerId& peer, std::string_view frame) {
    return sendTo(peer, [&] { socket_.send(zmq::buffer(frame), zmq::send_flags::dontwait); });
  }

  SendResult sendAll(const PeerId& peer, FrameList& frames) {
    return sendTo(peer, [&] {
      for (std::size_t i = 0; i < frames.size(); ++i) {
        auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
        socket_.send(frames[i], flags | zmq::send_flags::dontwait);
      }
    });
  }

  // The routing id, then what sendFrames sends.
  template <typename SendFrames>
  SendResult sendTo(const PeerId& peer, SendFrames&& sendFrames) {
    try {
      // With ROUTER_MANDATORY a peer at its high-water mark refuses the routing id
      // (EAGAIN, no throw) and nothing of the message is queued.
      if (!socket_.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return SendResult::kFull;
      }
      sendFrames();
      return SendResult::kSent;
    } catch (const zmq::error_t& e) {
      // EHOSTUNREACH: the peer left (ROUTER_MANDATORY says so instead of dropping silently).
      // Its requests are settled by deadlines and heartbeats, not here.
      if (e.num() != EHOSTUNREACH) logger().warning("send failed: %s", std::string(e.what()));
      return SendResult::kGone;
    }
  }

  zmq::socket_t& socket_;
  std::size_t maxBatch_;
  // The peers posted to in this turn, in the order they were first posted to: held_[0,
  // used_) with slot_ to find them; the writers past used_ are spares with their buffers.
  std::vector<Held> held_;
  std::size_t used_ = 0;
  std::unordered_map<PeerId, std::size_t> slot_;
  std::vector<Failed> failed_;  // batches that could not leave, told at the end of the turn
};

Broker::Broker(BrokerOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock), context_(1) {
  if (options_.bind.empty()) throw ConfigError("strata.broker.bind names no endpoint to bind");
  if (!options_.authorizedKeys || options_.authorizedKeys->empty()) {
    throw ConfigError("no authorized keys: a broker accepts only listed keys, so it refuses to start without any");
  }
  if (!options_.secretKey) throw ConfigError("strata.key is required");
  // ZAP first: until it is bound, CURVE would accept any key.
  zap_ = std::make_unique<core::ZapServer>(context_, options_.authorizedKeys);
  zap_->limitConnections(options_.maxPeers);
  socket_ = zmq::socket_t(context_, zmq::socket_type::router);
  core::makeCurveServer(socket_, *options_.secretKey, options_.limits);
  socket_.set(zmq::sockopt::router_mandatory, true);
  // Connections come and go in the I/O thread; the monitor tells the loop, which keeps the
  // count strata.max_peers is checked against.
  auto monitorEndpoint = "inproc://strata.broker.monitor." + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  constexpr int kEvents = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
  if (zmq_socket_monitor(socket_.handle(), monitorEndpoint.c_str(), kEvents) != 0) {
    throw SystemError(std::string("cannot monitor the broker's socket: ") + zmq_strerror(zmq_errno()));
  }
  monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(monitorEndpoint);
  for (const auto& endpoint : options_.bind) endpoints_.push_back(core::bindSecure(socket_, endpoint));
  outbox_ = std::make_unique<SocketOutbox>(socket_, options_.limits.maxOneFrameMessage());
  core_ = std::make_unique<BrokerCore>(options_.settings, options_.authorizedKeys, options_.policy, *outbox_);
  core_->describeSelf(options_.name, clock_.now());
  if (options_.journal.starts_with("postgresql://") || options_.journal.starts_with("postgres://")) {
    journal_ = std::make_unique<PostgresJournal>(options_.journal, options_.name, options_.journalLease);
    core_->setJournal(journal_.get(), clock_.now());
  } else if (!options_.journal.empty()) {
    journal_ = std::make_unique<SqliteJournal>(options_.journal);
    core_->setJournal(journal_.get(), clock_.now());
  }
}

Broker::~Broker() = default;

void Broker::stop() {
  stopping_ = true;
  wakeup_.signal();
}

void Broker::replaceKeys(std::shared_ptr<const core::AuthorizedKeys> keys) {
  zap_->replaceKeys(keys);
  {
    std::lock_guard lock(keysMutex_);
    newKeys_ = std::move(keys);
  }
  keysWaiting_ = true;
  wakeup_.signal();
}

void Broker::readMonitor() {
  for (;;) {
    zmq::message_t event;
    if (!monitor_.recv(event, zmq::recv_flags::dontwait)) return;
    zmq::message_t address;
    if (event.more()) (void)monitor_.recv(address, zmq::recv_flags::none);
    if (event.size() < sizeof(std::uint16_t) + sizeof(std::int32_t)) continue;
    std::uint16_t kind;
    std::memcpy(&kind, event.data(), sizeof kind);
    std::int32_t fd;  // the event's value: the connection's socket for these events
    std::memcpy(&fd, event.data<char>() + sizeof kind, sizeof fd);
    if (kind == ZMQ_EVENT_ACCEPTED) {
      ++connections_;  // a reused socket number is settled at its first message (notePeer)
    } else if (kind == ZMQ_EVENT_DISCONNECTED) {
      if (connections_ > 0) --connections_;
      forgetConnection(fd);
    } else {
      ++handshakeErrors_;
    }
  }
}

void Broker::notePeer(const PeerId& peer, std::string_view userId, const zmq::message_t& first) {
  // ZMQ_SRCFD is deprecated in libzmq but answers in 4.3; without it peers go uncounted.
  int fd = zmq_msg_get(first.handle(), ZMQ_SRCFD);
  const core::Identity* who = core_->identityOf(userId);
  if (fd < 0 || !who) return;
  forgetConnection(fd);
  fdOfPeer_[peer] = fd;
  connectionOfFd_[fd] = Connection{peer, who->layer};
  ++peersByLayer_[static_cast<std::size_t>(who->layer)];
}

void Broker::forgetConnection(int fd) {
  auto it = connectionOfFd_.find(fd);
  if (it == connectionOfFd_.end()) return;
  --peersByLayer_[static_cast<std::size_t>(it->second.layer)];
  fdOfPeer_.erase(it->second.peer);
  connectionOfFd_.erase(it);
}

void Broker::run() {
  for (const auto& e : endpoints_) logger().information("broker listening on %s (CURVE)", e);
  std::array<zmq::pollitem_t, 3> items{{{socket_.handle(), 0, ZMQ_POLLIN, 0},
                                        {nullptr, wakeup_.fd(), ZMQ_POLLIN, 0},
                                        {monitor_.handle(), 0, ZMQ_POLLIN, 0}}};
  auto nextSnapshot = std::chrono::steady_clock::now();
  while (!stopping_) {
    auto wait = core_->timeUntilNextTick(clock_.now());
    if (options_.snapshots) {
      auto turn = std::chrono::steady_clock::now();
      lastTurnNs_.store(turn.time_since_epoch().count(), std::memory_order_relaxed);
      if (turn >= nextSnapshot) {
        publishSnapshot();
        nextSnapshot = turn + kSnapshotEvery;
      }
      // Turns at least this often, so that /livez can tell a stuck loop from an idle one.
      wait = std::min(wait, std::chrono::milliseconds(kSnapshotEvery));
    }
    zmq::poll(items.data(), items.size(), wait);
    if (items[1].revents & ZMQ_POLLIN) wakeup_.drain();
    if (items[2].revents & ZMQ_POLLIN) {
      readMonitor();
      zap_->setOpenConnections(connections_);
      core_->setConnections(connections_);
    }
    if (keysWaiting_.exchange(false)) {
      std::lock_guard lock(keysMutex_);
      core_->replaceKeys(std::move(newKeys_));
    }
    if (items[0].revents & ZMQ_POLLIN) receiveAll();
    core_->onTick(clock_.now());
    core_->flushJournal();
    core_->flushEvents();
    flushOutbox();
  }
  auto s = core_->stats();
  logger().information("broker stopped: " + std::to_string(s.requests) + " requests, " + std::to_string(s.replies) +
                       " replies, " + std::to_string(s.errors) + " errors, " + std::to_string(s.malformed) +
                       " malformed, " + std::to_string(s.tooLarge) + " too large");
}

void Broker::publishSnapshot() {
  auto snapshot = std::make_shared<BrokerSnapshot>();
  snapshot->stats = core_->stats();
  snapshot->events = core_->events().stats();
  snapshot->services = core_->services(true);
  snapshot->workersByLayer = core_->workersByLayer();
  snapshot->held = core_->held();
  snapshot->journaled = core_->journaled();
  snapshot->journalCommits = core_->journalCommits();
  snapshot->connections = connections_;
  snapshot->peersByLayer = peersByLayer_;
  snapshot->handshakes = zap_->counts();
  snapshot->handshakeErrors = handshakeErrors_;
  snapshot->keyReloadsRefused = keysRefused_.load();
  snapshot->taken = std::chrono::system_clock::now();
  snapshot->started = started_;
  std::lock_guard lock(snapshotMutex_);
  snapshot_ = std::move(snapshot);
}

std::shared_ptr<const BrokerSnapshot> Broker::snapshot() const {
  std::lock_guard lock(snapshotMutex_);
  return snapshot_;
}

std::chrono::milliseconds Broker::sinceLastTurn() const {
  auto last = lastTurnNs_.load(std::memory_order_relaxed);
  if (last == 0) return std::chrono::milliseconds(0);
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(now - last));
}

void Broker::flushOutbox() {
  outbox_->flushAll([this](const PeerId& peer, std::size_t count, SendResult result) {
    core_->onUnsent(peer, count, result);
  });
}

void Broker::receiveAll() {
  const auto& limits = options_.limits;
  FrameList frames;
  // The budget counts messages as well as frames: one frame may be a batch of a thousand.
  const auto start = core_->messagesTaken();
  for (std::uint64_t n = 0; n < kReceiveBatch && core_->messagesTaken() - start < kReceiveBatch; ++n) {
    zmq::message_t routing;
    if (!socket_.recv(routing, zmq::recv_flags::dontwait)) return;
    frames.clear();
    // Of an oversized message keep only the first frames, to answer it by id.
    bool oversized = core::receiveRest(socket_, routing.more(), frames, limits, 2) == core::Received::kOversized;
    std::string userId;
    if (!frames.empty()) {
      if (const char* user = zmq_msg_gets(frames.front().handle(), "User-Id")) userId = user;
    }
    if (frames.empty()) continue;  // a routing id alone: nothing to route
    PeerId peer(routing.data<char>(), routing.size());
    if (!fdOfPeer_.contains(peer)) notePeer(peer, userId, frames.front());
    auto now = clock_.now();
    if (oversized) {
      core_->onOversized(peer, userId, frames, now);
    } else {
      core_->onMessage(peer, userId, frames, now);
    }
  }
}

}  // namespace strata::broker
