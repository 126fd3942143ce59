#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <zmq.hpp>

#include <strata/core/curve_keys.h>
#include <strata/core/limits.h>

namespace strata::core {

// The ZAP domain every Strata server socket uses; with ZMQ_ZAP_ENFORCE_DOMAIN it makes
// CURVE fail closed when no ZAP handler answers.
inline constexpr const char* kZapDomain = "strata";

// Timings shared by every socket.
struct SocketTimings {
  static constexpr std::chrono::milliseconds kLinger{0};
  static constexpr std::chrono::milliseconds kReconnect{100};
  static constexpr std::chrono::milliseconds kReconnectMax{2000};
  static constexpr std::chrono::milliseconds kTransportHeartbeat{1000};
  static constexpr std::chrono::milliseconds kTransportTimeout{3000};
};

bool isTcp(const std::string& endpoint);

// A CURVE server socket, fail-closed ZAP, limits applied. Call before bind().
void makeCurveServer(zmq::socket_t& socket, const SecretKey& secret, const Limits& limits);
// A CURVE client socket for a server with serverKey. Call before connect().
void makeCurveClient(zmq::socket_t& socket, const SecretKey& secret, const PublicKey& serverKey,
                     const Limits& limits);

// Binds and returns the endpoint actually bound (with the port chosen for "*").
// Refuses tcp:// on a socket that is not a CURVE server.
std::string bindSecure(zmq::socket_t& socket, const std::string& endpoint);

// Whether a message read with receiveRest came within the limits.
enum class Received { kWhole, kOversized };

// Reads the remaining parts of a multipart message into frames, after what frames holds
// (which counts toward the limits), given the more flag of the part read last. The rest
// of a message is queued once its first part has arrived, so this never waits. Past
// limits.maxFrames or limits.maxMessageSize it still reads the message to its end, so
// the next one starts clean, but keeps only the first keepWhenOversized frames.
Received receiveRest(zmq::socket_t& socket, bool more, std::vector<zmq::message_t>& frames, const Limits& limits,
                     std::size_t keepWhenOversized = 0);

}  // namespace strata::core
