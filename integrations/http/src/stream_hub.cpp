#include "stream_hub.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <strata/core/errors.h>

namespace strata::integrations::http {

namespace {

constexpr int kMaxEvents = 64;
constexpr std::string_view kKeepAlive = ": keep-alive\n\n";
// How often the thread looks for quiet streams when nothing else wakes it.
constexpr std::chrono::milliseconds kSweep{1000};

using Clock = std::chrono::steady_clock;

}  // namespace

struct Stream::Core {
  struct Open {
    std::uint64_t serial = 0;  // a Stream outlives its fd, which the system reuses
    Poco::Net::StreamSocket socket;
    bool tls = false;
    std::deque<std::string> out;  // a chunk never moves once queued (TLS retries need it)
    std::size_t offset = 0;       // of out.front() already written (plain sockets)
    std::size_t queued = 0;
    bool closing = false;         // close once out is written
    bool wantOut = false;         // EPOLLOUT registered
    Clock::time_point lastWrite;
    std::function<void()> onClose;
  };

  StreamHub::Options options;
  int epoll = -1;
  int wake = -1;
  mutable std::mutex mutex;  // guards everything below
  std::map<int, Open> open;
  std::set<int> dirty;  // streams with something new to write or to close
  std::multimap<Clock::time_point, std::function<void()>> timers;
  std::uint64_t serials = 0;
  bool stopping = false;
  std::thread thread;

  ~Core() {
    if (epoll >= 0) ::close(epoll);
    if (wake >= 0) ::close(wake);
  }

  void poke() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake, &one, sizeof one);
  }

  void run();
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  // Each with mutex held; closed streams' onClose go to ended, run after unlocking.
  void flush(int fd, Open& stream, std::vector<std::function<void()>>& ended);
  void end(int fd, std::vector<std::function<void()>>& ended);
  void keepAlive(Clock::time_point now, std::vector<std::function<void()>>& ended);
  Open* find(int fd, std::uint64_t serial) {
    auto it = open.find(fd);
    return it == open.end() || it->second.serial != serial ? nullptr : &it->second;
  }
};

bool Stream::send(std::string text) {
  {
    std::lock_guard lock(core_->mutex);
    auto* found = core_->find(fd_, serial_);
    if (found == nullptr || found->closing) return false;
    auto& stream = *found;
    if (stream.queued + text.size() > core_->options.maxQueuedBytes) {
      // Too slow a reader: dropped now, it resumes from its Last-Event-ID.
      stream.out.clear();
      stream.offset = 0;
      stream.queued = 0;
      stream.closing = true;
    } else {
      stream.queued += text.size();
      stream.out.push_back(std::move(text));
    }
    core_->dirty.insert(fd_);
  }
  core_->poke();
  return true;
}

void Stream::close() {
  {
    std::lock_guard lock(core_->mutex);
    auto* found = core_->find(fd_, serial_);
    if (found == nullptr || found->closing) return;
    found->closing = true;
    core_->dirty.insert(fd_);
  }
  core_->poke();
}

bool Stream::closed() const {
  std::lock_guard lock(core_->mutex);
  auto* found = core_->find(fd_, serial_);
  return found == nullptr || found->closing;
}

StreamHub::StreamHub(Options options) : core_(std::make_shared<Stream::Core>()) {
  auto& c = *core_;
  c.options = options;
  c.epoll = ::epoll_create1(EPOLL_CLOEXEC);
  c.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (c.epoll < 0 || c.wake < 0) {
    throw SystemError(std::string("cannot set up the http gateway's stream poller: ") + std::strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = c.wake;
  if (::epoll_ctl(c.epoll, EPOLL_CTL_ADD, c.wake, &event) != 0) {
    throw SystemError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  c.thread = std::thread([core = core_] { core->run(); });
}

StreamHub::~StreamHub() { stop(); }

std::shared_ptr<Stream> StreamHub::adopt(const Poco::Net::StreamSocket& socket, bool tls, std::string head,
                                         std::function<void()> onClose) {
  auto& c = *core_;
  int fd = socket.impl()->sockfd();
  std::uint64_t serial = 0;
  {
    std::lock_guard lock(c.mutex);
    if (c.stopping || c.open.size() >= c.options.maxStreams || c.open.count(fd) > 0) return nullptr;
    Poco::Net::StreamSocket held(socket);
    held.setBlocking(false);
    epoll_event event{};
    event.events = EPOLLRDHUP;  // no EPOLLIN: a stream's client has nothing more to say
    event.data.fd = fd;
    if (::epoll_ctl(c.epoll, EPOLL_CTL_ADD, fd, &event) != 0) return nullptr;
    auto& stream = c.open[fd];
    stream.serial = serial = ++c.serials;
    stream.socket = std::move(held);
    stream.tls = tls;
    stream.queued = head.size();
    stream.out.push_back(std::move(head));
    stream.lastWrite = Clock::now();
    stream.onClose = std::move(onClose);
    c.dirty.insert(fd);
  }
  c.poke();
  return std::shared_ptr<Stream>(new Stream(core_, fd, serial));
}

void Stream::Core::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    std::lock_guard lock(mutex);
    if (stopping) return;
    timers.emplace(Clock::now() + delay, std::move(fn));
  }
  poke();
}

void Stream::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  core_->schedule(delay, std::move(fn));
}

