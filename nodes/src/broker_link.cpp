#include <strata/nodes/broker_link.h>

#include <algorithm>

namespace strata::nodes {

BrokerLink::Actions BrokerLink::registerAgain(core::TimePoint now) {
  state_ = State::kRegistering;
  retryAt_.reset();
  lastHeard_ = now;  // give the new connection a full liveness period
  lastSent_ = now;
  return Actions{true, true, false};
}

BrokerLink::Actions BrokerLink::start(core::TimePoint now) {
  state_ = State::kRegistering;
  lastHeard_ = now;
  lastSent_ = now;
  return Actions{false, true, false};
}

BrokerLink::Actions BrokerLink::onMessage(core::TimePoint now, bool disconnect) {
  if (state_ == State::kIdle) return {};
  if (disconnect && state_ == State::kRegistering) {
    lastHeard_ = now;  // the broker is there; it just said no
    if (!retryAt_) retryAt_ = now + heartbeat_;
    return {};
  }
  if (disconnect) return registerAgain(now);
  lastHeard_ = now;
  state_ = State::kActive;
  retryAt_.reset();  // the broker took us after all: a retry would only unregister us
  return {};
}

BrokerLink::Actions BrokerLink::onTick(core::TimePoint now) {
  if (state_ == State::kIdle) return {};
  if (retryAt_ && now >= *retryAt_) return registerAgain(now);
  if (now - lastHeard_ > heartbeat_ * liveness_) return registerAgain(now);
  if (now - lastSent_ >= heartbeat_) {
    lastSent_ = now;
    return Actions{false, false, true};
  }
  return {};
}

core::TimePoint BrokerLink::nextDue() const {
  auto due = std::min(lastSent_ + heartbeat_, lastHeard_ + heartbeat_ * liveness_ + std::chrono::milliseconds(1));
  return retryAt_ ? std::min(due, *retryAt_) : due;
}

}  // namespace strata::nodes
