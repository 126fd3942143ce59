#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace strata::nodes {

// The `strata` command-line tool: keygen, call, services. Returns the process exit code
// (sysexits). Reads stdin when a call has no BODY argument.
int runCli(int argc, char** argv);

// Latency and outcome figures of a `strata call --repeat` run.
struct LoadSummary {
  std::uint64_t requests = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  std::vector<std::uint64_t> latenciesUs;  // of successful calls
  std::map<std::string, std::uint64_t> byWorker;
  std::string firstError;

  // requests=.. ok=.. errors=.. req_per_s=.. p50_us=.. p99_us=.. workers=name:count,...
  std::string line();
};

class Client;
struct OutgoingRequest;

// Sends copies of prototype until count are answered, window in flight at once (each
// answer sends the next, from the client's loop thread). onProgress, if set, runs on that
// thread with the number answered so far, every 1000 answers and at the end.
LoadSummary runLoad(Client& client, const OutgoingRequest& prototype, std::uint64_t count, std::uint64_t window,
                    const std::function<void(std::uint64_t)>& onProgress = nullptr);

// The value at fraction q (0..1) of sorted values; 0 when empty.
std::uint64_t percentile(std::vector<std::uint64_t>& values, double q);

}  // namespace strata::nodes
