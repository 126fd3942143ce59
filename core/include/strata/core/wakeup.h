#pragma once

namespace strata::core {

// An eventfd that other threads signal to wake an event loop blocked in zmq_poll.
// signal() may be called from any thread; fd() and drain() belong to the loop.
class Wakeup {
 public:
  Wakeup();
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  int fd() const { return fd_; }
  void signal() noexcept;
  void drain() noexcept;

 private:
  int fd_;
};

}  // namespace strata::core
