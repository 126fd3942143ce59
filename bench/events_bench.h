#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strata::bench {

// `strata-bench events`: publish/subscribe fan-out on loopback. One publisher sends
// 64-byte events on one subject to 1, 10 and 100 subscribers, each its own process, over
// three paths: Strata (`strata publish --repeat` -> strata-broker -> `strata subscribe
// --summary`, CURVE), bare ZeroMQ programs (bench/bare/, CURVE) and NATS (nats-server
// with bench/nats/; skipped, with a message, when they are not there).
//
// Throughput rows: the publisher sends events as fast as it can (a tenth of them at 100
// subscribers, so every row delivers about as many); a row gives the delivered events per
// second of all subscribers together. Latency rows: latencyEvents paced at rate per
// second (both a tenth at 100 subscribers, so the middle delivers no more per second than
// at 10), publish to delivery. Every row is the median of alternating rounds of fresh
// processes and gives the CPU time per delivered event of publisher, middle and
// subscribers. Prints a table, what its columns mean and the ratios; returns a process
// exit code. Throws std::runtime_error when a path does not start, a subscriber does not
// subscribe or a client prints no summary. only, when not empty, names the one path to
// run ("strata", "bare" or "nats"); fanOuts are the subscriber counts to run.
int runEvents(std::uint64_t events, std::uint64_t rate, std::uint64_t latencyEvents, const std::string& only,
              const std::vector<int>& fanOuts);

}  // namespace strata::bench
