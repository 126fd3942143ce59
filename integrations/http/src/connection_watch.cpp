#include "connection_watch.h"

#include <sys/socket.h>

namespace strata::integrations::http {

void ConnectionWatch::shut(Entry& entry) {
  if (entry.shut) return;
  entry.shut = true;
  // shutdown(2) and not close: the worker still owns the descriptor, and its blocked
  // read returns at once.
  ::shutdown(entry.socket.impl()->sockfd(), SHUT_RDWR);
}

void ConnectionWatch::add(const std::string& peer, const Poco::Net::StreamSocket& socket) {
  std::lock_guard lock(mutex_);
  auto& entry = entries_[peer];
  entry = Entry{socket, std::chrono::steady_clock::now(), false, false};
  if (closing_) shut(entry);
}

void ConnectionWatch::remove(const std::string& peer) {
  std::lock_guard lock(mutex_);
  entries_.erase(peer);
}

void ConnectionWatch::beginRequest(const std::string& peer) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(peer); it != entries_.end()) it->second.busy = true;
}

void ConnectionWatch::endRequest(const std::string& peer) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(peer); it != entries_.end()) {
    it->second.busy = false;
    it->second.idleSince = std::chrono::steady_clock::now();
  }
}

std::size_t ConnectionWatch::sweep() {
  auto now = std::chrono::steady_clock::now();
  std::size_t count = 0;
  std::lock_guard lock(mutex_);
  for (auto& [peer, entry] : entries_) {
    if (!entry.busy && !entry.shut && now - entry.idleSince > idleLimit_) {
      shut(entry);
      ++count;
    }
  }
  return count;
}

void ConnectionWatch::shutdownAll() {
  std::lock_guard lock(mutex_);
  closing_ = true;
  for (auto& [peer, entry] : entries_) shut(entry);
}

std::size_t ConnectionWatch::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace strata::integrations::http
