#include "connection_gate.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/String.h>

#include <strata/core/errors.h>
#include <strata/core/whole_number.h>

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
// Sent to a connection whose header arrived but whose body did not within the deadline.
constexpr std::string_view kRequestTimeout =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: 64\r\nConnection: close\r\n\r\n"
    "{\"error\":\"request_timeout\",\"message\":\"the body came too slowly\"}";
static_assert(kRequestTimeout.size() - kRequestTimeout.find("\r\n\r\n") - 4 == 64, "Content-Length of kRequestTimeout");

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

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Poco's compare takes the view as it is: no copy per header line.
bool isNamed(std::string_view text, const char* name) { return Poco::icompare(text, name) == 0; }

std::string trimmed(std::string_view text) { return Poco::trim(std::string(text)); }

// What a request header says of the body after it. kAtOnce: nothing to wait for (no body,
// or a framing the worker refuses before reading any of it).
struct BodyFraming {
  enum class Kind { kAtOnce, kLength, kChunked };
  Kind kind = Kind::kAtOnce;
  std::size_t length = 0;
  bool expectContinue = false;
};

// header: the request line and header lines, each ending in CR LF (wellFramed).
BodyFraming framingOf(std::string_view header) {
  BodyFraming out;
  int lengths = 0;
  int encodings = 0;
  bool chunked = false;
  std::optional<long long> length;
  std::size_t pos = header.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < header.size()) {
    pos += 2;
    auto end = header.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    auto line = header.substr(pos, end - pos);
    pos = end;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon);
    auto value = trimmed(line.substr(colon + 1));
    if (isNamed(name, "Content-Length")) {
      ++lengths;
      length = core::parseWholeNumber(value, 0, std::numeric_limits<long long>::max());
    } else if (isNamed(name, "Transfer-Encoding")) {
      ++encodings;
      chunked = isNamed(value, "chunked");
    } else if (isNamed(name, "Expect")) {
      out.expectContinue = isNamed(value, "100-continue");
    }
  }
  if (encodings == 1 && chunked && lengths == 0) {
    out.kind = BodyFraming::Kind::kChunked;
  } else if (encodings == 0 && lengths == 1 && length && *length > 0) {
    out.kind = BodyFraming::Kind::kLength;
    out.length = static_cast<std::size_t>(*length);
  }
  return out;
}

// Whether a chunked body (RFC 9112 7.1) is all in bytes: its chunks, the last chunk and
// the trailer section. A malformed one counts as complete: the worker refuses it.
bool chunkedBodyComplete(std::string_view bytes) {
  std::size_t pos = 0;
  while (true) {
    auto lineEnd = bytes.find("\r\n", pos);
    if (lineEnd == std::string_view::npos) return false;
    auto line = bytes.substr(pos, lineEnd - pos);
    const std::string sizeText = trimmed(line.substr(0, line.find(';')));
    std::size_t size = 0;
    auto [end, error] = std::from_chars(sizeText.data(), sizeText.data() + sizeText.size(), size, 16);
    if (sizeText.empty() || error != std::errc() || end != sizeText.data() + sizeText.size()) return true;
    pos = lineEnd + 2;
    if (size == 0) {
      while (true) {  // trailer lines, then the empty line
        auto trailerEnd = bytes.find("\r\n", pos);
        if (trailerEnd == std::string_view::npos) return false;
        if (trailerEnd == pos) return true;
        pos = trailerEnd + 2;
      }
    }
    if (size > bytes.size() || bytes.size() - pos < size + 2) return false;
    pos += size + 2;
  }
}

bool tryAddToEpoll(int epoll, int fd, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

void addToEpoll(int epoll, int fd, std::uint32_t events) {
  if (!tryAddToEpoll(epoll, fd, events)) throw SystemError(std::string("epoll_ctl: ") + std::strerror(errno));
}

// Edge-triggered: one event per arrival of new bytes, not one per loop while they wait.
constexpr std::uint32_t kConnectionEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;

}  // namespace

ConnectionGate::ConnectionGate(Poco::Net::ServerSocket listener, Options options, Dispatch dispatch, Tick tick)
    : listener_(std::move(listener)), options_(options), dispatch_(std::move(dispatch)), tick_(std::move(tick)) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  handBack_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_ < 0 || wake_ < 0 || handBack_ < 0) {
    for (int fd : {epoll_, wake_, handBack_}) {
      if (fd >= 0) ::close(fd);
    }
    throw SystemError(std::string("cannot set up the http gateway's poller: ") + std::strerror(errno));
  }
  peekBuffer_.resize(options_.maxHeaderBytes + kBodyBytes);
  listener_.setBlocking(false);
  addToEpoll(epoll_, listener_.impl()->sockfd(), EPOLLIN);
  addToEpoll(epoll_, wake_, EPOLLIN);
  addToEpoll(epoll_, handBack_, EPOLLIN);
  thread_ = std::thread([this] { run(); });
}

