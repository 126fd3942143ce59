#pragma once

#include <cstdint>

namespace strata::bench {

// `strata-bench admin`: what the admin endpoint costs the request path. The same load
// (`strata call --repeat`, 64 bytes, 100 in flight -> strata-broker -> two strata-node echo
// workers, CURVE) against a broker without strata.admin.bind and one with it, scraped
// on /metrics every second as Prometheus would, in alternating rounds; the median round
// of each, their requests per second, the broker's CPU per request, and the ratio
// (the target is at least 0.97). Returns a process exit code.
int runAdminBench(std::uint64_t requests, int rounds);

}  // namespace strata::bench
