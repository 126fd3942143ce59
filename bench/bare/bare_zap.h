#pragma once

// The minimal ZAP handler of the bare middles (bare-forwarder, bare-event-forwarder): it
// admits the CURVE public keys listed in an authorized_keys file and nothing else. Only
// libzmq, like the rest of bench/bare/.

#include <array>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <zmq_addon.hpp>

#include "bare_common.h"

namespace strata::bench::bare {

// The binary CURVE keys of authorized_keys (the format of Strata's): one key per line,
// first word, Z85; lines starting with '#' are comments. Throws std::runtime_error when
// the file cannot be read or holds something else.
inline std::unordered_set<std::string> loadAdmitted(const std::string& path) {
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

// A REP socket bound to kZapEndpoint, before any CURVE socket of the context binds, so
// no handshake finds the domain without a handler.
inline zmq::socket_t bindZapHandler(zmq::context_t& context) {
  zmq::socket_t zap(context, zmq::socket_type::rep);
  zap.set(zmq::sockopt::linger, kLingerMs);
  zap.bind(kZapEndpoint);
  return zap;
}

// Answers one ZAP request (RFC 27) waiting on zap: 200 for a CURVE key in admitted, 400
// for anything else.
inline void answerZap(zmq::socket_t& zap, const std::unordered_set<std::string>& admitted) {
  std::vector<zmq::message_t> request;
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

}  // namespace strata::bench::bare
