// bare-publisher: strata-bench events's bare ZeroMQ publisher. A PUSH over CURVE connects
// to bare-event-forwarder's input and sends --events events of --size bytes, at --rate per
// second or as fast as it can (0, the default). An event is one frame: the CLOCK_MONOTONIC
// time it was made and its sequence number from 0 (8 bytes each, event_report.h), then
// padding. Prints one summary line (event_report.h) once every event has left, and exits
// 0, or 1 if some could not be sent.
//
//   bare-publisher --connect ENDPOINT --key BASE --server-key FILE.pub [--events N]
//                  [--size B] [--rate R]

#include <chrono>
#include <iostream>
#include <string>

#include "bare_common.h"
#include "bench_program.h"
#include "event_report.h"

namespace strata::bench::bare {
namespace {

// A forwarder that takes nothing for this long fails the run rather than hang it; also
// how long the end waits for the last events to leave.
constexpr int kSendTimeoutMs = 30'000;

int run(const ProgramArgs& args) {
  const auto events = args.number("--events", kDefaultEvents);
  const auto size = args.number("--size", kDefaultEventSize);
  if (size < kBareEventHeader) {
    throw UsageError("--size must be at least " + std::to_string(kBareEventHeader) + " (stamp and sequence)");
  }
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::push);
  makeCurveClient(socket, args.required("--key"), args.required("--server-key"));
  // Events queued when the run ends still go out: closing waits for them (up to the timeout).
  socket.set(zmq::sockopt::linger, kSendTimeoutMs);
  socket.set(zmq::sockopt::sndtimeo, kSendTimeoutMs);
  socket.connect(args.required("--connect"));

  std::string payload(size, 'x');
  PublishReport report;
  report.events = events;
  const auto start = std::chrono::steady_clock::now();
  const Pacer pacer(args.number("--rate", 0));
  for (std::uint64_t i = 0; i < events; ++i) {
    pacer.waitFor(i);
    putU64(payload.data(), monotonicNs());
    putU64(payload.data() + kStampSize, i);
    if (!socket.send(zmq::const_buffer(payload.data(), payload.size()), zmq::send_flags::none)) {
      report.errors = events - i;  // the forwarder stopped taking events: the rest are lost
      break;
    }
  }
  socket.close();
  context.close();  // returns once the queued events have left, or the linger ran out
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.ok = events - report.errors;
  std::cout << report.line() << std::endl;
  return report.errors == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::bare

int main(int argc, char** argv) {
  return strata::bench::programMain("bare-publisher", argc, argv,
                                     {"--connect", "--key", "--server-key", "--events", "--size", "--rate"},
                                     strata::bench::bare::run);
}
