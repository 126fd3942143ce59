// DeadlineQueue: one FIFO per timeout value whose entries leave in O(1) when answered.
// Driven by a ManualClock; entries are plain structs the test owns.

#include <strata/core/deadline_queue.h>

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

namespace strata::core {
namespace {

using namespace std::chrono_literals;

struct Entry : DeadlineLink<> {
  int name = 0;
};

std::vector<int> popAll(DeadlineQueue<Entry>& queue, TimePoint now) {
  std::vector<int> out;
  while (Entry* e = queue.popDue(now)) out.push_back(e->name);
  return out;
}

TEST(DeadlineQueue, EmptyQueueHasNothingDueAndNoNextDeadline) {
  DeadlineQueue<Entry> queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.next(), TimePoint::max());
  EXPECT_EQ(queue.popDue(TimePoint::max()), nullptr);
}

TEST(DeadlineQueue, PopsInDeadlineOrderAcrossTimeoutValues) {
  ManualClock clock;
  DeadlineQueue<Entry> queue;
  Entry a{{}, 1}, b{{}, 2}, c{{}, 3}, d{{}, 4};
  queue.push(a, clock.now(), 300ms);
  queue.push(b, clock.now(), 100ms);
  clock.advance(50ms);
  queue.push(c, clock.now(), 100ms);  // due at 150 ms
  queue.push(d, clock.now(), 300ms);  // due at 350 ms
  EXPECT_EQ(queue.next(), a.deadline - 200ms);  // b's, at 100 ms
  clock.advance(100ms);                          // 150 ms
  EXPECT_EQ(popAll(queue, clock.now()), (std::vector<int>{2, 3}));
  clock.advance(200ms);  // 350 ms
  EXPECT_EQ(popAll(queue, clock.now()), (std::vector<int>{1, 4}));
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, NothingIsDueBeforeItsDeadline) {
  ManualClock clock;
  DeadlineQueue<Entry> queue;
  Entry a;
  queue.push(a, clock.now(), 100ms);
  EXPECT_EQ(queue.popDue(clock.now() + 99ms), nullptr);
  EXPECT_EQ(queue.popDue(clock.now() + 100ms), &a);
  EXPECT_FALSE(a.queued());
}

TEST(DeadlineQueue, RemovedEntriesLeaveAtOnceWhereverTheyStand) {
  // What a heap trimmed only at its top cannot do: answered requests take no room.
  ManualClock clock;
  DeadlineQueue<Entry> queue;
  std::vector<Entry> entries(1000);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    entries[i].name = static_cast<int>(i);
    queue.push(entries[i], clock.now(), 10s);
    clock.advance(1ms);
  }
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (i != 500) queue.remove(entries[i]);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.next(), entries[500].deadline);
  queue.remove(entries[500]);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.next(), TimePoint::max());
  queue.remove(entries[500]);  // not queued: nothing happens
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, PushingAgainMovesTheEntry) {
  ManualClock clock;
  DeadlineQueue<Entry> queue;
  Entry a{{}, 1}, b{{}, 2};
  queue.push(a, clock.now(), 100ms);
  queue.push(b, clock.now(), 100ms);
  clock.advance(50ms);
  queue.push(a, clock.now(), 100ms);  // a retry: a now falls due after b
  EXPECT_EQ(queue.size(), 2u);
  clock.advance(100ms);
  EXPECT_EQ(popAll(queue, clock.now()), (std::vector<int>{2, 1}));
}

TEST(DeadlineQueue, NegativeTimeoutIsDueAtOnce) {
  ManualClock clock;
  DeadlineQueue<Entry> queue;
  Entry a;
  queue.push(a, clock.now(), -5ms);
  EXPECT_EQ(queue.popDue(clock.now()), &a);
}

struct TwoQueues : DeadlineLink<struct First>, DeadlineLink<struct Second> {};

TEST(DeadlineQueue, AnEntryMaySitInQueuesOfTwoTags) {
  ManualClock clock;
  DeadlineQueue<TwoQueues, First> first;
  DeadlineQueue<TwoQueues, Second> second;
  TwoQueues e;
  first.push(e, clock.now(), 10ms);
  second.push(e, clock.now(), 20ms);
  first.remove(e);
  EXPECT_TRUE(first.empty());
  EXPECT_EQ(second.size(), 1u);
  EXPECT_EQ(second.popDue(clock.now() + 20ms), &e);
}

}  // namespace
}  // namespace strata::core
