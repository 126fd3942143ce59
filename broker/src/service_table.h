#pragma once

// Private to the broker: the services and the workers that offer them.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <strata/broker/broker_core.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/authorized_keys.h>
#include <strata/core/clock.h>
#include <strata/core/message_id.h>

namespace strata::broker {

struct Worker;

struct Service {
  std::string name;
  int layer = -1;  // the layer of its workers; -1 until one registers
  std::vector<Worker*> workers;
  std::size_t next = 0;                 // round-robin position in workers
  std::deque<core::MessageId> queue;    // may hold stale ids: PendingRequests decides
  std::size_t queued = 0;               // requests waiting (kept by PendingRequests)
  std::size_t inFlight = 0;             // requests at a worker (kept by PendingRequests)
  ServiceCounters counters;             // kept by BrokerCore
};

struct Worker {
  PeerId peer;
  std::string name;
  int layer = 0;
  std::vector<Service*> services;
  std::uint32_t credit = 0;
  std::chrono::milliseconds heartbeat{};
  core::TimePoint lastSeen{};
  // Requests sent and not yet finally answered, each costing one credit. A multiset: a
  // retried id can be at the same worker twice, and each answer returns its own credit.
  std::unordered_multiset<core::MessageId, core::MessageIdHash> outstanding;
};

// Services by name, workers by connection, and the credit rules between them: who may
// register what, and which worker gets the next request of a service. Owns both.
class ServiceTable {
 public:
  Service* find(std::string_view name);
  const Service* find(std::string_view name) const;
  // The service, made (with no workers) if it is new.
  Service& named(std::string_view name);
  Worker* worker(const PeerId& peer);

  // Why READY from who must be refused, or nullopt: front ends offer nothing, strata.*
  // is reserved, and all workers of a service share one layer.
  std::optional<std::string> refusal(const core::Identity& who, const codecs::Ready& ready) const;
  // Registers a worker (not already registered) for ready's services.
  Worker& add(const PeerId& peer, const core::Identity& who, const codecs::Ready& ready, core::TimePoint now);
  // Takes the worker out of every service and hands it back, outstanding requests and
  // all; nullptr if peer is no worker.
  std::unique_ptr<Worker> detach(const PeerId& peer);

  // The next worker of service with credit, round robin; nullptr when none has any.
  Worker* choose(Service& service);
  // A final answer came back (one credit), or the worker granted more (capped).
  static void returnCredit(Worker& worker, const core::MessageId& id);
  static void addCredit(Worker& worker, std::uint32_t credit);

  std::vector<ServiceInfo> infos(bool everyCounted = false) const;
  std::size_t workerCount() const { return workers_.size(); }
  const std::unordered_map<PeerId, std::unique_ptr<Worker>>& workers() const { return workers_; }
  const auto& services() const { return services_; }

 private:
  // Looked up by string_view without making a string: find() runs for every request.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
  };
  std::unordered_map<std::string, std::unique_ptr<Service>, NameHash, std::equal_to<>> services_;
  std::unordered_map<PeerId, std::unique_ptr<Worker>> workers_;
};

}  // namespace strata::broker
