// nats-publisher: strata-bench events's NATS publisher. Publishes --events messages of
// --size bytes on --subject, each starting with the CLOCK_MONOTONIC time it was made (8
// bytes, event_report.h), at --rate per second or as fast as it can (0, the default).
// Then it flushes, so the server has every message when it exits, prints one summary
// line (event_report.h) and exits 0, or 1 if a publish failed.
//
//   nats-publisher --url nats://127.0.0.1:PORT --subject S [--events N] [--size B] [--rate R]
//                  [--send-asap 0|1]
//
// --send-asap as for nats-client: 1 writes each message at once (for paced runs, where
// libnats's gathering would add its millisecond to every latency), 0 gathers writes.

#include <chrono>
#include <iostream>
#include <string>

#include "bench_program.h"
#include "event_report.h"
#include "nats_common.h"

namespace strata::bench::nats {
namespace {

// The server answers the final flush once it has read every message before it; with a
// whole run buffered ahead of a busy server that may take a while.
constexpr std::int64_t kFlushTimeoutMs = 60'000;

int run(const ProgramArgs& args) {
  const auto events = args.number("--events", kDefaultEvents);
  const auto size = args.number("--size", kDefaultEventSize);
  const auto subject = args.required("--subject");
  if (size < kStampSize) throw UsageError("--size must be at least " + std::to_string(kStampSize) + " (the stamp)");
  Library library;
  auto connection = connect(args.required("--url"), args.number("--send-asap", 0) != 0);
  std::string payload(size, 'x');
  PublishReport report;
  report.events = events;
  const auto start = std::chrono::steady_clock::now();
  const Pacer pacer(args.number("--rate", 0));
  for (std::uint64_t i = 0; i < events; ++i) {
    pacer.waitFor(i);
    putU64(payload.data(), monotonicNs());
    if (natsConnection_Publish(connection.get(), subject.c_str(), payload.data(), static_cast<int>(payload.size())) !=
        NATS_OK) {
      ++report.errors;
    }
  }
  check(natsConnection_FlushTimeout(connection.get(), kFlushTimeoutMs), "natsConnection_FlushTimeout");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.ok = events - report.errors;
  std::cout << report.line() << std::endl;
  return report.errors == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::nats

int main(int argc, char** argv) {
  return strata::bench::programMain("nats-publisher", argc, argv,
                                     {"--url", "--subject", "--events", "--size", "--rate", "--send-asap"},
                                     strata::bench::nats::run);
}