void StreamHub::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  core_->schedule(delay, std::move(fn));
}

std::size_t StreamHub::size() const {
  std::lock_guard lock(core_->mutex);
  return core_->open.size();
}

void StreamHub::stop() {
  {
    std::lock_guard lock(core_->mutex);
    if (core_->stopping) return;
    core_->stopping = true;
  }
  core_->poke();
  if (core_->thread.joinable()) core_->thread.join();
}

void Stream::Core::run() {
  std::vector<epoll_event> events(kMaxEvents);
  // The keep-alive walk visits every stream: once per kSweep, not on every wake (a busy
  // hub wakes for each event it relays).
  auto nextSweep = Clock::now();
  for (;;) {
    int timeout = static_cast<int>(kSweep.count());
    {
      std::lock_guard lock(mutex);
      if (!timers.empty()) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(timers.begin()->first - Clock::now());
        timeout = static_cast<int>(std::clamp<long long>(wait.count(), 0, timeout));
      }
    }
    int n = ::epoll_wait(epoll, events.data(), kMaxEvents, timeout);
    std::vector<std::function<void()>> ended;
    std::vector<std::function<void()>> due;
    bool stop = false;
    {
      std::lock_guard lock(mutex);
      for (int i = 0; i < n; ++i) {
        int fd = events[static_cast<std::size_t>(i)].data.fd;
        auto what = events[static_cast<std::size_t>(i)].events;
        if (fd == wake) {
          std::uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(wake, &count, sizeof count);
          continue;
        }
        auto it = open.find(fd);
        if (it == open.end()) continue;
        if ((what & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) {
          end(fd, ended);
        } else if ((what & EPOLLOUT) != 0) {
          flush(fd, it->second, ended);
        }
      }
      auto pending = std::move(dirty);
      dirty.clear();
      for (int fd : pending) {
        auto it = open.find(fd);
        if (it != open.end()) flush(fd, it->second, ended);
      }
      auto now = Clock::now();
      if (now >= nextSweep) {
        keepAlive(now, ended);
        nextSweep = now + kSweep;
      }
      while (!timers.empty() && timers.begin()->first <= now) {
        due.push_back(std::move(timers.begin()->second));
        timers.erase(timers.begin());
      }
      if (stopping) {
        stop = true;
        std::vector<int> fds;
        for (const auto& [fd, _] : open) fds.push_back(fd);
        for (int fd : fds) end(fd, ended);
        timers.clear();
        due.clear();
      }
    }
    for (auto& fn : ended) {
      if (fn) fn();
    }
    for (auto& fn : due) fn();
    if (stop) return;
  }
}

void Stream::Core::flush(int fd, Open& stream, std::vector<std::function<void()>>& ended) {
  while (!stream.out.empty()) {
    const auto& chunk = stream.out.front();
    int written = 0;
    if (stream.tls) {
      try {
        written = stream.socket.sendBytes(chunk.data(), static_cast<int>(chunk.size()));
      } catch (const Poco::Exception&) {
        end(fd, ended);
        return;
      }
      if (written == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE ||
          written == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ) {
        written = -1;
        errno = EAGAIN;
      }
    } else {
      written = static_cast<int>(::send(fd, chunk.data() + stream.offset, chunk.size() - stream.offset,
                                        MSG_NOSIGNAL | MSG_DONTWAIT));
    }
    if (written < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        if (!stream.wantOut) {
          epoll_event event{};
          event.events = EPOLLRDHUP | EPOLLOUT;
          event.data.fd = fd;
          ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
          stream.wantOut = true;
        }
        return;
      }
      end(fd, ended);
      return;
    }
    stream.lastWrite = Clock::now();
    if (stream.tls) {
      stream.offset = chunk.size();  // TLS writes a whole chunk or nothing
    } else {
      stream.offset += static_cast<std::size_t>(written);
    }
    if (stream.offset < chunk.size()) continue;
    stream.queued -= chunk.size();
    stream.offset = 0;
    stream.out.pop_front();
  }
  if (stream.closing) {
    end(fd, ended);
    return;
  }
  if (stream.wantOut) {
    epoll_event event{};
    event.events = EPOLLRDHUP;
    event.data.fd = fd;
    ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
    stream.wantOut = false;
  }
}

void Stream::Core::end(int fd, std::vector<std::function<void()>>& ended) {
  auto it = open.find(fd);
  if (it == open.end()) return;
  ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
  try {
    it->second.socket.close();
  } catch (const Poco::Exception&) {
    // Closing what the client already closed.
  }
  ended.push_back(std::move(it->second.onClose));
  open.erase(it);
  dirty.erase(fd);
}

void Stream::Core::keepAlive(Clock::time_point now, std::vector<std::function<void()>>& ended) {
  std::vector<int> quiet;
  for (const auto& [fd, stream] : open) {
    if (stream.out.empty() && !stream.closing && now - stream.lastWrite >= options.keepAlive) quiet.push_back(fd);
  }
  for (int fd : quiet) {
    auto& stream = open[fd];
    stream.out.emplace_back(kKeepAlive);
    stream.queued += kKeepAlive.size();
    flush(fd, stream, ended);
  }
}

}  // namespace strata::integrations::http
