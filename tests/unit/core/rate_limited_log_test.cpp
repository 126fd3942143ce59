#include <strata/core/logging.h>

#include <chrono>

#include <gtest/gtest.h>

#include <strata/core/clock.h>

namespace strata::core {
namespace {

using namespace std::chrono_literals;

class RateLimitedLogTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  RateLimitedLog log_{10s};
};

TEST_F(RateLimitedLogTest, FirstLineForKeyIsAllowed) { EXPECT_TRUE(log_.allow("bad-frame", clock_.now())); }

TEST_F(RateLimitedLogTest, RepeatWithinIntervalIsHeldBack) {
  ASSERT_TRUE(log_.allow("bad-frame", clock_.now()));
  clock_.advance(9999ms);
  EXPECT_FALSE(log_.allow("bad-frame", clock_.now()));
}

TEST_F(RateLimitedLogTest, LineIsAllowedAgainOnceIntervalHasPassed) {
  ASSERT_TRUE(log_.allow("bad-frame", clock_.now()));
  clock_.advance(10s);
  EXPECT_TRUE(log_.allow("bad-frame", clock_.now()));
}

TEST_F(RateLimitedLogTest, SuppressedCountsLinesHeldBackBeforeLastAllowedLine) {
  ASSERT_TRUE(log_.allow("bad-frame", clock_.now()));
  for (int i = 0; i < 3; ++i) {
    clock_.advance(1s);
    EXPECT_FALSE(log_.allow("bad-frame", clock_.now()));
  }
  EXPECT_EQ(log_.suppressed("bad-frame"), 0u);  // nothing reported until the next allowed line
  clock_.advance(10s);
  ASSERT_TRUE(log_.allow("bad-frame", clock_.now()));
  EXPECT_EQ(log_.suppressed("bad-frame"), 3u);
}

TEST_F(RateLimitedLogTest, SuppressedResetsAfterQuietInterval) {
  ASSERT_TRUE(log_.allow("k", clock_.now()));
  EXPECT_FALSE(log_.allow("k", clock_.now()));
  clock_.advance(10s);
  ASSERT_TRUE(log_.allow("k", clock_.now()));
  ASSERT_EQ(log_.suppressed("k"), 1u);
  clock_.advance(10s);
  ASSERT_TRUE(log_.allow("k", clock_.now()));
  EXPECT_EQ(log_.suppressed("k"), 0u);
}

TEST_F(RateLimitedLogTest, HeldBackLinesDoNotExtendTheInterval) {
  // The interval runs from the last line written, not the last one attempted, or a
  // steady flood would silence the key for ever.
  ASSERT_TRUE(log_.allow("k", clock_.now()));
  clock_.advance(6s);
  EXPECT_FALSE(log_.allow("k", clock_.now()));
  clock_.advance(4s);
  EXPECT_TRUE(log_.allow("k", clock_.now()));
}

TEST_F(RateLimitedLogTest, KeysAreLimitedIndependently) {
  ASSERT_TRUE(log_.allow("a", clock_.now()));
  EXPECT_TRUE(log_.allow("b", clock_.now()));
  EXPECT_FALSE(log_.allow("a", clock_.now()));
  EXPECT_EQ(log_.suppressed("b"), 0u);
}

TEST_F(RateLimitedLogTest, SuppressedOfUnknownKeyIsZero) { EXPECT_EQ(log_.suppressed("never"), 0u); }

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  TimePoint start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(250ms);
  EXPECT_EQ(clock.now() - start, 250ms);
}

}  // namespace
}  // namespace strata::core
