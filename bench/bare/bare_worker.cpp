// bare-worker: the end-to-end benchmark's bare ZeroMQ echo worker. A DEALER over CURVE
// connects to bare-forwarder's backend, announces its credit once (one frame, the credit in
// decimal) and then sends every request back as it came, frame for frame, until killed.
//
//   bare-worker --connect ENDPOINT --key BASE --server-key FILE.pub [--credit N]
//
// It takes no --frames: echoing the frames as they come serves both request shapes
// (bare-client's --frames 2 and --frames 1) with the same code.

#include <iostream>
#include <vector>

#include <zmq_addon.hpp>

#include "bare_common.h"
#include "bench_program.h"

namespace strata::bench::bare {
namespace {

constexpr std::uint64_t kDefaultCredit = 128;  // above the benchmark's widest window

int run(const ProgramArgs& args) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  makeCurveClient(socket, args.required("--key"), args.required("--server-key"));
  socket.connect(args.required("--connect"));
  socket.send(zmq::buffer(std::to_string(args.number("--credit", kDefaultCredit))), zmq::send_flags::none);
  std::vector<zmq::message_t> request;
  while (true) {
    request.clear();
    if (!zmq::recv_multipart(socket, std::back_inserter(request))) continue;
    zmq::send_multipart(socket, request);
  }
}

}  // namespace
}  // namespace strata::bench::bare

int main(int argc, char** argv) {
  return strata::bench::programMain("bare-worker", argc, argv,
                                     {"--connect", "--key", "--server-key", "--credit"},
                                     strata::bench::bare::run);
}
