#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <strata/core/clock.h>

namespace strata::nodes {

// A client's view of the endpoints it may send to (brokers of a pool, or workers in
// direct mode): which are alive, which to ping, which just died. Pure: the client feeds
// it what it hears and the time, and acts on what it returns.
class EndpointPool {
 public:
  EndpointPool(std::size_t count, std::chrono::milliseconds pingInterval, int liveness, core::TimePoint now);

  // The endpoint for the next request: round-robin over live ones, or over all when none is.
  std::size_t pick();
  // Anything at all came from endpoint i.
  void onHeard(std::size_t i, core::TimePoint now);
  // Endpoint i refused us (a failed handshake): dead until it is heard from.
  void onRefused(std::size_t i);

  struct Tick {
    std::vector<std::size_t> ping;  // send these a ping now
    std::vector<std::size_t> died;  // silent too long: move their requests elsewhere
  };
  Tick onTick(core::TimePoint now);

  bool alive(std::size_t i) const { return endpoints_[i].alive; }
  std::size_t aliveCount() const;
  std::size_t size() const { return endpoints_.size(); }
  core::TimePoint nextDue() const;

 private:
  struct Endpoint {
    bool alive = true;
    core::TimePoint lastHeard;
    core::TimePoint lastPing;
  };
  std::chrono::milliseconds pingInterval_;
  int liveness_;
  std::vector<Endpoint> endpoints_;
  std::size_t next_ = 0;
};

}  // namespace strata::nodes
