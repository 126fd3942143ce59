// bare-client: the end-to-end benchmark's bare ZeroMQ client. A DEALER over CURVE keeps
// --window requests in flight until --requests are answered, then prints one summary line
// (bench_program.h) and exits 0, or 1 if any request went wrong or unanswered.
//
//   bare-client --connect ENDPOINT --key BASE --server-key FILE.pub
//               [--requests N] [--window W] [--body-size B] [--frames 2|1] [--timeout-ms T]
//
// A request is two frames, [16-byte id][body], or with --frames 1 one frame holding both.
// The id is the request's sequence number (8 bytes, host order) and 8 zero bytes.

#include <array>
#include <chrono>
#include <iostream>
#include <vector>

#include <zmq_addon.hpp>

#include "bare_common.h"
#include "bench_program.h"

namespace strata::bench::bare {
namespace {

using Clock = std::chrono::steady_clock;

using RequestId = std::array<char, kIdSize>;

RequestId idOf(std::uint64_t sequence) {
  RequestId id{};
  std::memcpy(id.data(), &sequence, sizeof sequence);
  return id;
}

int run(const ProgramArgs& args) {
  const auto requests = args.number("--requests", kDefaultRequests);
  const auto window = args.number("--window", kDefaultWindow);
  const auto frames = args.number("--frames", 2);
  const auto timeoutMs = args.number("--timeout-ms", kDefaultTimeoutMs);
  if (frames != 1 && frames != 2) throw UsageError("--frames is 1 or 2");
  if (window == 0) throw UsageError("--window must be at least 1");
  const std::string body(args.number("--body-size", kDefaultBodySize), 'x');

  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  makeCurveClient(socket, args.required("--key"), args.required("--server-key"));
  socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeoutMs));
  socket.connect(args.required("--connect"));

  std::vector<Clock::time_point> sentAt(requests);
  std::vector<bool> answered(requests, false);
  LoadReport report;
  report.latenciesUs.reserve(requests);
  std::uint64_t sent = 0;
  auto sendOne = [&] {
    auto id = idOf(sent);
    sentAt[sent] = Clock::now();
    if (frames == 2) {
      socket.send(zmq::buffer(id), zmq::send_flags::sndmore);
      socket.send(zmq::buffer(body), zmq::send_flags::none);
    } else {
      zmq::message_t one(kIdSize + body.size());
      std::memcpy(one.data(), id.data(), kIdSize);
      std::memcpy(one.data<char>() + kIdSize, body.data(), body.size());
      socket.send(one, zmq::send_flags::none);
    }
    ++sent;
  };

  const auto start = Clock::now();
  while (sent < std::min(window, requests)) sendOne();
  std::vector<zmq::message_t> reply;
  while (report.requests < requests) {
    reply.clear();
    if (!zmq::recv_multipart(socket, std::back_inserter(reply))) break;  // timed out
    const auto now = Clock::now();
    ++report.requests;
    // An answer is good when it has the request's shape, echoes a pending id and the body's size.
    bool good = reply.size() == frames && (frames == 1 ? reply[0].size() >= kIdSize : reply[0].size() == kIdSize);
    std::uint64_t sequence = 0;
    std::size_t bodySize = 0;
    if (good) {
      std::memcpy(&sequence, reply[0].data(), sizeof sequence);
      bodySize = frames == 2 ? reply[1].size() : reply[0].size() - kIdSize;
    }
    good = good && sequence < sent && !answered[sequence] && bodySize == body.size();
    if (good) {
      answered[sequence] = true;
      ++report.ok;
      report.latenciesUs.push_back(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - sentAt[sequence]).count()));
    } else {
      ++report.errors;
    }
    if (sent < requests) sendOne();
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.errors += requests - report.requests;
  std::cout << report.line() << std::endl;
  return report.errors == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::bare

int main(int argc, char** argv) {
  return strata::bench::programMain("bare-client", argc, argv,
                                     {"--connect", "--key", "--server-key", "--requests", "--window", "--body-size", "--frames",
                                      "--timeout-ms"},
                                     strata::bench::bare::run);
}
