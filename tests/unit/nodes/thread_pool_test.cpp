// ThreadPool runs what is posted to it. Tests wait on a condition with a deadline, never
// on a sleep.

#include <strata/nodes/thread_pool.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace strata::nodes {
namespace {

using namespace std::chrono_literals;

constexpr auto kPatience = 10s;  // only a broken pool takes this long

// Counts finished jobs and lets the test wait for a number of them.
class Countdown {
 public:
  void done() {
    {
      std::lock_guard lock(mutex_);
      ++count_;
    }
    changed_.notify_all();
  }
  bool waitFor(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

TEST(ThreadPool, ReportsItsSize) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3u);
}

TEST(ThreadPool, RunsEveryPostedJob) {
  constexpr int kJobs = 1000;
  Countdown countdown;
  std::mutex mutex;
  std::set<int> ran;
  ThreadPool pool(4);
  for (int i = 0; i < kJobs; ++i) {
    pool.post([&, i] {
      {
        std::lock_guard lock(mutex);
        ran.insert(i);
      }
      countdown.done();
    });
  }
  ASSERT_TRUE(countdown.waitFor(kJobs)) << "ran " << countdown.count() << " of " << kJobs;
  std::lock_guard lock(mutex);
  EXPECT_EQ(ran.size(), static_cast<std::size_t>(kJobs));
}

TEST(ThreadPool, RunsJobsOffThePostingThread) {
  Countdown countdown;
  std::thread::id ranOn;
  ThreadPool pool(1);
  pool.post([&] {
    ranOn = std::this_thread::get_id();
    countdown.done();
  });
  ASSERT_TRUE(countdown.waitFor(1));
  EXPECT_NE(ranOn, std::this_thread::get_id());
}

TEST(ThreadPool, RunsJobsSideBySide) {
  // Two jobs that each wait for the other finish only if two threads run them at once.
  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  Countdown countdown;
  ThreadPool pool(2);
  for (int i = 0; i < 2; ++i) {
    pool.post([&] {
      std::unique_lock lock(mutex);
      ++arrived;
      changed.notify_all();
      if (changed.wait_for(lock, kPatience, [&] { return arrived == 2; })) countdown.done();
    });
  }
  EXPECT_TRUE(countdown.waitFor(2));
}

TEST(ThreadPool, OneThreadRunsJobsInOrderOfArrival) {
  constexpr int kJobs = 100;
  Countdown countdown;
  std::vector<int> order;  // touched by the pool's one thread only, read after waitFor
  ThreadPool pool(1);
  for (int i = 0; i < kJobs; ++i) {
    pool.post([&, i] {
      order.push_back(i);
      countdown.done();
    });
  }
  ASSERT_TRUE(countdown.waitFor(kJobs));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

}  // namespace
}  // namespace strata::nodes
