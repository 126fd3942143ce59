// nats-subscriber: strata-bench events's NATS subscriber. Subscribes to --subject, prints
// "subscribed to SUBJECT" once the server has the subscription, then takes messages until
// --count have come or none has for --timeout milliseconds. Prints one summary line
// (event_report.h: latency from the stamp in each message's first 8 bytes, dropped as
// libnats counts it) and exits 0, or 1 if it got fewer or libnats dropped some.
//
//   nats-subscriber --url nats://127.0.0.1:PORT --subject S [--count N] [--timeout MS]
//
// A synchronous subscription: this thread takes each message in turn (NextMsg), as an
// application that handles its events one by one would.

#include <cstdint>
#include <iostream>
#include <string>

#include "bench_program.h"
#include "event_report.h"
#include "nats_common.h"

namespace strata::bench::nats {
namespace {

// libnats's "no limit" for the messages and bytes a subscription holds for its reader.
constexpr int kNoLimit = -1;

int run(const ProgramArgs& args) {
  const auto count = args.number("--count", kDefaultEvents);
  const auto timeoutMs = static_cast<std::int64_t>(args.number("--timeout", kDefaultIdleTimeoutMs));
  const auto subject = args.required("--subject");
  Library library;
  auto connection = connect(args.required("--url"), false);
  natsSubscription* raw = nullptr;
  check(natsConnection_SubscribeSync(&raw, connection.get(), subject.c_str()), "natsConnection_SubscribeSync");
  Subscription subscription(raw);
  // By default libnats drops what is beyond 65536 messages waiting for the reader; a
  // reader that falls behind a burst then loses events, which would measure that limit
  // rather than delivery. Without it the reader lags and catches up.
  check(natsSubscription_SetPendingLimits(subscription.get(), kNoLimit, kNoLimit),
        "natsSubscription_SetPendingLimits");
  // The round trip makes sure the server has the subscription before we say so.
  check(natsConnection_Flush(connection.get()), "natsConnection_Flush");
  std::cout << "subscribed to " << subject << std::endl;

  EventReport report;
  report.latenciesUs.reserve(count);
  while (report.events < count) {
    natsMsg* message = nullptr;
    natsStatus status = natsSubscription_NextMsg(&message, subscription.get(), timeoutMs);
    if (status == NATS_SLOW_CONSUMER) continue;  // libnats dropped some; counted below
    if (status != NATS_OK) break;                // idle for the timeout, or the connection is gone
    const auto now = monotonicNs();
    report.received(now);
    if (natsMsg_GetDataLength(message) >= static_cast<int>(kStampSize)) {
      report.stamped(now, getU64(natsMsg_GetData(message)));
    }
    natsMsg_Destroy(message);
  }
  std::int64_t dropped = 0;
  if (natsSubscription_GetDropped(subscription.get(), &dropped) == NATS_OK && dropped > 0) {
    report.dropped = static_cast<std::uint64_t>(dropped);
  }
  std::cout << report.line() << std::endl;
  return report.events == count && report.dropped == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::nats

int main(int argc, char** argv) {
  return strata::bench::programMain("nats-subscriber", argc, argv, {"--url", "--subject", "--count", "--timeout"},
                                     strata::bench::nats::run);
}
