// The client's calls as a pure table: submit, answers and ticks go in, sends and finished
// calls come out. Time comes from a ManualClock; there is no socket.

#include <strata/nodes/call_table.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/core/clock.h>

namespace strata::nodes {
namespace {

using namespace std::chrono_literals;
using core::MessageId;

constexpr std::chrono::milliseconds kPing = 500ms;
constexpr int kLiveness = 3;

struct Fixture {
  explicit Fixture(std::size_t endpoints = 2, CallTable::Settings settings = {})
      : pool(endpoints, kPing, kLiveness, clock.now()), table(pool, settings) {}

  // Submits a call of `timeout` and returns its id; answers land in results.
  MessageId submit(std::chrono::milliseconds timeout = 10s, MessageId id = MessageId::generate()) {
    table.submit(id, timeout, {"envelope of " + id.hex()}, [this](Response&& r) { results.push_back(std::move(r)); },
                 nullptr, clock.now(), actions);
    return id;
  }
  // The sends so far, as endpoint numbers, and runs the finished calls' handlers.
  std::vector<std::size_t> drain() {
    std::vector<std::size_t> links;
    for (const auto& s : actions.sends) links.push_back(s.link);
    for (auto& d : actions.done) d.handler(std::move(d.response));
    actions.clear();
    return links;
  }
  void tickAfter(std::chrono::milliseconds d) {
    clock.advance(d);
    table.tick(clock.now(), actions);
  }

  core::ManualClock clock;
  EndpointPool pool;
  CallTable table;
  CallTable::Actions actions;
  std::vector<Response> results;
};

Response ok(const MessageId& id) {
  Response r;
  r.id = id;
  r.ok = true;
  return r;
}

TEST(CallTable, SendsEachNewCallOnceToTheNextEndpointInTurn) {
  Fixture f;
  f.submit();
  f.submit();
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(f.table.size(), 2u);
}

TEST(CallTable, ReplyEndsTheCallOnceAndLateCopiesDoNothing) {
  Fixture f;
  auto id = f.submit();
  f.drain();
  f.table.onReply(id, ok(id), f.actions);
  f.table.onReply(id, ok(id), f.actions);
  f.drain();
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_TRUE(f.results[0].ok);
  EXPECT_EQ(f.table.size(), 0u);
  EXPECT_EQ(f.table.nextDue(), core::TimePoint::max());
}

TEST(CallTable, RefusesAnIdAlreadyInFlight) {
  Fixture f;
  auto id = f.submit();
  f.submit(10s, id);
  f.drain();
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_EQ(f.results[0].errorCode, ErrorCode::kMalformed);
  EXPECT_EQ(f.table.size(), 1u);  // the first one still waits
}

TEST(CallTable, DeadlineEndsTheCallWithTimeoutAtItsDeadlineAndNotBefore) {
  Fixture f;
  auto id = f.submit(1000ms);
  f.drain();
  f.tickAfter(999ms);
  f.drain();
  EXPECT_TRUE(f.results.empty());
  f.tickAfter(1ms);
  f.drain();
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_EQ(f.results[0].id, id);
  EXPECT_EQ(f.results[0].errorCode, ErrorCode::kTimeout);
  f.table.onReply(id, ok(id), f.actions);  // the answer after the deadline is dropped
  f.drain();
  EXPECT_EQ(f.results.size(), 1u);
}

TEST(CallTable, AnsweredCallsLeaveNoDeadlineBehind) {
  // The table holds what is in flight, not everything sent in the last timeout period.
  Fixture f;
  for (int i = 0; i < 10'000; ++i) {
    auto id = f.submit(10s);
    f.table.onReply(id, ok(id), f.actions);
    f.drain();
  }
  EXPECT_EQ(f.table.size(), 0u);
  EXPECT_EQ(f.table.nextDue(), core::TimePoint::max());
  EXPECT_EQ(f.results.size(), 10'000u);
}

TEST(CallTable, NoWorkerHereMovesTheCallToTheNextEndpointUntilAllDeclined) {
  Fixture f(3);
  auto id = f.submit();
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{0}));
  f.table.onError(0, id, ErrorCode::kUnknownService, "none here", f.actions);
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{1}));
  f.table.onError(1, id, ErrorCode::kUnavailable, "queue full", f.actions);
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{2}));
  EXPECT_TRUE(f.results.empty());
  f.table.onError(2, id, ErrorCode::kUnknownService, "none here either", f.actions);
  f.drain();
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_EQ(f.results[0].errorCode, ErrorCode::kUnknownService);
  EXPECT_EQ(f.results[0].errorText, "none here either");
}

TEST(CallTable, OtherErrorsEndTheCallAtOnce) {
  Fixture f;
  auto id = f.submit();
  f.drain();
  f.table.onError(0, id, ErrorCode::kForbidden, "layer 4 may not call", f.actions);
  f.drain();
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_EQ(f.results[0].errorCode, ErrorCode::kForbidden);
}

