#pragma once

// Private helpers shared by the client and the worker: moving between zmq frames, the
// codec's views and the SDK's owned types.

#include <array>
#include <vector>

#include <zmq.hpp>

#include <strata/codecs/wire_codec.h>
#include <strata/core/limits.h>
#include <strata/nodes/messages.h>

namespace strata::nodes::detail {

using FrameList = std::vector<zmq::message_t>;

// Receives the rest of a message whose first frame is in first. Returns false (and drops
// everything) if it breaks the frame-count or size limit.
bool receiveRest(zmq::socket_t& socket, zmq::message_t& first, FrameList& frames, const core::Limits& limits);

void sendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames, const std::string* routingId = nullptr);

// The one-frame messages a loop sends on one socket in a turn, held for flush() at the
// turn's end, which sends them as one frame: a BATCH, or the message itself when alone
// (so a lone call costs nothing more). Whatever else goes through send() first sends what
// is held, so the socket carries everything in the order it was given. send and flush
// throw zmq::error_t as a socket's send does.
class Outgoing {
 public:
  // maxBatch: the most bytes one frame may carry (the node's Limits::maxOneFrameMessage),
  // which a batch never outgrows.
  explicit Outgoing(std::size_t maxBatch = codecs::kMaxBatchBytes) : batch_(maxBatch) {}
  void send(zmq::socket_t& socket, const std::vector<std::string>& frames);
  void flush(zmq::socket_t& socket);
  // The socket was replaced: what is held was meant for the old connection.
  void clear() { batch_.clear(); }

 private:
  codecs::BatchWriter batch_;
};

Headers ownHeaders(const std::vector<codecs::Header>& headers);
std::vector<codecs::Header> viewHeaders(const Headers& headers);
Body ownBody(const std::vector<std::string_view>& body);
// The same into out, reusing the capacity of the strings it already holds.
void assignHeaders(Headers& out, const std::vector<codecs::Header>& headers);
void assignBody(Body& out, const std::vector<std::string_view>& body);
void assignViews(std::vector<codecs::Header>& out, const Headers& headers);
std::vector<std::string_view> viewBody(const Body& body);

}  // namespace strata::nodes::detail
