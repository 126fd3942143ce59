// bare-event-forwarder: strata-bench events's bare ZeroMQ middle. A PULL input for
// publishers and an XPUB output for subscribers, both CURVE servers on
// tcp://127.0.0.1:*, with the ZAP handler of bare_zap.h (the keys in AUTHORIZED_KEYS).
// Sends every message that comes in to every subscriber, as it came. Prints
// "input listening on ENDPOINT", "output listening on ENDPOINT" and "subscriber joined"
// for each subscription a subscriber makes, then forwards until killed.
//
//   bare-event-forwarder --key BASE --authorized-keys FILE
//
// XPUB rather than PUB only to see the subscriptions: a SUB socket learns of none, and the
// driver must not start the publisher before every subscriber is in. Nothing is dropped:
// the output has no high-water mark, so a subscriber that falls behind lags and catches
// up, as nats-subscriber does without pending limits; the input keeps ZeroMQ's, so a
// publisher faster than the forwarder waits.

#include <array>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <vector>

#include <zmq_addon.hpp>

#include "bare_common.h"
#include "bare_zap.h"
#include "bench_program.h"

namespace strata::bench::bare {
namespace {

constexpr int kNoHighWaterMark = 0;
// An XPUB hands each subscription up as a message whose first byte is 1 (0: unsubscribe).
constexpr std::uint8_t kSubscribeByte = 1;

int run(const ProgramArgs& args) {
  const auto admitted = loadAdmitted(args.required("--authorized-keys"));
  const auto keyBase = args.required("--key");
  zmq::context_t context(1);
  auto zap = bindZapHandler(context);
  zmq::socket_t input(context, zmq::socket_type::pull);
  zmq::socket_t output(context, zmq::socket_type::xpub);
  makeCurveServer(input, keyBase);
  makeCurveServer(output, keyBase);
  output.set(zmq::sockopt::sndhwm, kNoHighWaterMark);
  // Every subscription message, also one that repeats another's: one per subscriber.
  output.set(zmq::sockopt::xpub_verbose, true);
  input.bind("tcp://127.0.0.1:*");
  output.bind("tcp://127.0.0.1:*");
  std::cout << "input listening on " << input.get(zmq::sockopt::last_endpoint) << "\n"
            << "output listening on " << output.get(zmq::sockopt::last_endpoint) << std::endl;

  std::array<zmq::pollitem_t, 3> items{{{zap.handle(), 0, ZMQ_POLLIN, 0},
                                        {output.handle(), 0, ZMQ_POLLIN, 0},
                                        {input.handle(), 0, ZMQ_POLLIN, 0}}};
  std::vector<zmq::message_t> event;
  zmq::message_t subscription;
  while (true) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
    if (items[0].revents & ZMQ_POLLIN) answerZap(zap, admitted);
    while (output.recv(subscription, zmq::recv_flags::dontwait)) {
      if (subscription.size() > 0 && subscription.data<std::uint8_t>()[0] == kSubscribeByte) {
        std::cout << "subscriber joined" << std::endl;
      }
    }
    while (true) {
      event.clear();
      if (!zmq::recv_multipart(input, std::back_inserter(event), zmq::recv_flags::dontwait)) break;
      zmq::send_multipart(output, event);
    }
  }
}

}  // namespace
}  // namespace strata::bench::bare

int main(int argc, char** argv) {
  return strata::bench::programMain("bare-event-forwarder", argc, argv, {"--key", "--authorized-keys"},
                                     strata::bench::bare::run);
}
