#pragma once

#include <cstdint>
#include <string>

namespace strata::bench {

// `strata-bench e2e`: echo request/reply on loopback over three paths, each made of its
// own client, middle and worker processes: Strata (`strata call --repeat`, strata-broker,
// strata-node), bare ZeroMQ programs (bench/bare/) and NATS (nats-server with the programs
// in bench/nats/; skipped, with a message, when they are not there). Throughput rows at
// window 100 are the median of alternating rounds; latency rows are at window 1. Each row
// also shows the CPU time per request of each process role over the timed run. Prints a
// table and the ratios; returns a process exit code. Throws std::runtime_error when a
// path does not start or a client prints no summary. only, when not empty, names the one
// path to run ("strata", "bare", "nats" or "nats-tls"), for profiling it alone; body, when
// not 0, the one body size of the throughput rows (64 or 1024).
int runEndToEnd(std::uint64_t requests, std::uint64_t latencyRequests, const std::string& only = {},
                std::size_t body = 0);

}  // namespace strata::bench
