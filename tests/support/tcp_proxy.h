#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace strata::test {

// A TCP proxy on 127.0.0.1 for partition tests: forwards every connection to upstream
// until blackHole(true), then keeps the connections open but lets no byte through in
// either direction (a silent partition, as a dropped link looks), until blackHole(false).
class TcpProxy {
 public:
  // upstream: "tcp://127.0.0.1:PORT". Throws std::runtime_error if it cannot listen.
  explicit TcpProxy(const std::string& upstream);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The endpoint to connect to instead of upstream.
  const std::string& endpoint() const { return endpoint_; }
  void blackHole(bool on) { blackHole_ = on; }

 private:
  void run();

  std::uint16_t upstreamPort_ = 0;
  int listener_ = -1;
  std::string endpoint_;
  std::atomic<bool> blackHole_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace strata::test
