#include <strata/nodes/event_dedup.h>

#include <strata/codecs/wire_codec.h>

namespace strata::nodes {

bool EventDedup::firstSight(const core::MessageId& id) {
  auto session = codecs::eventSession(id);
  auto sequence = codecs::eventSequence(id);
  if (!last_ || session != lastSession_) {
    auto [it, added] = seen_.try_emplace(session);
    if (added) {
      order_.push_back(session);
      if (order_.size() > maxPublishers_) {
        seen_.erase(order_.front());
        order_.pop_front();
      }
      it->second.highest = sequence;
      it->second.below.set(0);
      lastSession_ = session;
      last_ = &it->second;  // taken after the erase: an older session went, never this one
      return true;
    }
    lastSession_ = session;
    last_ = &it->second;
  }
  Seen& s = *last_;
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