TEST(CallTable, CallsOfADeadEndpointGoToALiveOneWithTheirIds) {
  Fixture f;
  auto a = f.submit();
  f.submit();
  f.drain();  // a to 0, the other to 1
  f.clock.advance(kPing * kLiveness + 1ms);
  f.pool.onHeard(1, f.clock.now());
  auto tick = f.pool.onTick(f.clock.now());
  ASSERT_EQ(tick.died, (std::vector<std::size_t>{0}));
  f.table.moveOff(0, f.actions);
  ASSERT_EQ(f.actions.sends.size(), 1u);
  EXPECT_EQ(f.actions.sends[0].link, 1u);
  EXPECT_EQ((*f.actions.sends[0].frames)[0], "envelope of " + a.hex());  // same id, same bytes
  EXPECT_EQ(f.table.resent(), 1u);
}

TEST(CallTable, TimedOutAttemptGoesAgainToTheNextEndpointAfterADoublingBackoff) {
  Fixture f(2, CallTable::Settings{200ms, 50ms});
  f.submit(10s);
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{0}));
  f.tickAfter(200ms);  // attempt 1 timed out; waits 50 ms
  EXPECT_TRUE(f.drain().empty());
  f.tickAfter(49ms);
  EXPECT_TRUE(f.drain().empty());
  f.tickAfter(1ms);
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{1}));
  f.tickAfter(200ms);  // attempt 2 timed out; waits 100 ms
  f.tickAfter(99ms);
  EXPECT_TRUE(f.drain().empty());
  f.tickAfter(1ms);
  EXPECT_EQ(f.drain(), (std::vector<std::size_t>{0}));
  EXPECT_EQ(f.table.resent(), 2u);
}

TEST(CallTable, RetriesStopAtTheDeadline) {
  Fixture f(2, CallTable::Settings{100ms, 1000ms});
  auto id = f.submit(500ms);
  f.drain();
  f.tickAfter(100ms);  // attempt timed out; its backoff (1 s) outlasts the deadline
  f.tickAfter(400ms);
  f.drain();
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_EQ(f.results[0].id, id);
  EXPECT_EQ(f.results[0].errorCode, ErrorCode::kTimeout);
  EXPECT_EQ(f.table.nextDue(), core::TimePoint::max());  // nothing left behind
}

TEST(CallTable, ReplyDuringBackoffCancelsTheResend) {
  Fixture f(2, CallTable::Settings{100ms, 50ms});
  auto id = f.submit(10s);
  f.drain();
  f.tickAfter(100ms);
  f.table.onReply(id, ok(id), f.actions);
  f.tickAfter(50ms);
  EXPECT_TRUE(f.drain().empty());
  ASSERT_EQ(f.results.size(), 1u);
  EXPECT_TRUE(f.results[0].ok);
}

TEST(CallTable, FinishedCallIsNeverSentInTheSameStep) {
  // A send queued for a call that then ends in the same step would point at freed frames.
  Fixture f(1);
  auto id = f.submit(10s);
  f.table.onReply(id, ok(id), f.actions);
  EXPECT_TRUE(f.actions.sends.empty());
  f.drain();
}

TEST(CallTable, HandsBackTheBuffersOfAFinishedCallToEncodeTheNextInto) {
  Fixture f(1);
  auto a = MessageId::generate();
  std::vector<std::string> frames{"frames of a"};
  f.table.submit(a, 10s, frames, [](Response&&) {}, nullptr, f.clock.now(), f.actions);
  EXPECT_TRUE(frames.empty());
  f.drain();
  f.table.onReply(a, ok(a), f.actions);
  f.drain();
  auto b = MessageId::generate();
  frames = {"frames of b"};
  f.table.submit(b, 10s, frames, [](Response&&) {}, nullptr, f.clock.now(), f.actions);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "frames of a");  // a's buffers, to be written over
  ASSERT_EQ(f.actions.sends.size(), 1u);
  EXPECT_EQ((*f.actions.sends[0].frames)[0], "frames of b");
  f.drain();
  f.table.onReply(b, ok(b), f.actions);
  f.drain();
  EXPECT_EQ(f.table.size(), 0u);
}

TEST(CallTable, FailAllEndsEveryCallWithTheGivenError) {
  Fixture f;
  f.submit();
  f.submit();
  f.table.failAll(ErrorCode::kUnavailable, "the client is shutting down", f.actions);
  f.drain();
  ASSERT_EQ(f.results.size(), 2u);
  for (const auto& r : f.results) {
    EXPECT_EQ(r.errorCode, ErrorCode::kUnavailable);
    EXPECT_EQ(r.errorText, "the client is shutting down");
  }
  EXPECT_EQ(f.table.size(), 0u);
}

TEST(CallTable, PartialHandlerIsFoundWhileTheCallIsInFlight) {
  Fixture f;
  auto id = MessageId::generate();
  int partials = 0;
  f.table.submit(id, 10s, {"x"}, [](Response&&) {}, [&](PartialResponse&&) { ++partials; }, f.clock.now(),
                 f.actions);
  const auto* handler = f.table.partialHandler(id);
  ASSERT_NE(handler, nullptr);
  (*handler)(PartialResponse{id, {}, {}});
  EXPECT_EQ(partials, 1);
  f.table.onReply(id, ok(id), f.actions);
  EXPECT_EQ(f.table.partialHandler(id), nullptr);
  f.drain();
}

}  // namespace
}  // namespace strata::nodes
