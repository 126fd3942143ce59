#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <strata/codecs/protocol.h>
#include <strata/core/authorized_keys.h>
#include <strata/core/curve_keys.h>
#include <strata/core/layer_policy.h>
#include <strata/core/limits.h>
#include <strata/nodes/idempotency_store.h>
#include <strata/nodes/messages.h>

namespace strata::nodes {

// Sends one partial reply ahead of the final one. Safe from the handler's thread.
using PartialSender = std::function<void(Body body, Headers headers)>;
// A service handler. Runs on a pool thread; may block; may throw (the caller then gets an
// `internal` error with the exception's text).
using Handler = std::function<Outcome(const IncomingRequest&, const PartialSender&)>;

struct WorkerOptions {
  static constexpr std::chrono::milliseconds kDefaultHeartbeat = codecs::kDefaultHeartbeat;
  static constexpr int kDefaultLiveness = codecs::kDefaultLiveness;
  static constexpr std::size_t kDefaultThreads = 4;
  static constexpr std::uint32_t kDefaultCapacity = 64;

  std::string name;  // stamped on every reply as the strata-worker header
  std::vector<std::string> brokers;  // registers with each
  std::shared_ptr<const core::SecretKey> secretKey;
  std::optional<core::PublicKey> brokerKey;

  // Direct mode: clients connect here without a broker.
  std::vector<std::string> bind;
  std::shared_ptr<const core::AuthorizedKeys> authorizedKeys;
  core::LayerPolicy policy;
  core::Layer layer = 2;  // the layer of this node's services, for the policy

  std::size_t threads = kDefaultThreads;
  std::uint32_t capacity = kDefaultCapacity;  // requests held at once, per broker
  std::chrono::milliseconds heartbeat = kDefaultHeartbeat;
  int liveness = kDefaultLiveness;
  core::Limits limits;
  // Answers a retried id from here instead of running the handler again; nullptr: off.
  std::shared_ptr<IdempotencyStore> idempotency;
};

// Serves handlers to brokers (and, in direct mode, to clients). Its sockets live on its
// own event-loop thread, which keeps heartbeats going however long handlers take;
// handlers run on a thread pool. The credit it offers each broker is its free capacity.
class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // How a handler runs. kPool: on the thread pool; it may block. kInline: on the event
  // loop itself, for handlers that only compute a little and never block (echo): no thread
  // hand-off, but a slow inline handler delays every other request and the heartbeats.
  enum class Execution { kPool, kInline };

  // Before start() only.
  void addService(const std::string& name, Handler handler, Execution execution = Execution::kPool);
  // Connects, binds (direct mode) and registers. Throws ConfigError.
  void start();
  // Says goodbye to the brokers and stops; running handlers finish, their replies are dropped.
  void stop();

  // Direct mode: the endpoints bound, ports filled in.
  std::vector<std::string> endpoints() const;

  // How the worker stands, for health checks; any thread.
  struct Status {
    bool running = false;
    std::size_t brokers = 0;     // configured
    std::size_t registered = 0;  // that have answered since its last READY
    std::chrono::milliseconds sinceLastTurn{0};  // of its loop, which turns at least every second
  };
  Status status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::nodes
