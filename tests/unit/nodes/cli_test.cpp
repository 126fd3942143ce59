// The pieces of the `strata` tool that print numbers: percentile() and the summary line
// of `strata call --repeat`, whose format scripts parse.

#include <strata/nodes/cli.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace strata::nodes {
namespace {

std::vector<std::uint64_t> oneToHundredShuffled() {
  std::vector<std::uint64_t> values;
  // 37 and 100 are coprime, so this visits 1..100 once each, out of order.
  for (std::uint64_t i = 0; i < 100; ++i) values.push_back((i * 37) % 100 + 1);
  return values;
}

// ---- percentile ----

TEST(Percentile, IsZeroForNoValues) {
  std::vector<std::uint64_t> none;
  EXPECT_EQ(percentile(none, 0.5), 0u);
}

TEST(Percentile, IsTheValueForOneValue) {
  std::vector<std::uint64_t> one{42};
  EXPECT_EQ(percentile(one, 0.0), 42u);
  EXPECT_EQ(percentile(one, 0.5), 42u);
  EXPECT_EQ(percentile(one, 1.0), 42u);
}

TEST(Percentile, ZeroAndOneAreMinimumAndMaximum) {
  auto values = oneToHundredShuffled();
  EXPECT_EQ(percentile(values, 0.0), 1u);
  EXPECT_EQ(percentile(values, 1.0), 100u);
}

TEST(Percentile, MedianOfUnsortedValues) {
  std::vector<std::uint64_t> values{9, 1, 5, 3, 7};
  EXPECT_EQ(percentile(values, 0.5), 5u);
}

TEST(Percentile, RoundsToNearestRank) {
  auto values = oneToHundredShuffled();
  // Index q * (n - 1) rounded: 0.5 * 99 = 49.5 -> 50, the 51st value.
  EXPECT_EQ(percentile(values, 0.50), 51u);
  values = oneToHundredShuffled();
  // 0.99 * 99 = 98.01 -> 98, the 99th value.
  EXPECT_EQ(percentile(values, 0.99), 99u);
}

TEST(Percentile, KeepsEveryValue) {
  auto values = oneToHundredShuffled();
  percentile(values, 0.9);
  std::sort(values.begin(), values.end());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], i + 1);
}

// ---- LoadSummary::line ----

TEST(LoadSummary, LineListsCountsRateLatenciesAndWorkers) {
  LoadSummary s;
  s.requests = 200;
  s.ok = 199;
  s.errors = 1;
  s.seconds = 2.0;
  s.latenciesUs = oneToHundredShuffled();
  s.byWorker = {{"worker-b", 90}, {"worker-a", 109}};
  EXPECT_EQ(s.line(),
            "requests=200 ok=199 errors=1 req_per_s=100 p50_us=51 p99_us=99 workers=worker-a:109,worker-b:90");
}

TEST(LoadSummary, LineLeavesOutWorkersWhenNoneAreKnown) {
  LoadSummary s;
  s.requests = 3;
  s.ok = 3;
  s.seconds = 1.0;
  s.latenciesUs = {300, 100, 200};
  EXPECT_EQ(s.line(), "requests=3 ok=3 errors=0 req_per_s=3 p50_us=200 p99_us=300");
}

TEST(LoadSummary, LineRoundsRateToWholeRequests) {
  LoadSummary s;
  s.requests = 10;
  s.ok = 10;
  s.seconds = 3.0;
  s.latenciesUs = {5};
  EXPECT_EQ(s.line(), "requests=10 ok=10 errors=0 req_per_s=3 p50_us=5 p99_us=5");
  s.seconds = 1.5;  // 6.67
  EXPECT_EQ(s.line(), "requests=10 ok=10 errors=0 req_per_s=7 p50_us=5 p99_us=5");
}

TEST(LoadSummary, LineReportsZeroRateAndLatencyWithoutData) {
  LoadSummary s;
  s.requests = 4;
  s.errors = 4;
  EXPECT_EQ(s.line(), "requests=4 ok=0 errors=4 req_per_s=0 p50_us=0 p99_us=0");
}

}  // namespace
}  // namespace strata::nodes
