#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <Poco/Net/StreamSocket.h>

namespace strata::integrations::http {

class StreamHub;

// One response that lasts (a Server-Sent Events stream), written by the hub's thread.
// send() queues text from any thread and never blocks; a stream whose client reads
// slower than it is fed (more than maxQueuedBytes waiting) is closed, and its client
// resumes from its Last-Event-ID on a new connection.
class Stream {
 public:
  // False once the stream is closed (the text is dropped).
  bool send(std::string text);
  // Closes it; onClose runs on the hub's thread. Idempotent.
  void close();
  bool closed() const;
  // Runs fn on the hub's thread after delay, unless the hub stops first. Any thread.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);

  struct Core;

 private:
  friend class StreamHub;
  Stream(std::shared_ptr<Core> core, int fd, std::uint64_t serial)
      : core_(std::move(core)), fd_(fd), serial_(serial) {}
  std::shared_ptr<Core> core_;
  int fd_;
  std::uint64_t serial_;
};

// Holds every open stream on one thread (epoll), so a stream holds no request thread:
// thousands stay open while the gateway's workers answer ordinary requests. The thread
// writes what streams queue, a keep-alive comment to any stream quiet for keepAlive, and
// notices clients that hang up. It also runs timers (after()). Linux only.
class StreamHub {
 public:
  struct Options {
    std::size_t maxStreams = 4096;
    std::size_t maxQueuedBytes = 1024 * 1024;
    std::chrono::milliseconds keepAlive{15000};
  };

  // Throws SystemError when epoll cannot be set up.
  explicit StreamHub(Options options);
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Takes a connection whose request has been read (plain or TLS-wrapped) and starts its
  // response with head. onClose runs once on the hub's thread when the stream ends, for
  // whatever reason. Returns null when maxStreams are open or the hub has stopped; the
  // socket is then the caller's still.
  std::shared_ptr<Stream> adopt(const Poco::Net::StreamSocket& socket, bool tls, std::string head,
                                std::function<void()> onClose);
  // Runs fn on the hub's thread after delay (dropped if the hub stops first). Any thread.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);
  std::size_t size() const;
  // Closes every stream and stops the thread; idempotent.
  void stop();

 private:
  std::shared_ptr<Stream::Core> core_;
};

}  // namespace strata::integrations::http
