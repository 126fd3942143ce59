// strata-watchers: strata-bench watch's Strata watcher process. Opens --watches watches
// of the store collection "bench" over one Client (strata::nodes::ObjectWatch, as an
// application would), prints "watching N" once every snapshot is in, then takes changes
// until each watch has --count of them or none came for --timeout milliseconds. Prints
// one summary line (watch_report.h: latency from the "stamp" each change carries) and
// exits 0, or 1 if some watch got fewer.
//
//   strata-watchers --config CLIENT.properties [--watches N] [--count N] [--timeout MS]

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <vector>

#include <strata/core/config.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node_config.h>
#include <strata/nodes/object_watch.h>

#include "bench_program.h"
#include "watch_report.h"

namespace strata::bench {
namespace {

int run(const ProgramArgs& args) {
  const auto watches = args.number("--watches", 1);
  const auto count = args.number("--count", 1000);
  const auto timeout = std::chrono::milliseconds(args.number("--timeout", kDefaultIdleTimeoutMs));
  nodes::Client client(nodes::clientOptionsFrom(core::Config::load(args.required("--config"))));

  std::mutex mutex;
  std::condition_variable changed;
  WatchReport report;
  report.events.latenciesUs.reserve(watches * count);
  std::uint64_t ready = 0;
  std::uint64_t complete = 0;  // watches that have count changes
  std::string failure;
  std::vector<std::uint64_t> seen(watches, 0);
  std::vector<std::unique_ptr<nodes::ObjectWatch>> open;
  for (std::uint64_t i = 0; i < watches; ++i) {
    nodes::ObjectWatch::Handlers h;
    h.onReady = [&](std::int64_t, std::size_t) {
      std::lock_guard lock(mutex);
      if (++ready == watches) std::cout << "watching " << watches << std::endl;
    };
    h.onChange = [&, i](const nodes::WatchedChange& c) {
      auto now = monotonicNs();
      std::lock_guard lock(mutex);
      report.events.received(now);
      if (auto stamp = stampIn(c.attributes)) report.events.stamped(now, stamp);
      if (++seen[i] == count) ++complete;
      changed.notify_all();
    };
    h.onError = [&](nodes::ErrorCode, const std::string& text) {
      std::lock_guard lock(mutex);
      failure = text;
      changed.notify_all();
    };
    open.push_back(std::make_unique<nodes::ObjectWatch>(client, kWatchCollection, "", std::move(h)));
  }
  std::unique_lock lock(mutex);
  for (;;) {
    auto before = report.events.events;
    bool done = changed.wait_for(lock, timeout, [&] { return complete == watches || !failure.empty(); });
    if (done || report.events.events == before) break;  // finished, or idle for the timeout
  }
  if (!failure.empty()) std::cerr << "strata-watchers: " << failure << "\n";
  std::cout << report.line() << std::endl;
  bool whole = complete == watches;
  lock.unlock();
  open.clear();
  return whole ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  return strata::bench::programMain("strata-watchers", argc, argv, {"--config", "--watches", "--count", "--timeout"},
                                     strata::bench::run);
}
