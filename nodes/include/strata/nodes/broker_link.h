#pragma once

#include <chrono>
#include <optional>

#include <strata/core/clock.h>

namespace strata::nodes {

// A worker's view of one broker: registered or not, when to send a heartbeat, when to
// give up on a silent broker and register again on a fresh connection. Pure: the worker
// feeds it events and time and carries out the actions it returns.
class BrokerLink {
 public:
  enum class State {
    kIdle,         // not started
    kRegistering,  // READY sent, nothing heard back yet
    kActive,       // the broker has spoken since READY
  };

  struct Actions {
    bool reconnect = false;  // drop the socket and connect anew
    bool sendReady = false;
    bool sendHeartbeat = false;
    bool operator==(const Actions&) const = default;
  };

  BrokerLink(std::chrono::milliseconds heartbeat, int liveness) : heartbeat_(heartbeat), liveness_(liveness) {}

  Actions start(core::TimePoint now);
  // Any message from the broker; disconnect is true for DISCONNECT. A DISCONNECT that
  // answers our READY (the broker refused the registration) is retried one heartbeat
  // later, not at once, so a refused worker does not spin on handshakes.
  Actions onMessage(core::TimePoint now, bool disconnect);
  // Call whenever the loop wakes; returns what is due.
  Actions onTick(core::TimePoint now);
  // The worker sent something else to the broker (a reply): it counts as a heartbeat.
  void onSent(core::TimePoint now) { lastSent_ = now; }

  State state() const { return state_; }
  core::TimePoint nextDue() const;
  std::chrono::milliseconds heartbeat() const { return heartbeat_; }

 private:
  Actions registerAgain(core::TimePoint now);

  std::chrono::milliseconds heartbeat_;
  int liveness_;
  State state_ = State::kIdle;
  core::TimePoint lastHeard_{};
  core::TimePoint lastSent_{};
  std::optional<core::TimePoint> retryAt_;  // a refused registration tries again then
};

}  // namespace strata::nodes
