#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

namespace strata::integrations::http {

// Accepts connections on one thread and hands each to dispatch only once it is worth a
// worker: with waitForHeader, when the whole request header ("\r\n\r\n") and its body
// sit in the kernel's receive buffer (seen with MSG_PEEK, nothing is consumed), so a
// client that sends its header or its body a byte at a time never holds a worker thread.
// The body it waits for is the Content-Length, or the chunks up to the last one, up to
// kBodyBytes: a larger body is dispatched once that much of it has arrived (the worker
// reads the rest under its own deadline), a body over maxBody or a framing the worker
// will refuse at once. To a request that expects 100-continue it sends 100 Continue
// before waiting. A header whose lines do
// not all end in CR LF (a bare CR or LF, a NUL) is answered 400 here and closed. A
// connection that has not sent its header and body within headerTimeout (answered 408
// when the header had arrived), sends more than
// maxHeaderBytes without one, or arrives while maxPending others wait, is closed. A
// keep-alive connection comes back through readmit() after each response, so its next
// request passes the same checks as a first one; it may wait keepAliveTimeout for the
// first byte of that request, then has headerTimeout for the rest of the header. Without
// waitForHeader (TLS, where the bytes are encrypted) connections are dispatched at once.
// tick runs on the gate's thread about every kTick, for the watchdog. Linux only (epoll).
class ConnectionGate {
 public:
  static constexpr std::chrono::milliseconds kTick{100};
  // The most of a body the gate waits for before a worker takes over.
  // Small enough that header and body fit the receive window the kernel opens before
  // anything is read (about 64 KiB on Linux by default).
  static constexpr std::size_t kBodyBytes = 16 * 1024;

  struct Options {
    bool waitForHeader = true;
    std::chrono::milliseconds headerTimeout{0};
    std::size_t maxHeaderBytes = 0;
    std::size_t maxPending = 0;
    std::chrono::milliseconds keepAliveTimeout{0};
    std::size_t maxBody = 0;  // a body declared larger is dispatched at once, to be refused
  };
  using Dispatch = std::function<void(const Poco::Net::StreamSocket&)>;
  using Tick = std::function<void()>;

  // Takes a bound, listening socket. Throws SystemError when epoll cannot be set up.
  ConnectionGate(Poco::Net::ServerSocket listener, Options options, Dispatch dispatch, Tick tick);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // Stops accepting and closes the connections still waiting; idempotent.
  void stop();

  // Takes back a keep-alive connection whose response has been sent and that holds no
  // bytes read ahead, after served requests on it; it is dispatched again once its next
  // header has arrived whole. Any thread may call it; after stop() the socket is just
  // let go (it closes with its last copy).
  void readmit(const Poco::Net::StreamSocket& socket, int served);
  // How many requests the connection on fd had served before this dispatch (0 for a new
  // connection); forgets it. Any thread.
  int takeServed(int fd);

 private:
  struct Pending {
    Poco::Net::StreamSocket socket;
    std::chrono::steady_clock::time_point deadline;
    bool idle = false;  // readmitted, and no byte of its next request seen yet
    int served = 0;
    bool continued = false;  // 100 Continue sent for the request it is sending
    bool headerSeen = false;  // its header has arrived, its body has not: late, it gets 408
  };
  struct HandedBack {
    Poco::Net::StreamSocket socket;
    int served = 0;
  };
  void run();
  void acceptAll();
  void takeHandedBack();
  void inspect(int fd);
  // Whether the request's body (all of it, or kBodyBytes) has arrived after its header;
  // sends 100 Continue when the client waits for it.
  bool bodyArrived(std::string_view header, std::string_view body, Pending& pending);
  void drop(int fd);
  void expire();

  Poco::Net::ServerSocket listener_;
  Options options_;
  Dispatch dispatch_;
  Tick tick_;
  int epoll_ = -1;
  int wake_ = -1;      // an eventfd that stop() writes
  int handBack_ = -1;  // an eventfd that readmit() writes
  std::map<int, Pending> pending_;  // the gate's thread only
  std::vector<char> peekBuffer_;     // the gate's thread only: header and kBodyBytes
  std::mutex mutex_;                // guards the three below
  std::vector<HandedBack> handedBack_;
  std::map<int, int> served_;  // fd -> requests served, for connections dispatched again
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace strata::integrations::http
