#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include <strata/broker/broker_core.h>
#include <strata/core/clock.h>
#include <strata/core/curve_keys.h>
#include <strata/core/layer_policy.h>
#include <strata/core/limits.h>
#include <strata/core/wakeup.h>
#include <strata/core/zap_server.h>

namespace strata::broker {

struct BrokerOptions {
  std::vector<std::string> bind;
  std::shared_ptr<const core::SecretKey> secretKey;
  std::shared_ptr<const core::AuthorizedKeys> authorizedKeys;
  core::LayerPolicy policy;
  BrokerSettings settings;
  core::Limits limits;
  std::string journal;  // SQLite file, or a postgresql:// URI shared by a pool; empty: none
  std::chrono::milliseconds journalLease{5000};  // shared journal: how long a dead broker holds its requests
  std::string name;  // this broker instance, as the shared journal knows it
  // Connections at once (strata.max_peers); a handshake beyond is refused. 0: no cap.
  std::size_t maxPeers = 0;
  // Publish a BrokerSnapshot every Broker::kSnapshotEvery (the admin endpoint reads it);
  // off, the loop does no such work.
  bool snapshots = false;
};

// The broker's figures as its loop last published them (every kSnapshotEvery), for
// threads other than the loop's: the admin endpoint's.
struct BrokerSnapshot {
  BrokerStats stats;
  EventStats events;
  std::vector<ServiceInfo> services;  // every counted one
  std::array<std::size_t, core::kMaxLayer + 1> workersByLayer{};
  std::size_t held = 0;       // requests the broker holds (queued or at a worker)
  std::size_t journaled = 0;  // durable requests in the journal
  DurationHistogram journalCommits;
  std::size_t connections = 0;  // TCP connections open, authenticated or not yet
  // Connections that have sent a message, by the layer of their key when they did.
  std::array<std::size_t, core::kMaxLayer + 1> peersByLayer{};
  core::ZapCounts handshakes;
  std::uint64_t handshakeErrors = 0;  // handshakes that broke off (not CURVE, garbage, timeout)
  std::uint64_t keyReloadsRefused = 0;
  std::chrono::system_clock::time_point taken;
  std::chrono::system_clock::time_point started;
};

// The broker's socket and event loop: one CURVE ROUTER socket (bound to every endpoint
// in options.bind), its ZAP handler, and a poller that feeds BrokerCore. The constructor
// installs ZAP and binds, so a broker that exists is already secure and reachable.
class Broker {
 public:
  // Throws ConfigError (nothing to bind, no authorized keys, bind failure).
  Broker(BrokerOptions options, const core::Clock& clock);
  ~Broker();

  // The endpoints bound, with ports chosen for "*" filled in.
  const std::vector<std::string>& endpoints() const { return endpoints_; }

  // Runs the loop on the calling thread until stop().
  void run();
  // May be called from any thread, including a signal-waiting one.
  void stop();
  // A new authorized_keys: the next handshake is checked against it at once, and the loop
  // applies it to open connections at its next turn (BrokerCore::replaceKeys). Any thread.
  void replaceKeys(std::shared_ptr<const core::AuthorizedKeys> keys);
  // Counts a reload refused for a broken file (for /metrics). Any thread.
  void keysRefused() { ++keysRefused_; }

  static constexpr std::chrono::milliseconds kSnapshotEvery{250};
  // The latest snapshot (null before the loop runs). Any thread.
  std::shared_ptr<const BrokerSnapshot> snapshot() const;
  // With snapshots on: how long ago the loop last turned (at least every kSnapshotEvery).
  // Any thread.
  std::chrono::milliseconds sinceLastTurn() const;

 private:
  class SocketOutbox;
  void receiveAll();
  void flushOutbox();  // what the loop's turn posted, one frame per peer
  void readMonitor();
  // The first message of a connection: which socket it came on, and its key's layer.
  void notePeer(const PeerId& peer, std::string_view userId, const zmq::message_t& first);
  void forgetConnection(int fd);

  BrokerOptions options_;
  const core::Clock& clock_;
  zmq::context_t context_;
  std::unique_ptr<core::ZapServer> zap_;
  zmq::socket_t socket_;
  std::vector<std::string> endpoints_;
  std::unique_ptr<SocketOutbox> outbox_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<BrokerCore> core_;
  zmq::socket_t monitor_;  // the router's connection events
  std::size_t connections_ = 0;
  // Peers by connection: the monitor names a closed connection by its file descriptor,
  // a message only by its routing id, so the first message of each peer ties the two.
  struct Connection {
    PeerId peer;
    core::Layer layer = core::kMaxLayer;
  };
  std::unordered_map<PeerId, int> fdOfPeer_;
  std::unordered_map<int, Connection> connectionOfFd_;
  std::array<std::size_t, core::kMaxLayer + 1> peersByLayer_{};
  std::uint64_t handshakeErrors_ = 0;
  core::Wakeup wakeup_;
  std::atomic<bool> stopping_{false};
  std::mutex keysMutex_;
  std::shared_ptr<const core::AuthorizedKeys> newKeys_;  // for the loop to take in
  std::atomic<bool> keysWaiting_{false};
  std::atomic<std::uint64_t> keysRefused_{0};
  void publishSnapshot();
  mutable std::mutex snapshotMutex_;
  std::shared_ptr<const BrokerSnapshot> snapshot_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  std::atomic<std::int64_t> lastTurnNs_{0};  // steady clock
};

}  // namespace strata::broker
