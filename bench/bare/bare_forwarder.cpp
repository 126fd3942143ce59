// bare-forwarder: the end-to-end benchmark's bare ZeroMQ middle. A ROUTER frontend for
// clients and a ROUTER backend for workers, both CURVE servers on tcp://127.0.0.1:*, with a
// minimal ZAP handler that admits the public keys listed in AUTHORIZED_KEYS (the first
// word of each line, the format of Strata's authorized_keys). Prints
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

// The binary CURVE keys of authorized_keys: one key per line, first word, Z85.
std::unordered_set<std::string> loadAdmitted(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::unordered_set<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string z85;
    words >> z85;
    if (z85.empty() || z85[0] == '#') continue;
    std::array<std::uint8_t, kBinaryKeySize> binary{};
    if (z85.size() != kZ85KeyLength || zmq_z85_decode(binary.data(), z85.c_str()) == nullptr) {
      throw std::runtime_error(path + ": not a Z85 key: " + z85);
    }
    keys.emplace(reinterpret_cast<const char*>(binary.data()), binary.size());
  }
  return keys;
}

// Answers one ZAP request (RFC 27): 200 for a CURVE key in admitted, 400 for anything else.
void answerZap(zmq::socket_t& zap, const std::unordered_set<std::string>& admitted) {
  Message request;
  if (!zmq::recv_multipart(zap, std::back_inserter(request), zmq::recv_flags::dontwait)) return;
  if (request.size() < 6) return;  // not ZAP; libzmq sends nothing shorter
  // [version][request id][domain][address][identity][mechanism][credentials...]
  bool ok = request[5].to_string_view() == "CURVE" && request.size() > 6 &&
            admitted.count(request[6].to_string()) > 0;
  std::array<zmq::message_t, 6> reply{zmq::message_t(std::string_view("1.0")), std::move(request[1]),
                                      zmq::message_t(std::string_view(ok ? "200" : "400")),
                                      zmq::message_t(std::string_view(ok ? "OK" : "key not listed")),
                                      zmq::message_t(), zmq::message_t()};
  zmq::send_multipart(zap, reply);
}

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
  // Bound before the CURVE sockets, so no handshake finds the domain without a handler.
  zmq::socket_t zap(context, zmq::socket_type::rep);
  zap.set(zmq::sockopt::linger, kLingerMs);
  zap.bind(kZapEndpoint);
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