ConnectionGate::~ConnectionGate() {
  stop();
  ::close(epoll_);
  ::close(wake_);
  ::close(handBack_);
}

void ConnectionGate::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    handedBack_.clear();
  }
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
      } else if (fd == handBack_) {
        takeHandedBack();
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
    {
      std::lock_guard lock(mutex_);
      served_.erase(fd);  // left by an earlier connection on this descriptor number
    }
    if (pending_.size() >= options_.maxPending) continue;  // socket closes as it goes
    pending_.emplace(fd, Pending{socket, std::chrono::steady_clock::now() + options_.headerTimeout, false, 0});
    addToEpoll(epoll_, fd, kConnectionEvents);
  }
}

void ConnectionGate::readmit(const Poco::Net::StreamSocket& socket, int served) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  handedBack_.push_back(HandedBack{socket, served});
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(handBack_, &one, sizeof one);
}

int ConnectionGate::takeServed(int fd) {
  std::lock_guard lock(mutex_);
  auto it = served_.find(fd);
  if (it == served_.end()) return 0;
  int served = it->second;
  served_.erase(it);
  return served;
}

void ConnectionGate::takeHandedBack() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto got = ::read(handBack_, &count, sizeof count);
  std::vector<HandedBack> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(handedBack_);
  }
  auto deadline = std::chrono::steady_clock::now() + options_.keepAliveTimeout;
  for (auto& item : batch) {
    int fd = item.socket.impl()->sockfd();
    if (fd < 0 || pending_.size() >= options_.maxPending || pending_.count(fd) != 0) continue;  // closes
    item.socket.setBlocking(false);
    pending_.emplace(fd, Pending{item.socket, deadline, true, item.served});
    if (!tryAddToEpoll(epoll_, fd, kConnectionEvents)) {
      pending_.erase(fd);
      continue;
    }
    inspect(fd);  // the next request may have arrived while the worker finished
  }
}

void ConnectionGate::inspect(int fd) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  auto n = ::recv(fd, peekBuffer_.data(), peekBuffer_.size(), MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    drop(fd);  // closed or failed before a request
    return;
  }
  if (it->second.idle) {
    // The next request has begun: from here it has the time a first request has.
    it->second.idle = false;
    it->second.deadline = std::chrono::steady_clock::now() + options_.headerTimeout;
  }
  std::string_view seen(peekBuffer_.data(), static_cast<std::size_t>(n));
  std::string_view headerPart = seen.substr(0, options_.maxHeaderBytes);
  auto end = std::min(headerPart.find(kHeaderEnd), headerPart.find(kBareHeaderEnd));
  if (end == std::string_view::npos) {
    if (headerPart.size() >= options_.maxHeaderBytes) drop(fd);
    return;
  }
  auto headerEnd = seen.substr(end).starts_with(kHeaderEnd) ? end + kHeaderEnd.size() : end + kBareHeaderEnd.size();
  if (!wellFramed(seen.substr(0, headerEnd))) {
    [[maybe_unused]] auto sent = ::send(fd, kBadRequest.data(), kBadRequest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    drop(fd);
    return;
  }
  if (!bodyArrived(seen.substr(0, headerEnd), seen.substr(headerEnd), it->second)) {
    it->second.headerSeen = true;
    return;
  }
  auto socket = it->second.socket;
  if (it->second.served > 0) {
    std::lock_guard lock(mutex_);
    served_[fd] = it->second.served;
  }
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  pending_.erase(it);
  socket.setBlocking(true);
  dispatch_(socket);
}

bool ConnectionGate::bodyArrived(std::string_view header, std::string_view body, Pending& pending) {
  auto framing = framingOf(header);
  bool arrived = true;
  if (framing.kind == BodyFraming::Kind::kLength && framing.length <= options_.maxBody) {
    arrived = body.size() >= std::min(framing.length, kBodyBytes);
  } else if (framing.kind == BodyFraming::Kind::kChunked) {
    arrived = body.size() >= kBodyBytes || chunkedBodyComplete(body);
  }
  if (!arrived && framing.expectContinue && !pending.continued && body.empty()) {
    // The client waits for this before it sends the body the gate waits for.
    pending.continued = true;
    [[maybe_unused]] auto sent = ::send(pending.socket.impl()->sockfd(), kContinue.data(), kContinue.size(),
                                        MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  return arrived;
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
  for (int fd : late) {
    if (pending_.at(fd).headerSeen) {
      [[maybe_unused]] auto sent =
          ::send(fd, kRequestTimeout.data(), kRequestTimeout.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    drop(fd);
  }
}

}  // namespace strata::integrations::http
