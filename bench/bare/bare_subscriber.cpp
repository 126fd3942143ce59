// bare-subscriber: strata-bench events's bare ZeroMQ subscriber. A SUB over CURVE
// connects to bare-event-forwarder's output, subscribes to everything and takes events
// until --count have come or none has for --timeout milliseconds. Prints one summary line
// (event_report.h: latency from each event's stamp, dropped as the sequence numbers
// skipped between two that came) and exits 0, or 1 if it got fewer or missed some.
//
//   bare-subscriber --connect ENDPOINT --key BASE --server-key FILE.pub [--count N]
//                   [--timeout MS]
//
// It prints nothing when subscribed: SUB learns of no confirmation. The forwarder says
// "subscriber joined" instead.

#include <iostream>

#include "bare_common.h"
#include "bench_program.h"
#include "event_report.h"

namespace strata::bench::bare {
namespace {

constexpr int kNoHighWaterMark = 0;  // lag behind a burst rather than lose events
constexpr const char* kEverything = "";

int run(const ProgramArgs& args) {
  const auto count = args.number("--count", kDefaultEvents);
  const auto timeoutMs = args.number("--timeout", kDefaultIdleTimeoutMs);
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::sub);
  makeCurveClient(socket, args.required("--key"), args.required("--server-key"));
  socket.set(zmq::sockopt::rcvhwm, kNoHighWaterMark);
  socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeoutMs));
  socket.set(zmq::sockopt::subscribe, kEverything);
  socket.connect(args.required("--connect"));

  EventReport report;
  report.latenciesUs.reserve(count);
  std::uint64_t expected = 0;  // the next sequence number
  zmq::message_t event;
  while (report.events < count) {
    if (!socket.recv(event, zmq::recv_flags::none)) break;  // idle for the timeout
    const auto now = monotonicNs();
    report.received(now);
    if (event.size() < kBareEventHeader) continue;
    const char* data = event.data<char>();
    report.stamped(now, getU64(data));
    auto sequence = getU64(data + kStampSize);
    if (sequence > expected) report.dropped += sequence - expected;
    if (sequence >= expected) expected = sequence + 1;
  }
  std::cout << report.line() << std::endl;
  return report.events == count && report.dropped == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::bare

int main(int argc, char** argv) {
  return strata::bench::programMain("bare-subscriber", argc, argv,
                                     {"--connect", "--key", "--server-key", "--count", "--timeout"},
                                     strata::bench::bare::run);
}
