// nats-kv-watchers: strata-bench watch's NATS watcher process. Opens --watches watchers of
// every key of the JetStream key-value bucket "bench" (kvStore_Watch, one thread each
// taking entries with kvWatcher_Next, as an application would) on one connection, prints
// "watching N" once each has had the bucket's current values, then takes updates until
// each has --count or none came for --timeout milliseconds. Prints one summary line
// (watch_report.h) and exits 0, or 1 if some watcher got fewer.
//
//   nats-kv-watchers --url nats://127.0.0.1:PORT [--watches N] [--count N] [--timeout MS]

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_program.h"
#include "nats_kv.h"

namespace strata::bench::nats {
namespace {

int run(const ProgramArgs& args) {
  const auto watches = args.number("--watches", 1);
  const auto count = args.number("--count", 1000);
  const auto timeoutMs = static_cast<std::int64_t>(args.number("--timeout", kDefaultIdleTimeoutMs));
  Library library;
  auto connection = connect(args.required("--url"), true);
  auto js = jetStream(connection.get());
  auto kv = bucket(js.get());

  std::mutex mutex;
  WatchReport report;
  report.events.latenciesUs.reserve(watches * count);
  std::atomic<std::uint64_t> ready{0};
  std::atomic<std::uint64_t> complete{0};
  std::vector<kvWatcher*> watchers(watches, nullptr);
  for (auto& w : watchers) check(kvStore_WatchAll(&w, kv.get(), nullptr), "kvStore_WatchAll");
  std::vector<std::thread> threads;
  for (std::uint64_t i = 0; i < watches; ++i) {
    threads.emplace_back([&, w = watchers[i]] {
      std::uint64_t seen = 0;
      bool initial = true;
      while (seen < count) {
        kvEntry* entry = nullptr;
        if (kvWatcher_Next(&entry, w, timeoutMs) != NATS_OK) break;  // idle for the timeout
        if (entry == nullptr) {  // the current values are all in
          if (initial && ++ready == watches) {
            std::lock_guard lock(mutex);
            std::cout << "watching " << watches << std::endl;
          }
          initial = false;
          continue;
        }
        auto now = monotonicNs();
        if (!initial) {
          std::string_view value(static_cast<const char*>(kvEntry_Value(entry)),
                                 static_cast<std::size_t>(kvEntry_ValueLen(entry)));
          std::lock_guard lock(mutex);
          report.events.received(now);
          if (auto stamp = stampIn(value)) report.events.stamped(now, stamp);
          ++seen;
        }
        kvEntry_Destroy(entry);
      }
      if (seen == count) ++complete;
    });
  }
  for (auto& t : threads) t.join();
  for (auto* w : watchers) kvWatcher_Destroy(w);
  std::cout << report.line() << std::endl;
  return complete == watches ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::nats

int main(int argc, char** argv) {
  return strata::bench::programMain("nats-kv-watchers", argc, argv, {"--url", "--watches", "--count", "--timeout"},
                                     strata::bench::nats::run);
}
