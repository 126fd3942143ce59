#include "session_table.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include <strata/core/message_id.h>

namespace strata::integrations::http {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kIdLength = 43;  // 256 bits at 6 bits a character, rounded up

}  // namespace

std::string SessionTable::open(const Principal& principal) {
  std::string id;
  id.reserve(kIdLength);
  std::uint64_t word = 0;
  int bits = 0;
  while (id.size() < kIdLength) {
    if (bits < 6) {
      word = core::randomWord();  // libsodium's randombytes
      bits = 64;
    }
    id.push_back(kAlphabet[word & 63u]);
    word >>= 6;
    bits -= 6;
  }
  auto now = Clock::now();
  std::lock_guard lock(mutex_);
  expire(now);
  while (sessions_.size() >= max_) {
    auto soonest = std::min_element(sessions_.begin(), sessions_.end(),
                                    [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    sessions_.erase(soonest);
  }
  sessions_[id] = Entry{principal, now + ttl_};
  return id;
}

std::optional<Principal> SessionTable::find(std::string_view id) {
  if (id.size() != kIdLength) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= Clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void SessionTable::close(std::string_view id) {
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

void SessionTable::expire(Clock::time_point now) {
  std::erase_if(sessions_, [now](const auto& entry) { return entry.second.expires <= now; });
}

}  // namespace strata::integrations::http
