#pragma once

// What the programs of `strata-bench watch` (bench/watch/ for Strata's store, bench/nats/
// nats_kv_*.cpp for NATS JetStream's key-value store) share: the bucket and keys they
// write, the time stamp a value carries, and a latency summary that several watcher
// processes' driver can merge. Header-only and free of Strata's libraries.

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "event_report.h"

namespace strata::bench {

inline constexpr const char* kWatchCollection = "bench";  // the store's collection, NATS's bucket
inline constexpr std::uint64_t kWatchKeys = 100;          // writes go round these keys
inline constexpr std::uint64_t kDefaultValueSize = 64;

inline std::string watchKey(std::uint64_t index) { return "k" + std::to_string(index % kWatchKeys); }

// A value as both stores keep it: a JSON object whose "stamp" is CLOCK_MONOTONIC in
// nanoseconds when the writer sent it, padded to about size bytes.
inline std::string stampedValue(std::uint64_t stampNs, std::uint64_t size) {
  std::string value = "{\"stamp\":" + std::to_string(stampNs) + ",\"pad\":\"";
  if (value.size() + 2 < size) value.append(size - value.size() - 2, 'x');
  return value + "\"}";
}

// The stamp in a value or change that holds one ("stamp":N), or 0.
inline std::uint64_t stampIn(std::string_view text) {
  auto at = text.find("\"stamp\":");
  if (at == std::string_view::npos) return 0;
  std::uint64_t value = 0;
  for (auto i = at + 8; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  return value;
}

// Latencies of many watches in one process, summarised so the driver can merge the lines
// of several processes: the count, the rate, and kQuantiles evenly spaced quantiles
//   events=N ev_per_s=X p50_us=A p99_us=B q_us=v0,v1,...
struct WatchReport {
  static constexpr std::size_t kQuantiles = 200;
  EventReport events;

  std::string line() {
    auto out = events.line();
    auto& values = events.latenciesUs;
    std::sort(values.begin(), values.end());
    std::ostringstream q;
    q << " q_us=";
    for (std::size_t i = 0; i < kQuantiles && !values.empty(); ++i) {
      auto index = (i * (values.size() - 1) + (kQuantiles - 1) / 2) / (kQuantiles - 1);
      q << (i == 0 ? "" : ",") << values[std::min(index, values.size() - 1)];
    }
    return out + q.str();
  }
};

// The writers' summary: writes=N ok=N errors=E wr_per_s=X p50_us=A p99_us=B
struct WriteReport {
  std::uint64_t writes = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  std::vector<std::uint64_t> latenciesUs;

  std::string line() {
    std::ostringstream out;
    double rate = seconds > 0 ? static_cast<double>(writes) / seconds : 0.0;
    out << "writes=" << writes << " ok=" << ok << " errors=" << errors << " wr_per_s=" << std::fixed
        << std::setprecision(0) << rate << " p50_us=" << percentileOf(latenciesUs, 0.50)
        << " p99_us=" << percentileOf(latenciesUs, 0.99);
    return out.str();
  }
};

}  // namespace strata::bench
