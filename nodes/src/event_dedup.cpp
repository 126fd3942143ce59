#include <strata/nodes/event_dedup.h>

#include <strata/codecs/wire_codec.h>

namespace strata::nodes {

bool EventDedup::firstSight(const core::MessageId& id) {
  auto session = codecs::eventSession(id);
  auto sequence = codecs::eventSequence(id);
  auto [it, added] = seen_.try_emplace(session);
  Seen& s = it->second;
  if (added) {
    order_.push_back(session);
    if (order_.size() > maxPublishers_) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
    s.highest = sequence;
    s.below.set(0);
    return true;
  }
  if (sequence > s.highest) {
    auto shift = sequence - s.highest;
    s.below = shift >= kWindow ? std::bitset<kWindow>() : s.below << shift;
    s.below.set(0);
    s.highest = sequence;
    return true;
  }
  auto age = s.highest - sequence;
  if (age >= kWindow || s.below.test(age)) {
    ++copies_;
    return false;
  }
  s.below.set(age);  // one another broker had not relayed: late, not a copy
  return true;
}

}  // namespace strata::nodes
