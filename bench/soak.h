#pragma once

#include <chrono>

namespace strata::bench {

// `strata-bench soak`: the broker's memory under full load for a long run. One broker and
// two strata-node echo workers; `strata call --repeat` keeps 100 requests in flight with
// 10 s deadlines for the whole duration. Every interval it prints the broker's resident
// memory and, from strata.stats, the requests served so far and the deadlines it holds
// (which follow what is in flight, not the requests of the last ten seconds). Ends with
// the growth of resident memory from the first sample after warm-up to the last.
// Returns a process exit code; throws std::runtime_error when the cluster does not start.
int runSoak(std::chrono::seconds duration, std::chrono::seconds interval);

}  // namespace strata::bench
