#pragma once

// What the event programs of `strata-bench events` (bench/nats/nats_publisher.cpp,
// nats_subscriber.cpp, bench/bare/bare_publisher.cpp, bare_subscriber.cpp) share: the
// time stamp an event carries, pacing a publisher, and the summary lines they print in
// the format of `strata publish --repeat` and `strata subscribe --summary`, so the driver
// reads every path alike. Header-only and free of Strata's libraries, like
// bench_program.h.

#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_program.h"

namespace strata::bench {

// An event's payload starts with the time it was made (kStampSize bytes); a bare event
// then has its sequence number (the next kStampSize bytes), by which its subscriber
// counts what it missed. The rest is padding up to the event's size.
inline constexpr std::size_t kStampSize = sizeof(std::uint64_t);
inline constexpr std::size_t kBareEventHeader = 2 * kStampSize;
inline constexpr std::uint64_t kDefaultEvents = 200'000;
inline constexpr std::uint64_t kDefaultEventSize = 64;
inline constexpr std::uint64_t kDefaultIdleTimeoutMs = 20'000;  // a subscriber idle this long stops
inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// CLOCK_MONOTONIC in nanoseconds: the clock `strata publish --stamp` writes too, so a
// latency is one subtraction in any subscriber on the same machine.
inline std::uint64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * static_cast<std::uint64_t>(kNanosPerSecond) +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// Host order: publisher and subscriber share the machine.
inline void putU64(char* out, std::uint64_t value) { std::memcpy(out, &value, sizeof value); }

inline std::uint64_t getU64(const char* in) {
  std::uint64_t value = 0;
  std::memcpy(&value, in, sizeof value);
  return value;
}

// Paces a publisher at rate events per second from its construction, or not at all at
// rate 0. Each event has its due time from the start, so a late one does not push back
// the rest.
class Pacer {
 public:
  explicit Pacer(std::uint64_t rate) : rate_(rate), start_(std::chrono::steady_clock::now()) {}

  // Returns when event number index (from 0) is due.
  void waitFor(std::uint64_t index) const {
    if (rate_ == 0) return;
    auto dueNs = index * static_cast<std::uint64_t>(kNanosPerSecond) / rate_;
    // The pacing itself, not a wait for a condition.
    std::this_thread::sleep_until(start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(dueNs)));
  }

 private:
  std::uint64_t rate_;
  std::chrono::steady_clock::time_point start_;
};

// What one publisher run did; line() prints
//   events=N ok=N errors=E ev_per_s=X
struct PublishReport {
  std::uint64_t events = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;  // events not handed to the middle
  double seconds = 0;        // from the first event to the last one handed over

  std::string line() const {
    std::ostringstream out;
    double rate = seconds > 0 ? static_cast<double>(events) / seconds : 0.0;
    out << "events=" << events << " ok=" << ok << " errors=" << errors << " ev_per_s=" << std::fixed
        << std::setprecision(0) << rate;
    return out.str();
  }
};

// What one subscriber received; line() prints
//   events=N dropped=D ev_per_s=X p50_us=A p99_us=B
// where the rate counts from the first event to the last, so neither the start-up nor
// the wait for the publisher is in it.
struct EventReport {
  std::uint64_t events = 0;
  std::uint64_t dropped = 0;  // as the middle or the sequence numbers tell
  std::uint64_t firstNs = 0;  // monotonicNs() at the first event and the last
  std::uint64_t lastNs = 0;
  std::vector<std::uint64_t> latenciesUs;

  // Counts one event that arrived at nowNs.
  void received(std::uint64_t nowNs) {
    if (events == 0) firstNs = nowNs;
    lastNs = nowNs;
    ++events;
  }

  // Its latency, from the stamp sentNs it carried.
  void stamped(std::uint64_t nowNs, std::uint64_t sentNs) {
    latenciesUs.push_back(nowNs > sentNs ? (nowNs - sentNs) / 1000 : 0);
  }

  std::string line() {
    std::ostringstream out;
    // events - 1 gaps between the first event and the last.
    double span = static_cast<double>(lastNs - firstNs) / static_cast<double>(kNanosPerSecond);
    double rate = events > 1 && span > 0 ? static_cast<double>(events - 1) / span : 0.0;
    out << "events=" << events << " dropped=" << dropped << " ev_per_s=" << std::fixed << std::setprecision(0)
        << rate << " p50_us=" << percentileOf(latenciesUs, 0.50) << " p99_us=" << percentileOf(latenciesUs, 0.99);
    return out.str();
  }
};

}  // namespace strata::bench
