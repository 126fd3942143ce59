#include "bare_forwarder.h"

#include <array>
#include <chrono>
#include <deque>
#include <iostream>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/socket_setup.h>
#include <strata/core/zap_server.h>

namespace strata::bench {

namespace {

using Frames = std::vector<zmq::message_t>;

bool receive(zmq::socket_t& socket, Frames& frames) {
  frames.clear();
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait)) return false;
  bool more = part.more();
  frames.push_back(std::move(part));
  while (more) {
    zmq::message_t next;
    (void)socket.recv(next, zmq::recv_flags::none);
    more = next.more();
    frames.push_back(std::move(next));
  }
  return true;
}

void send(zmq::socket_t& socket, Frames& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    socket.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::uint8_t command(const Frames& frames) {
  return frames.size() > 1 && frames[1].size() >= codecs::kHeaderSize ? frames[1].data<std::uint8_t>()[3] : 0;
}

// The request id inside an envelope: after the flags byte of REQUEST and REPLY, right
// after the header in ERROR. Empty when the envelope is too short to hold one.
std::string idOf(const zmq::message_t& envelope, std::uint8_t cmd) {
  std::size_t at = cmd == static_cast<std::uint8_t>(codecs::Command::kError) ? codecs::kHeaderSize
                                                                            : codecs::kRequestIdOffset;
  auto bytes = envelope.to_string_view();
  return bytes.size() >= at + core::MessageId::kSize ? std::string(bytes.substr(at, core::MessageId::kSize)) : "";
}

}  // namespace

BareForwarder::BareForwarder(std::shared_ptr<const core::SecretKey> key, std::shared_ptr<const core::AuthorizedKeys> keys)
    : key_(std::move(key)), keys_(std::move(keys)) {}

BareForwarder::~BareForwarder() = default;

void BareForwarder::run(const std::atomic<bool>& stop) {
  zmq::context_t context(1);
  core::ZapServer zap(context, keys_);
  zmq::socket_t frontend(context, zmq::socket_type::router);
  zmq::socket_t backend(context, zmq::socket_type::router);
  core::makeCurveServer(frontend, *key_, core::Limits{});
  core::makeCurveServer(backend, *key_, core::Limits{});
  std::cout << "frontend listening on " << core::bindSecure(frontend, "tcp://127.0.0.1:*") << std::endl;
  std::cout << "backend listening on " << core::bindSecure(backend, "tcp://127.0.0.1:*") << std::endl;

  std::unordered_map<std::string, std::uint32_t> credit;
  std::vector<std::string> workers;
  std::size_t next = 0;
  std::deque<Frames> waiting;
  std::unordered_map<std::string, std::string> clientOf;  // request id -> client routing id
  const auto heartbeat = codecs::encode(codecs::Heartbeat{}).front();
  auto nextHeartbeat = std::chrono::steady_clock::now();

  auto dispatch = [&](Frames& request) {
    for (std::size_t n = 0; n < workers.size(); ++n) {
      auto& worker = workers[(next + n) % workers.size()];
      if (credit[worker] == 0) continue;
      next = (next + n + 1) % workers.size();
      --credit[worker];
      clientOf[idOf(request[1], command(request))] = request[0].to_string();
      request[0] = zmq::message_t(worker.data(), worker.size());
      send(backend, request);
      return true;
    }
    return false;
  };

  std::array<zmq::pollitem_t, 2> items{{{frontend.handle(), 0, ZMQ_POLLIN, 0}, {backend.handle(), 0, ZMQ_POLLIN, 0}}};
  Frames frames;
  while (!stop) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
    while (receive(backend, frames)) {
      std::string worker = frames[0].to_string();
      auto cmd = command(frames);
      if (cmd == static_cast<std::uint8_t>(codecs::Command::kReady) && frames[1].size() >= codecs::kHeaderSize + 4) {
        credit[worker] = codecs::readU32(frames[1].to_string_view().substr(codecs::kHeaderSize, 4));
        workers.push_back(worker);
        std::cout << "worker ready" << std::endl;
      } else if ((cmd == static_cast<std::uint8_t>(codecs::Command::kReply) ||
                  cmd == static_cast<std::uint8_t>(codecs::Command::kError)) &&
                 frames.size() > 1) {
        auto it = clientOf.find(idOf(frames[1], cmd));
        ++credit[worker];
        if (it != clientOf.end()) {
          frames[0] = zmq::message_t(it->second.data(), it->second.size());
          clientOf.erase(it);
          send(frontend, frames);
        }
        while (!waiting.empty() && dispatch(waiting.front())) waiting.pop_front();
      }
    }
    while (receive(frontend, frames)) {
      if (command(frames) != static_cast<std::uint8_t>(codecs::Command::kRequest)) continue;
      if (!waiting.empty() || !dispatch(frames)) waiting.push_back(std::move(frames));
    }
    // Workers take a silent broker for dead; a heartbeat a second keeps them registered.
    auto now = std::chrono::steady_clock::now();
    if (now >= nextHeartbeat) {
      nextHeartbeat = now + std::chrono::seconds(1);
      for (const auto& worker : workers) {
        backend.send(zmq::buffer(worker), zmq::send_flags::sndmore);
        backend.send(zmq::buffer(heartbeat), zmq::send_flags::none);
      }
    }
  }
}

}  // namespace strata::bench
