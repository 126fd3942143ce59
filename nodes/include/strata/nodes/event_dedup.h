#pragma once

#include <bitset>
#include <cstdint>
#include <deque>
#include <unordered_map>

#include <strata/core/message_id.h>

namespace strata::nodes {

// Which events a subscriber's application has seen. Every broker of a pool relays each
// event, and a broker that comes back sends again what it had not had confirmed; this
// keeps, per publisher session, the highest sequence number seen and which of the
// kWindow numbers below it were seen, so each event reaches the application once. Each
// broker relays one publisher's events in the order published, but one broker may hold
// an event another never got (the publisher sent it again later): such an event, below
// the highest yet unseen, is delivered late rather than taken for a copy. One more than
// kWindow below the highest counts as a copy. Remembers the latest maxPublishers
// sessions; a session older than those is forgotten. Not thread-safe.
class EventDedup {
 public:
  static constexpr std::size_t kDefaultMaxPublishers = 65'536;
  static constexpr std::size_t kWindow = 256;

  explicit EventDedup(std::size_t maxPublishers = kDefaultMaxPublishers) : maxPublishers_(maxPublishers) {}

  // True the first time an event is seen; false for a copy or an event older than one
  // already seen from the same publisher session.
  bool firstSight(const core::MessageId& id);
  std::uint64_t copies() const { return copies_; }

 private:
  std::size_t maxPublishers_;
  struct Seen {
    std::uint64_t highest = 0;
    std::bitset<kWindow> below;  // bit d: highest - d was seen
  };
  std::unordered_map<std::uint64_t, Seen> seen_;  // by publisher session
  std::deque<std::uint64_t> order_;                           // sessions, first seen first
  // The session of the previous event and its entry: a batch mostly holds runs of one
  // publisher's events. Entries stay put in the map; the pointer is dropped on erase.
  std::uint64_t lastSession_ = 0;
  Seen* last_ = nullptr;
  std::uint64_t copies_ = 0;
};

}  // namespace strata::nodes
