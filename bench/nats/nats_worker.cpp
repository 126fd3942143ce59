// nats-worker: the end-to-end benchmark's NATS echo worker. Subscribes to "echo" in the
// queue group "workers" (the server gives each request to one member) and answers every
// request on its reply subject with the same body. Prints "subscribed" once the server
// has the subscription, then serves until SIGTERM or SIGINT.
//
//   nats-worker --url nats://127.0.0.1:PORT [--send-asap 0|1]
//
// --send-asap as for nats-client: 1 writes each reply at once, 0 (libnats's default)
// gathers them.

#include <signal.h>

#include <iostream>

#include "bench_program.h"
#include "nats_common.h"

namespace strata::bench::nats {
namespace {

// Runs on the subscription's delivery thread.
void onRequest(natsConnection* connection, natsSubscription*, natsMsg* message, void*) {
  if (const char* reply = natsMsg_GetReply(message)) {
    // A failed publish is the client's loss (it counts an unanswered request), not ours.
    (void)natsConnection_Publish(connection, reply, natsMsg_GetData(message), natsMsg_GetDataLength(message));
  }
  natsMsg_Destroy(message);
}

int run(const ProgramArgs& args) {
  // Blocked before libnats starts its threads, so they inherit the mask and sigwait gets the signal.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  Library library;
  auto connection = connect(args.required("--url"), args.number("--send-asap", 0) != 0, args.text("--ca", ""));
  natsSubscription* raw = nullptr;
  check(natsConnection_QueueSubscribe(&raw, connection.get(), kSubject, kQueueGroup, onRequest, nullptr),
        "natsConnection_QueueSubscribe");
  Subscription subscription(raw);
  // The round trip makes sure the server has the subscription before we say so.
  check(natsConnection_Flush(connection.get()), "natsConnection_Flush");
  std::cout << "subscribed to " << kSubject << " in queue group " << kQueueGroup << std::endl;
  int signal = 0;
  sigwait(&stopSignals, &signal);
  return 0;
}

}  // namespace
}  // namespace strata::bench::nats

int main(int argc, char** argv) {
  return strata::bench::programMain("nats-worker", argc, argv,
                                     {"--url", "--send-asap", "--ca"},
                                     strata::bench::nats::run);
}
