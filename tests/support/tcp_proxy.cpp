#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace strata::test {

namespace {

constexpr int kPollMs = 20;
constexpr std::size_t kBuffer = 64 * 1024;

int connectTo(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TcpProxy::TcpProxy(const std::string& upstream) {
  upstreamPort_ = static_cast<std::uint16_t>(std::stoi(upstream.substr(upstream.rfind(':') + 1)));
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 16) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    ::close(listener_);
    throw std::runtime_error("proxy cannot listen");
  }
  endpoint_ = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

void TcpProxy::run() {
  struct Pair {
    int down;
    int up;
  };
  std::vector<Pair> pairs;
  std::vector<char> buffer(kBuffer);
  while (!stop_) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.down, POLLIN, 0});
      fds.push_back({p.up, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), kPollMs) <= 0) continue;
    std::vector<Pair> alive;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      bool open = true;
      for (int side = 0; side < 2 && open; ++side) {
        const auto& fd = fds[1 + 2 * i + side];
        if (!(fd.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int from = side == 0 ? pairs[i].down : pairs[i].up;
        int to = side == 0 ? pairs[i].up : pairs[i].down;
        auto n = ::read(from, buffer.data(), buffer.size());
        if (n <= 0) {
          open = false;
        } else if (!blackHole_) {
          // Bytes read during a black hole are dropped, as a lost link loses them.
          [[maybe_unused]] auto w = ::write(to, buffer.data(), static_cast<std::size_t>(n));
        }
      }
      if (open) {
        alive.push_back(pairs[i]);
      } else {
        ::close(pairs[i].down);
        ::close(pairs[i].up);
      }
    }
    pairs.swap(alive);
    // Accept only after the polled pairs are served: fds has entries for those alone.
    if (fds[0].revents & POLLIN) {
      int down = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      int up = down >= 0 ? connectTo(upstreamPort_) : -1;
      if (up >= 0) {
        pairs.push_back({down, up});
      } else if (down >= 0) {
        ::close(down);
      }
    }
  }
  for (const auto& p : pairs) {
    ::close(p.down);
    ::close(p.up);
  }
}

}  // namespace strata::test
