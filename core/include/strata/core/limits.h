#pragma once

#include <chrono>
#include <cstddef>

namespace strata::core {

// Caps applied to every socket that takes input from a peer. libzmq enforces the
// frame size (ZMQ_MAXMSGSIZE) by dropping the connection; the frame count and total
// size are enforced by our own receive loop, since libzmq bounds neither.
struct Limits {
  static constexpr std::size_t kDefaultMaxFrameSize = 8u << 20;     // 8 MiB
  static constexpr std::size_t kDefaultMaxFrames = 64;
  static constexpr std::size_t kDefaultMaxMessageSize = 16u << 20;  // 16 MiB
  static constexpr std::chrono::milliseconds kDefaultHandshake{5000};

  std::size_t maxFrameSize = kDefaultMaxFrameSize;
  std::size_t maxFrames = kDefaultMaxFrames;
  std::size_t maxMessageSize = kDefaultMaxMessageSize;
  std::chrono::milliseconds handshake = kDefaultHandshake;

  // The largest message of one frame these limits take whole: a bound for what a sender
  // gathers into one frame (a batch), with peers configured alike.
  std::size_t maxOneFrameMessage() const { return maxFrameSize < maxMessageSize ? maxFrameSize : maxMessageSize; }
};

}  // namespace strata::core
