// bare-forwarder: the end-to-end benchmark's bare ZeroMQ middle. A ROUTER frontend for
// clients and a ROUTER backend for workers, both CURVE servers on tcp://127.0.0.1:*, with a
// minimal ZAP handler that admits the public keys listed in AUTHORIZED_KEYS (the first
// word of each line, the format of Strata's authorized_keys; bare_zap.h). Prints
// "frontend listening on ENDPOINT", "backend listening on ENDPOINT" and "worker ready"
// for each worker, then forwards until killed.
//
//   bare-forwarder --key BASE --authorized-keys FILE
//
// Dispatch by credit: a worker's first message is one frame with its credit in decimal;
// every later one is a reply. A request goes to the next worker with credit, round robin,
// or waits in order until one has some; the forwarder remembers which client sent each id
// and sends the reply there. Nothing is validated beyond what routing needs.

#include <array>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <zmq_addon.hpp>

#include "bare_common.h"
#include "bare_zap.h"
#include "bench_program.h"

namespace strata::bench::bare {
namespace {

using Message = std::vector<zmq::message_t>;  // [routing id][id...][body...]
using RequestId = std::array<char, kIdSize>;

struct RequestIdHash {
  std::size_t operator()(const RequestId& id) const noexcept {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    std::memcpy(&low, id.data(), sizeof low);
    std::memcpy(&high, id.data() + sizeof low, sizeof high);
    return std::hash<std::uint64_t>{}(low ^ (high * 0x9e3779b97f4a7c15ULL));
  }
};

class Forwarder {
 public:
  Forwarder(zmq::socket_t& frontend, zmq::socket_t& backend) : frontend_(frontend), backend_(backend) {}

  void onBackend(Message& message) {
    if (message.size() < 2) return;
    auto routingId = message[0].to_string();
    auto known = indexOf_.find(routingId);
    if (known == indexOf_.end()) {
      indexOf_.emplace(routingId, workers_.size());
      // strtoull, not stoull: a worker's bad credit is its own problem (credit 0), not a reason to stop.
      workers_.push_back({routingId, std::strtoull(message[1].to_string().c_str(), nullptr, 10)});
      std::cout << "worker ready" << std::endl;
    } else {
      ++workers_[known->second].credit;
      auto client = message[1].size() < kIdSize ? clientOf_.end() : clientOf_.find(idOf(message[1]));
      if (client != clientOf_.end()) {
        message[0] = zmq::message_t(client->second.data(), client->second.size());
        clientOf_.erase(client);
        zmq::send_multipart(frontend_, message);
      }
    }
    while (!waiting_.empty() && dispatch(waiting_.front())) waiting_.pop_front();
  }

  void onFrontend(Message& message) {
    if (message.size() < 2 || message[1].size() < kIdSize) return;  // cannot be routed back
    if (!waiting_.empty() || !dispatch(message)) waiting_.push_back(std::move(message));
  }

 private:
  struct Worker {
    std::string routingId;
    std::uint64_t credit = 0;
  };

  static RequestId idOf(const zmq::message_t& frame) {
    RequestId id;
    std::memcpy(id.data(), frame.data(), kIdSize);
    return id;
  }

  // Sends request to the next worker with credit; false when none has any.
  bool dispatch(Message& request) {
    for (std::size_t n = 0; n < workers_.size(); ++n) {
      auto& worker = workers_[(next_ + n) % workers_.size()];
      if (worker.credit == 0) continue;
      next_ = (next_ + n + 1) % workers_.size();
      --worker.credit;
      clientOf_[idOf(request[1])] = request[0].to_string();
      request[0] = zmq::message_t(worker.routingId.data(), worker.routingId.size());
      zmq::send_multipart(backend_, request);
      return true;
    }
    return false;
  }

  zmq::socket_t& frontend_;
  zmq::socket_t& backend_;
  std::vector<Worker> workers_;
  std::unordered_map<std::string, std::size_t> indexOf_;  // routing id -> workers_ index
  std::size_t next_ = 0;                                  // where the round robin goes on
  std::deque<Message> waiting_;                           // requests no worker had credit for
  std::unordered_map<RequestId, std::string, RequestIdHash> clientOf_;  // id -> client routing id
};

int run(const ProgramArgs& args) {
  const auto admitted = loadAdmitted(args.required("--authorized-keys"));
  const auto keyBase = args.required("--key");
  zmq::context_t context(1);
  auto zap = bindZapHandler(context);
  zmq::socket_t frontend(context, zmq::socket_type::router);
  zmq::socket_t backend(context, zmq::socket_type::router);
  makeCurveServer(frontend, keyBase);
  makeCurveServer(backend, keyBase);
  frontend.bind("tcp://127.0.0.1:*");
  backend.bind("tcp://127.0.0.1:*");
  std::cout << "frontend listening on " << frontend.get(zmq::sockopt::last_endpoint) << "\n"
            << "backend listening on " << backend.get(zmq::sockopt::last_endpoint) << std::endl;

  Forwarder forwarder(frontend, backend);
  std::array<zmq::pollitem_t, 3> items{{{zap.handle(), 0, ZMQ_POLLIN, 0},
                                        {frontend.handle(), 0, ZMQ_POLLIN, 0},
                                        {backend.handle(), 0, ZMQ_POLLIN, 0}}};
  Message message;
  while (true) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
    if (items[0].revents & ZMQ_POLLIN) answerZap(zap, admitted);
    // Replies first: each frees credit for the requests behind it.
    while (true) {
      message.clear();
      if (!zmq::recv_multipart(backend, std::back_inserter(message), zmq::recv_flags::dontwait)) break;
      forwarder.onBackend(message);
    }
    while (true) {
      message.clear();
      if (!zmq::recv_multipart(frontend, std::back_inserter(message), zmq::recv_flags::dontwait)) break;
      forwarder.onFrontend(message);
    }
  }
}

}  // namespace
}  // namespace strata::bench::bare

int main(int argc, char** argv) {
  return strata::bench::programMain("bare-forwarder", argc, argv,
                                     {"--key", "--authorized-keys"},
                                     strata::bench::bare::run);
}
