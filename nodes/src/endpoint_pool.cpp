#include <strata/nodes/endpoint_pool.h>

#include <algorithm>

namespace strata::nodes {

EndpointPool::EndpointPool(std::size_t count, std::chrono::milliseconds pingInterval, int liveness,
                           core::TimePoint now)
    : pingInterval_(pingInterval), liveness_(liveness), endpoints_(count, Endpoint{true, now, now}) {}

std::size_t EndpointPool::pick() {
  bool anyAlive = aliveCount() > 0;
  for (std::size_t n = 0; n < endpoints_.size(); ++n) {
    std::size_t i = (next_ + n) % endpoints_.size();
    if (!anyAlive || endpoints_[i].alive) {
      next_ = (i + 1) % endpoints_.size();
      return i;
    }
  }
  return 0;
}

void EndpointPool::onHeard(std::size_t i, core::TimePoint now) {
  endpoints_[i].alive = true;
  endpoints_[i].lastHeard = now;
}

void EndpointPool::onRefused(std::size_t i) { endpoints_[i].alive = false; }

EndpointPool::Tick EndpointPool::onTick(core::TimePoint now) {
  Tick tick;
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    auto& e = endpoints_[i];
    if (e.alive && now - e.lastHeard > pingInterval_ * liveness_) {
      e.alive = false;
      tick.died.push_back(i);
    }
    if (now - e.lastPing >= pingInterval_) {
      e.lastPing = now;
      tick.ping.push_back(i);
    }
  }
  return tick;
}

std::size_t EndpointPool::aliveCount() const {
  return static_cast<std::size_t>(std::count_if(endpoints_.begin(), endpoints_.end(), [](const Endpoint& e) {
    return e.alive;
  }));
}

core::TimePoint EndpointPool::nextDue() const {
  core::TimePoint due = core::TimePoint::max();
  for (const auto& e : endpoints_) {
    due = std::min(due, e.lastPing + pingInterval_);
    if (e.alive) due = std::min(due, e.lastHeard + pingInterval_ * liveness_ + std::chrono::milliseconds(1));
  }
  return due;
}

}  // namespace strata::nodes
