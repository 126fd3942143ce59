// strata-writer: strata-bench watch's Strata writer. Puts --writes objects into the store
// collection "bench" (keys k0 to k99 in turn), each value stamped with the time it was
// sent, keeping at most --window puts in flight, paced at --rate per second (0: as fast
// as the window lets). Prints one summary line (watch_report.h) and exits 0, or 1 if a
// put failed.
//
//   strata-writer --config CLIENT.properties [--writes N] [--rate R] [--window W] [--size BYTES]

#include <condition_variable>
#include <iostream>
#include <mutex>

#include <strata/core/config.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node_config.h>

#include "bench_program.h"
#include "watch_report.h"

namespace strata::bench {
namespace {

int run(const ProgramArgs& args) {
  const auto writes = args.number("--writes", 1000);
  const auto window = std::max<std::uint64_t>(args.number("--window", 1), 1);
  const auto size = args.number("--size", kDefaultValueSize);
  nodes::Client client(nodes::clientOptionsFrom(core::Config::load(args.required("--config"))));

  std::mutex mutex;
  std::condition_variable answered;
  std::uint64_t inFlight = 0;
  WriteReport report;
  report.latenciesUs.reserve(writes);
  Pacer pacer(args.number("--rate", 0));
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < writes; ++i) {
    pacer.waitFor(i);
    {
      std::unique_lock lock(mutex);
      answered.wait(lock, [&] { return inFlight < window; });
      ++inFlight;
    }
    auto sent = monotonicNs();
    nodes::OutgoingRequest put;
    put.service = "store.put";
    put.headers = {{"content-type", "application/json"}};
    put.body = {std::string("{\"collection\":\"") + kWatchCollection + "\",\"key\":\"" + watchKey(i) +
                "\",\"attributes\":" + stampedValue(sent, size) + "}"};
    put.timeout = std::chrono::seconds(30);
    client.callAsync(std::move(put), [&, sent](nodes::Response&& r) {
      auto now = monotonicNs();
      std::lock_guard lock(mutex);
      ++report.writes;
      if (r.ok) {
        ++report.ok;
        report.latenciesUs.push_back((now - sent) / 1000);
      } else {
        if (report.errors++ == 0) std::cerr << "strata-writer: " << r.errorText << "\n";
      }
      --inFlight;
      answered.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  answered.wait(lock, [&] { return inFlight == 0; });
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << report.line() << std::endl;
  return report.errors == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  return strata::bench::programMain("strata-writer", argc, argv, {"--config", "--writes", "--rate", "--window", "--size"},
                                     strata::bench::run);
}
