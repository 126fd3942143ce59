#include <strata/core/wakeup.h>

#include <poll.h>

#include <thread>

#include <gtest/gtest.h>

namespace strata::core {
namespace {

// Whether fd is readable right now: poll(2) with a zero timeout never waits.
bool readable(int fd) {
  pollfd item{fd, POLLIN, 0};
  int n = ::poll(&item, 1, 0);
  EXPECT_GE(n, 0);
  return n == 1 && (item.revents & POLLIN) != 0;
}

TEST(Wakeup, FreshWakeupIsNotReadable) {
  Wakeup wakeup;
  EXPECT_GE(wakeup.fd(), 0);
  EXPECT_FALSE(readable(wakeup.fd()));
}

TEST(Wakeup, SignalMakesFdReadable) {
  Wakeup wakeup;
  wakeup.signal();
  EXPECT_TRUE(readable(wakeup.fd()));
}

TEST(Wakeup, DrainClearsReadiness) {
  Wakeup wakeup;
  wakeup.signal();
  ASSERT_TRUE(readable(wakeup.fd()));
  wakeup.drain();
  EXPECT_FALSE(readable(wakeup.fd()));
}

TEST(Wakeup, OneDrainClearsManySignals) {
  // The loop wakes once for any number of signals; it must not spin once per signal.
  Wakeup wakeup;
  for (int i = 0; i < 5; ++i) wakeup.signal();
  wakeup.drain();
  EXPECT_FALSE(readable(wakeup.fd()));
}

TEST(Wakeup, DrainOfUnsignalledWakeupDoesNotBlock) {
  // The fd is non-blocking: a spurious drain returns at once instead of hanging the loop.
  Wakeup wakeup;
  wakeup.drain();
  EXPECT_FALSE(readable(wakeup.fd()));
}

TEST(Wakeup, SignalFromAnotherThreadMakesFdReadable) {
  Wakeup wakeup;
  std::thread other([&] { wakeup.signal(); });
  other.join();
  EXPECT_TRUE(readable(wakeup.fd()));
}

TEST(Wakeup, SignalAfterDrainMakesFdReadableAgain) {
  Wakeup wakeup;
  wakeup.signal();
  wakeup.drain();
  wakeup.signal();
  EXPECT_TRUE(readable(wakeup.fd()));
}

}  // namespace
}  // namespace strata::core
