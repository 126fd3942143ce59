#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <zmq.hpp>

#include <strata/core/authorized_keys.h>

namespace strata::core {

// The answer to one ZAP request (RFC 27), kept pure so it can be tested without sockets.
struct ZapDecision {
  std::string statusCode;  // "200", "300", "400", "500"
  std::string statusText;
  // The peer's public key (Z85), which libzmq hands with every message as its User-Id.
  // The key, not the name: a reload that gives a name a new key must tell the old key's
  // open connections from the new one's.
  std::string userId;
  std::string name;  // for logs
};

// Accepts only the CURVE mechanism with a key in keys.
ZapDecision decideZap(const AuthorizedKeys& keys, std::string_view domain, std::string_view mechanism,
                      std::string_view clientKeyBinary);

// Handshakes as the ZAP handler decided them, by outcome.
struct ZapCounts {
  std::uint64_t accepted = 0;
  std::uint64_t unknownKey = 0;  // a well-formed CURVE handshake with a key not listed
  std::uint64_t full = 0;        // refused at the connection cap
  std::uint64_t malformed = 0;   // another mechanism, domain or a broken request
};

// The ZAP handler of one zmq context, on a thread of its own. The constructor returns
// only once the handler is bound, so construct it before any socket binds. Every
// decision is logged (names, never keys' secrets).
class ZapServer {
 public:
  ZapServer(zmq::context_t& context, std::shared_ptr<const AuthorizedKeys> keys);
  ~ZapServer();
  ZapServer(const ZapServer&) = delete;
  ZapServer& operator=(const ZapServer&) = delete;

  // Every handshake from now on is checked against keys. Any thread.
  void replaceKeys(std::shared_ptr<const AuthorizedKeys> keys);
  // With max > 0, a handshake is refused (status 300) while more than max connections are
  // open, this one included; the socket's owner reports open ones. Any thread.
  void limitConnections(std::size_t max) { maxConnections_ = max; }
  void setOpenConnections(std::size_t open) { openConnections_ = open; }

  ZapCounts counts() const;
  std::uint64_t accepted() const { return accepted_.load(); }
  std::uint64_t refused() const { return unknownKey_.load() + full_.load() + malformed_.load(); }

 private:
  void run(zmq::socket_t& socket, zmq::socket_t& control);
  std::shared_ptr<const AuthorizedKeys> keys() const;

  zmq::context_t& context_;
  mutable std::mutex keysMutex_;
  std::shared_ptr<const AuthorizedKeys> keys_;
  std::string controlEndpoint_;
  std::unique_ptr<zmq::socket_t> stop_;
  std::thread thread_;
  std::atomic<std::size_t> maxConnections_{0};
  std::atomic<std::size_t> openConnections_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> unknownKey_{0};
  std::atomic<std::uint64_t> full_{0};
  std::atomic<std::uint64_t> malformed_{0};
};

}  // namespace strata::core
