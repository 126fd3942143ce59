// The client's pure event tables: PublishTable (acceptance, retries, expiry on a manual
// clock) and EventDedup (each event once per publisher session, in order).

#include <gtest/gtest.h>

#include <strata/codecs/wire_codec.h>
#include <strata/core/clock.h>
#include <strata/nodes/event_dedup.h>
#include <strata/nodes/publish_table.h>

namespace strata::nodes {
namespace {

using namespace std::chrono_literals;
using codecs::eventId;

constexpr std::uint64_t kSession = 42;

struct Recorder {
  std::vector<PublishResult> results;
  PublishTable::Handler handler() {
    return [this](PublishResult&& r) { results.push_back(std::move(r)); };
  }
};

class PublishTableTest : public ::testing::Test {
 protected:
  core::MessageId submit(std::chrono::milliseconds timeout = 5s) {
    auto id = table.nextId();
    std::string record = "record of " + std::to_string(codecs::eventSequence(id));
    table.submit(id, record, recorder.handler(), timeout, clock.now());
    return id;
  }
  void run(PublishTable::Actions& taken) {
    for (auto& d : taken.done) d.handler(std::move(d.result));
    taken.done.clear();
  }

  core::ManualClock clock;
  PublishTable table{kSession, {}};
  Recorder recorder;
  PublishTable::Actions actions;
};

TEST_F(PublishTableTest, NumbersEventsInOrderWithinItsSession) {
  auto first = table.nextId();
  auto second = table.nextId();
  EXPECT_EQ(codecs::eventSession(first), kSession);
  EXPECT_EQ(codecs::eventSequence(first), 1u);
  EXPECT_EQ(codecs::eventSequence(second), 2u);
}

TEST_F(PublishTableTest, ARangeOfAcceptanceEndsEveryEventInIt) {
  auto a = submit();
  auto b = submit();
  auto c = submit();
  table.onAccepted({kSession, {{1, 2}}}, actions);
  run(actions);
  ASSERT_EQ(recorder.results.size(), 2u);
  EXPECT_TRUE(recorder.results[0].ok);
  EXPECT_EQ(recorder.results[0].id, a);
  EXPECT_EQ(recorder.results[1].id, b);
  EXPECT_EQ(table.size(), 1u);
  // Another broker's acceptance of the same events changes nothing; another session's neither.
  table.onAccepted({kSession, {{1, 2}}}, actions);
  table.onAccepted({kSession + 1, {{3, 3}}}, actions);
  run(actions);
  EXPECT_EQ(recorder.results.size(), 2u);
  table.onAccepted({kSession, {{3, ~std::uint64_t{0}}}}, actions);  // a huge range walks what is there
  run(actions);
  ASSERT_EQ(recorder.results.size(), 3u);
  EXPECT_EQ(recorder.results[2].id, c);
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(PublishTableTest, ARefusalEndsOnlyItsEventWithTheCodeAndText) {
  auto a = submit();
  submit();
  EXPECT_TRUE(table.onError(a, ErrorCode::kForbidden, "layer 4 may not publish on 'x'", actions));
  EXPECT_FALSE(table.onError(eventId(kSession + 1, 2), ErrorCode::kForbidden, "", actions));  // not ours
  run(actions);
  ASSERT_EQ(recorder.results.size(), 1u);
  EXPECT_FALSE(recorder.results[0].ok);
  EXPECT_EQ(recorder.results[0].errorCode, ErrorCode::kForbidden);
  EXPECT_EQ(recorder.results[0].errorText, "layer 4 may not publish on 'x'");
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(PublishTableTest, SendsAnUnansweredEventAgainEachRetryIntervalUntilItsDeadline) {
  submit(2500ms);
  clock.advance(999ms);
  table.tick(clock.now(), actions);
  EXPECT_TRUE(actions.resend.empty());
  clock.advance(1ms);
  table.tick(clock.now(), actions);
  ASSERT_EQ(actions.resend.size(), 1u);
  EXPECT_EQ(*actions.resend[0], "record of 1");
  actions.clear();
  clock.advance(1s);
  table.tick(clock.now(), actions);
  EXPECT_EQ(actions.resend.size(), 1u);
  actions.clear();
  clock.advance(500ms);
  table.tick(clock.now(), actions);
  run(actions);
  ASSERT_EQ(recorder.results.size(), 1u);
  EXPECT_EQ(recorder.results[0].errorCode, ErrorCode::kTimeout);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.resent(), 2u);
  EXPECT_EQ(table.nextDue(), core::TimePoint::max());
}

TEST_F(PublishTableTest, HandsBackARecordBufferWithCapacity) {
  auto id = table.nextId();
  std::string record(500, 'r');
  table.submit(id, record, recorder.handler(), 1s, clock.now());
  table.onAccepted({kSession, {{1, 1}}}, actions);
  run(actions);
  auto next = table.nextId();
  std::string another = "small";
  table.submit(next, another, recorder.handler(), 1s, clock.now());
  EXPECT_GE(another.capacity(), 500u);  // the finished event's buffer, to encode into next
}

TEST_F(PublishTableTest, FailAllEndsEveryEvent) {
  submit();
  submit();
  table.failAll(ErrorCode::kUnavailable, "the client is shutting down", actions);
  run(actions);
  ASSERT_EQ(recorder.results.size(), 2u);
  EXPECT_EQ(recorder.results[1].errorText, "the client is shutting down");
}

TEST(EventDedup, LetsEachEventOfAPublisherThroughOnceAndInOrder) {
  EventDedup dedup;
  EXPECT_TRUE(dedup.firstSight(eventId(1, 1)));
  EXPECT_TRUE(dedup.firstSight(eventId(1, 2)));
  EXPECT_FALSE(dedup.firstSight(eventId(1, 2)));  // the copy through the other broker
  EXPECT_FALSE(dedup.firstSight(eventId(1, 1)));  // a batch sent again
  EXPECT_TRUE(dedup.firstSight(eventId(2, 1)));   // another publisher counts on its own
  EXPECT_TRUE(dedup.firstSight(eventId(1, 5)));   // gaps are fine: not every event matched
  EXPECT_EQ(dedup.copies(), 2u);
}

TEST(EventDedup, AnEventOneBrokerRelaysLateIsDeliveredNotTakenForACopy) {
  EventDedup dedup;
  EXPECT_TRUE(dedup.firstSight(eventId(1, 4)));
  EXPECT_TRUE(dedup.firstSight(eventId(1, 5)));   // through a broker that never had 3
  EXPECT_TRUE(dedup.firstSight(eventId(1, 3)));   // sent again later: seen for the first time
  EXPECT_FALSE(dedup.firstSight(eventId(1, 3)));  // its copy
  EXPECT_FALSE(dedup.firstSight(eventId(1, 4)));
  EXPECT_TRUE(dedup.firstSight(eventId(1, 5 + EventDedup::kWindow)));
  EXPECT_FALSE(dedup.firstSight(eventId(1, 2)));  // further back than the window remembers
  EXPECT_EQ(dedup.copies(), 3u);
}

TEST(EventDedup, ForgetsTheOldestPublishersPastItsBound) {
  EventDedup dedup(2);
  EXPECT_TRUE(dedup.firstSight(eventId(1, 3)));
  EXPECT_TRUE(dedup.firstSight(eventId(2, 3)));
  EXPECT_TRUE(dedup.firstSight(eventId(3, 3)));  // session 1 is forgotten
  EXPECT_TRUE(dedup.firstSight(eventId(1, 3)));
  EXPECT_FALSE(dedup.firstSight(eventId(3, 3)));
}

}  // namespace
}  // namespace strata::nodes
