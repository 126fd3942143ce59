#include "connection_gate.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include <Poco/Net/StreamSocketImpl.h>

#include <strata/core/errors.h>

namespace strata::integrations::http {

namespace {

constexpr int kMaxEvents = 64;
constexpr std::string_view kHeaderEnd = "\r\n\r\n";
constexpr std::string_view kBareHeaderEnd = "\n\n";
// Sent, without waiting, to a connection whose header is refused before any worker sees it.
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 64\r\nConnection: close\r\n\r\n"
    "{\"error\":\"malformed\",\"message\":\"header lines must end in CR LF\"}";
static_assert(kBadRequest.size() - kBadRequest.find("\r\n\r\n") - 4 == 64, "Content-Length of kBadRequest");

// True when every line of header ends in CR LF, with no bare CR, bare LF or NUL: a header
// that two parsers could split into different lines (request smuggling) is refused.
bool wellFramed(std::string_view header) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    char c = header[i];
    if (c == '\0') return false;
    if (c == '\n' && (i == 0 || header[i - 1] != '\r')) return false;
    if (c == '\r' && (i + 1 == header.size() || header[i + 1] != '\n')) return false;
  }
  return true;
}

void addToEpoll(int epoll, int fd, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
    throw SystemError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

}  // namespace

ConnectionGate::ConnectionGate(Poco::Net::ServerSocket listener, Options options, Dispatch dispatch, Tick tick)
    : listener_(std::move(listener)), options_(options), dispatch_(std::move(dispatch)), tick_(std::move(tick)) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_ < 0 || wake_ < 0) {
    if (epoll_ >= 0) ::close(epoll_);
    if (wake_ >= 0) ::close(wake_);
    throw SystemError(std::string("cannot set up the http gateway's poller: ") + std::strerror(errno));
  }
  listener_.setBlocking(false);
  addToEpoll(epoll_, listener_.impl()->sockfd(), EPOLLIN);
  addToEpoll(epoll_, wake_, EPOLLIN);
  thread_ = std::thread([this] { run(); });
}

ConnectionGate::~ConnectionGate() {
  stop();
  ::close(epoll_);
  ::close(wake_);
}

void ConnectionGate::stop() {
  if (!thread_.joinable()) return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_, &one, sizeof one);
  thread_.join();
  pending_.clear();
  listener_.close();
}

void ConnectionGate::run() {
  std::array<epoll_event, kMaxEvents> events{};
  while (true) {
    int n = ::epoll_wait(epoll_, events.data(), kMaxEvents, static_cast<int>(kTick.count()));
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == wake_) return;
      if (fd == listener_.impl()->sockfd()) {
        acceptAll();
      } else {
        inspect(fd);
      }
    }
    expire();
    if (tick_) tick_();
  }
}

void ConnectionGate::acceptAll() {
  while (true) {
    int fd = ::accept4(listener_.impl()->sockfd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: all taken; anything else: the next event retries
    Poco::Net::StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
    if (!options_.waitForHeader) {
      socket.setBlocking(true);
      dispatch_(socket);
      continue;
    }
    if (pending_.size() >= options_.maxPending) continue;  // socket closes as it goes
    pending_.emplace(fd, Pending{socket, std::chrono::steady_clock::now() + options_.headerTimeout});
    // Edge-triggered: one event per arrival of new bytes, not one per loop while they wait.
    addToEpoll(epoll_, fd, EPOLLIN | EPOLLRDHUP | EPOLLET);
  }
}

void ConnectionGate::inspect(int fd) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  std::vector<char> buffer(options_.maxHeaderBytes);
  auto n = ::recv(fd, buffer.data(), buffer.size(), MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    drop(fd);  // closed or failed before a request
    return;
  }
  std::string_view seen(buffer.data(), static_cast<std::size_t>(n));
  auto end = std::min(seen.find(kHeaderEnd), seen.find(kBareHeaderEnd));
  if (end != std::string_view::npos) {
    auto headerEnd = seen.substr(end).starts_with(kHeaderEnd) ? end + kHeaderEnd.size() : end + kBareHeaderEnd.size();
    if (!wellFramed(seen.substr(0, headerEnd))) {
      [[maybe_unused]] auto sent = ::send(fd, kBadRequest.data(), kBadRequest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      drop(fd);
      return;
    }
    auto socket = it->second.socket;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    pending_.erase(it);
    socket.setBlocking(true);
    dispatch_(socket);
    return;
  }
  if (static_cast<std::size_t>(n) >= options_.maxHeaderBytes) drop(fd);
}

void ConnectionGate::drop(int fd) {
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  pending_.erase(fd);  // the last StreamSocket copy closes the descriptor
}

void ConnectionGate::expire() {
  auto now = std::chrono::steady_clock::now();
  std::vector<int> late;
  for (const auto& [fd, pending] : pending_) {
    if (now >= pending.deadline) late.push_back(fd);
  }
  for (int fd : late) drop(fd);
}

}  // namespace strata::integrations::http
