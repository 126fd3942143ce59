#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include <Poco/Net/StreamSocket.h>

namespace strata::integrations::http {

// The connections that worker threads serve, and how long each has gone without a
// request in its handler. sweep() shuts down (SHUT_RDWR) one idle longer than the limit,
// which ends its blocked read, so a client that sends a request slowly, or a TLS
// handshake slowly, holds a worker for at most that long. Thread-safe. Connections are
// keyed by the peer's address, which both the connection and its request handlers see.
class ConnectionWatch {
 public:
  explicit ConnectionWatch(std::chrono::milliseconds idleLimit) : idleLimit_(idleLimit) {}

  void add(const std::string& peer, const Poco::Net::StreamSocket& socket);
  void remove(const std::string& peer);
  // A handler runs for peer from begin to end; its time does not count as idle.
  void beginRequest(const std::string& peer);
  void endRequest(const std::string& peer);

  // Shuts down the connections idle past the limit; returns how many.
  std::size_t sweep();
  // Shuts down every connection, now and any added later.
  void shutdownAll();
  std::size_t size() const;

 private:
  struct Entry {
    Poco::Net::StreamSocket socket;
    std::chrono::steady_clock::time_point idleSince;
    bool busy = false;
    bool shut = false;
  };
  static void shut(Entry& entry);

  const std::chrono::milliseconds idleLimit_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  bool closing_ = false;
};

}  // namespace strata::integrations::http
