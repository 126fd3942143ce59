#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <zmq.hpp>

#include <strata/core/authorized_keys.h>

namespace strata::core {

// The answer to one ZAP request (RFC 27), kept pure so it can be tested without sockets.
struct ZapDecision {
  std::string statusCode;  // "200", "400", "500"
  std::string statusText;
  std::string userId;      // the peer's name; the broker reads it from every message
};

// Accepts only the CURVE mechanism with a key in keys.
ZapDecision decideZap(const AuthorizedKeys& keys, std::string_view domain, std::string_view mechanism,
                      std::string_view clientKeyBinary);

// The ZAP handler of one zmq context, on a thread of its own. The constructor returns
// only once the handler is bound, so construct it before any socket binds. Every
// decision is logged (names, never keys' secrets).
class ZapServer {
 public:
  ZapServer(zmq::context_t& context, std::shared_ptr<const AuthorizedKeys> keys);
  ~ZapServer();
  ZapServer(const ZapServer&) = delete;
  ZapServer& operator=(const ZapServer&) = delete;

  std::uint64_t accepted() const { return accepted_.load(); }
  std::uint64_t refused() const { return refused_.load(); }

 private:
  void run(zmq::socket_t& socket, zmq::socket_t& control);

  zmq::context_t& context_;
  std::shared_ptr<const AuthorizedKeys> keys_;
  std::string controlEndpoint_;
  std::unique_ptr<zmq::socket_t> stop_;
  std::thread thread_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace strata::core
