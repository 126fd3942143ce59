#pragma once

#include <chrono>
#include <cstddef>
#include <map>

#include <strata/core/errors.h>
#include <strata/core/clock.h>

namespace strata::core {

// What an entry of a DeadlineQueue embeds (by deriving from it). Tag tells apart the links
// of a type that sits in several queues at once.
template <typename Tag = void>
struct DeadlineLink {
  TimePoint deadline{};
  DeadlineLink* prev = nullptr;
  DeadlineLink* next = nullptr;
  Duration lane{-1};  // the timeout this entry was queued with; negative: not queued

  bool queued() const { return lane.count() >= 0; }
};

// The deadlines of things in flight, as one FIFO per timeout value. Entries are pushed at
// the time they start, so within one timeout value they fall due in the order they came,
// and each FIFO's head is its earliest. An entry is unlinked in O(1) when it is answered,
// so the queue holds exactly what is in flight: a heap that is only trimmed at the top
// would keep every answered request until its deadline. Lookups cost one step per
// distinct timeout value in use, which is a handful in practice.
//
// T derives from DeadlineLink<Tag> and outlives its membership: remove() it before it is
// destroyed. Pushes must come with a time that never goes backwards. Not thread-safe.
template <typename T, typename Tag = void>
class DeadlineQueue {
  using Link = DeadlineLink<Tag>;

 public:
  DeadlineQueue() = default;
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;

  // Queues entry to fall due at now + timeout (negative timeouts count as zero), taking it
  // out of wherever it was queued before.
  void push(T& entry, TimePoint now, Duration timeout) {
    Link& link = entry;
    remove(entry);
    if (timeout.count() < 0) timeout = Duration{0};
    link.deadline = now + timeout;
    link.lane = timeout;
    Lane& lane = lanes_[timeout];
    link.prev = lane.tail;
    link.next = nullptr;
    (lane.tail ? lane.tail->next : lane.head) = &link;
    lane.tail = &link;
    ++size_;
  }

  // Takes entry out; nothing happens when it is not queued.
  void remove(T& entry) {
    Link& link = entry;
    if (!link.queued()) return;
    auto it = lanes_.find(link.lane);
    STRATA_ASSERT(it != lanes_.end());
    Lane& lane = it->second;
    (link.prev ? link.prev->next : lane.head) = link.next;
    (link.next ? link.next->prev : lane.tail) = link.prev;
    if (!lane.head) lanes_.erase(it);
    link.prev = link.next = nullptr;
    link.lane = Duration{-1};
    --size_;
  }

  // The earliest deadline queued, or TimePoint::max() when nothing is.
  TimePoint next() const {
    TimePoint earliest = TimePoint::max();
    for (const auto& [timeout, lane] : lanes_) {
      if (lane.head->deadline < earliest) earliest = lane.head->deadline;
    }
    return earliest;
  }

  // The entry with the earliest deadline at or before now, taken out of the queue; nullptr
  // when none is due.
  T* popDue(TimePoint now) {
    Link* due = nullptr;
    for (auto& [timeout, lane] : lanes_) {
      if (lane.head->deadline <= now && (!due || lane.head->deadline < due->deadline)) due = lane.head;
    }
    if (!due) return nullptr;
    T& entry = static_cast<T&>(*due);
    remove(entry);
    return &entry;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Lane {
    Link* head = nullptr;
    Link* tail = nullptr;
  };
  std::map<Duration, Lane> lanes_;
  std::size_t size_ = 0;
};

}  // namespace strata::core
