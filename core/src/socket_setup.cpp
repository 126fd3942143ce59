#include <strata/core/socket_setup.h>

#include <cstring>

#include <strata/core/errors.h>

namespace strata::core {

namespace {

// ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in zmq.h, but Debian's libzmq 4.3.4 honours
// it. Without it a CURVE server accepts any key while no ZAP handler is bound.
constexpr int kZapEnforceDomain = 93;

void setRawInt(zmq::socket_t& socket, int option, int value) {
  if (zmq_setsockopt(socket.handle(), option, &value, sizeof value) != 0) throw zmq::error_t();
}

// Straight from the key's own buffer, so no copy of the secret is left in freed memory.
void setSecretKey(zmq::socket_t& socket, const SecretKey& secret) {
  if (zmq_setsockopt(socket.handle(), ZMQ_CURVE_SECRETKEY, secret.z85(), PublicKey::kZ85Length) != 0) {
    throw zmq::error_t();
  }
}

void applyCommon(zmq::socket_t& socket, const Limits& limits) {
  socket.set(zmq::sockopt::linger, static_cast<int>(SocketTimings::kLinger.count()));
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits.maxFrameSize));
  socket.set(zmq::sockopt::handshake_ivl, static_cast<int>(limits.handshake.count()));
  socket.set(zmq::sockopt::reconnect_ivl, static_cast<int>(SocketTimings::kReconnect.count()));
  socket.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(SocketTimings::kReconnectMax.count()));
  socket.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(SocketTimings::kTransportHeartbeat.count()));
  socket.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(SocketTimings::kTransportTimeout.count()));
  // Queues are bounded by credit and the broker's own per-service limit, not by libzmq's
  // high-water marks, which would drop or block silently.
  socket.set(zmq::sockopt::sndhwm, 0);
  socket.set(zmq::sockopt::rcvhwm, 0);
}

}  // namespace

bool isTcp(const std::string& endpoint) { return endpoint.rfind("tcp://", 0) == 0; }

void makeCurveServer(zmq::socket_t& socket, const SecretKey& secret, const Limits& limits) {
  applyCommon(socket, limits);
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
  setRawInt(socket, kZapEnforceDomain, 1);
  socket.set(zmq::sockopt::curve_server, true);
  setSecretKey(socket, secret);
}

void makeCurveClient(zmq::socket_t& socket, const SecretKey& secret, const PublicKey& serverKey,
                     const Limits& limits) {
  applyCommon(socket, limits);
  socket.set(zmq::sockopt::curve_serverkey, serverKey.z85());
  socket.set(zmq::sockopt::curve_publickey, secret.publicKey().z85());
  setSecretKey(socket, secret);
}

std::string bindSecure(zmq::socket_t& socket, const std::string& endpoint) {
  if (isTcp(endpoint) && !socket.get(zmq::sockopt::curve_server)) {
    throw ConfigError("refusing to bind " + endpoint + " without CURVE");
  }
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw ConfigError("cannot bind " + endpoint + ": " + e.what());
  }
  return socket.get(zmq::sockopt::last_endpoint);
}

Received receiveRest(zmq::socket_t& socket, bool more, std::vector<zmq::message_t>& frames, const Limits& limits,
                     std::size_t keepWhenOversized) {
  std::size_t count = frames.size();
  std::size_t total = 0;
  for (const auto& frame : frames) total += frame.size();
  bool oversized = count > limits.maxFrames || total > limits.maxMessageSize;
  while (more) {
    zmq::message_t frame;
    (void)socket.recv(frame, zmq::recv_flags::none);
    more = frame.more();
    ++count;
    total += frame.size();
    if (count > limits.maxFrames || total > limits.maxMessageSize) oversized = true;
    if (!oversized || frames.size() < keepWhenOversized) frames.push_back(std::move(frame));
  }
  if (!oversized) return Received::kWhole;
  if (frames.size() > keepWhenOversized) frames.resize(keepWhenOversized);
  return Received::kOversized;
}

}  // namespace strata::core
