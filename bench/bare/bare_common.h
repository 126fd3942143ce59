#pragma once

// What the bare programs (bare-client, bare-forwarder and bare-worker for e2e;
// bare-publisher, bare-event-forwarder and bare-subscriber for events) share: the request
// id's size, reading the key files Strata writes, and CURVE on a socket. Only libzmq and
// libsodium, no Strata library, so the bare path measures ZeroMQ and CURVE and nothing
// of ours.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include <sodium.h>
#include <zmq.hpp>

namespace strata::bench::bare {

// A request is [id][body] (or, with --frames 1, one frame starting with the id); the
// forwarder routes a reply by these first bytes.
constexpr std::size_t kIdSize = 16;
constexpr std::size_t kZ85KeyLength = 40;
constexpr std::size_t kBinaryKeySize = 32;
constexpr const char* kZapDomain = "bare";
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in zmq.h, but Debian's libzmq 4.3.4 honours it;
// without it a CURVE server admits any key while no ZAP handler is bound. Strata's
// servers set it too.
constexpr int kZapEnforceDomain = 93;
constexpr int kLingerMs = 0;  // a benchmark process is killed or done; nothing to flush

// The Z85 key on the first line of a key file, as strata keygen and
// strata::core::writeKeyPair write it (NAME.key: the secret, NAME.pub: the public key, 40
// characters and a line end each). Throws std::runtime_error when the file cannot be read
// or its first line is not a Z85 key. The caller wipes a secret with wipe().
inline std::string readKey(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read key file " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  std::uint8_t binary[kBinaryKeySize];
  if (line.size() != kZ85KeyLength || zmq_z85_decode(binary, line.c_str()) == nullptr) {
    sodium_memzero(line.data(), line.size());
    throw std::runtime_error("key file " + path + " does not hold a Z85 CURVE key");
  }
  sodium_memzero(binary, sizeof binary);
  return line;
}

inline void wipe(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

// A CURVE client with the key pair keyBase.key / keyBase.pub, talking to the server whose
// public key is in serverKeyFile. Throws std::runtime_error or zmq::error_t.
inline void makeCurveClient(zmq::socket_t& socket, const std::string& keyBase, const std::string& serverKeyFile) {
  socket.set(zmq::sockopt::linger, kLingerMs);
  socket.set(zmq::sockopt::curve_serverkey, readKey(serverKeyFile));
  socket.set(zmq::sockopt::curve_publickey, readKey(keyBase + ".pub"));
  auto secret = readKey(keyBase + ".key");
  socket.set(zmq::sockopt::curve_secretkey, secret);
  wipe(secret);
}

// A CURVE server with the secret key in keyBase.key, whose peers a ZAP handler in the
// domain kZapDomain must admit. Throws std::runtime_error or zmq::error_t.
inline void makeCurveServer(zmq::socket_t& socket, const std::string& keyBase) {
  socket.set(zmq::sockopt::linger, kLingerMs);
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
  int enforce = 1;
  if (zmq_setsockopt(socket.handle(), kZapEnforceDomain, &enforce, sizeof enforce) != 0) throw zmq::error_t();
  socket.set(zmq::sockopt::curve_server, true);
  auto secret = readKey(keyBase + ".key");
  socket.set(zmq::sockopt::curve_secretkey, secret);
  wipe(secret);
}

}  // namespace strata::bench::bare
