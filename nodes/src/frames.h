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

// Decodes frames (all of them) through the codec.
codecs::DecodeResult decodeFrames(const FrameList& frames, std::vector<std::string_view>& views);

void sendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames, const std::string* routingId = nullptr);

Headers ownHeaders(const std::vector<codecs::Header>& headers);
std::vector<codecs::Header> viewHeaders(const Headers& headers);
Body ownBody(const std::vector<std::string_view>& body);
// The same into out, reusing the capacity of the strings it already holds.
void assignHeaders(Headers& out, const std::vector<codecs::Header>& headers);
void assignBody(Body& out, const std::vector<std::string_view>& body);
void assignViews(std::vector<codecs::Header>& out, const Headers& headers);
std::vector<std::string_view> viewBody(const Body& body);

}  // namespace strata::nodes::detail
