#include "frames.h"

#include <strata/core/socket_setup.h>

namespace strata::nodes::detail {

bool receiveRest(zmq::socket_t& socket, zmq::message_t& first, FrameList& frames, const core::Limits& limits) {
  frames.clear();
  bool more = first.more();
  frames.push_back(std::move(first));
  return core::receiveRest(socket, more, frames, limits) == core::Received::kWhole;
}

void sendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames, const std::string* routingId) {
  if (routingId) socket.send(zmq::buffer(*routingId), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket.send(zmq::buffer(frames[i]), flags | zmq::send_flags::dontwait);
  }
}

void Outgoing::send(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  if (frames.size() != 1 || !batch_.takes(frames.front().size())) {
    flush(socket);
    sendFrames(socket, frames);
    return;
  }
  if (!batch_.fits(frames.front().size())) flush(socket);
  batch_.add(frames.front());
}

void Outgoing::flush(zmq::socket_t& socket) {
  if (batch_.empty()) return;
  auto frame = batch_.frame();
  zmq::message_t message(frame.data(), frame.size());
  batch_.clear();  // before the send: one that throws must not leave the batch to go twice
  socket.send(message, zmq::send_flags::dontwait);
}

void assignHeaders(Headers& out, const std::vector<codecs::Header>& headers) {
  out.resize(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    out[i].first.assign(headers[i].key);
    out[i].second.assign(headers[i].value);
  }
}

void assignBody(Body& out, const std::vector<std::string_view>& body) {
  out.resize(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) out[i].assign(body[i]);
}

void assignViews(std::vector<codecs::Header>& out, const Headers& headers) {
  out.clear();
  for (const auto& [k, v] : headers) out.push_back({k, v});
}

Headers ownHeaders(const std::vector<codecs::Header>& headers) {
  Headers out;
  assignHeaders(out, headers);
  return out;
}

Body ownBody(const std::vector<std::string_view>& body) {
  Body out;
  assignBody(out, body);
  return out;
}

std::vector<codecs::Header> viewHeaders(const Headers& headers) {
  std::vector<codecs::Header> out;
  assignViews(out, headers);
  return out;
}

std::vector<std::string_view> viewBody(const Body& body) { return {body.begin(), body.end()}; }

}  // namespace strata::nodes::detail
