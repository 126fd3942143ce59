#include <strata/nodes/event_dedup.h>

#include <strata/codecs/wire_codec.h>

namespace strata::nodes {

bool EventDedup::firstSight(const core::MessageId& id) {
  auto session = codecs::eventSession(id);
  auto sequence = codecs::eventSequence(id);
  auto [it, added] = highest_.try_emplace(session, sequence);
  if (added) {
    order_.push_back(session);
    if (order_.size() > maxPublishers_) {
      highest_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  if (sequence <= it->second) {
    ++copies_;
    return false;
  }
  it->second = sequence;
  return true;
}

}  // namespace strata::nodes
