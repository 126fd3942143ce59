#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <strata/integrations/http/token_table.h>

namespace strata::integrations::http {

// Browser sessions: what an EventSource, which cannot send an Authorization header,
// carries instead of the bearer token. POST /v1/session with the token opens one and
// sets it as an HttpOnly, SameSite=Strict cookie; it stands for the token's principal
// on the stream routes (GET) only, never on a call, so a page of another site can
// neither read it nor make a call with it. Sessions live in memory for ttl; past max,
// the one closest to expiring goes. Thread-safe.
class SessionTable {
 public:
  static constexpr std::string_view kCookie = "strata_session";

  SessionTable(std::chrono::milliseconds ttl, std::size_t max) : ttl_(ttl), max_(max) {}

  // A new session for principal: 43 characters of base64url, 256 random bits.
  std::string open(const Principal& principal);
  std::optional<Principal> find(std::string_view id);
  void close(std::string_view id);
  std::chrono::milliseconds ttl() const { return ttl_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Principal principal;
    Clock::time_point expires;
  };
  void expire(Clock::time_point now);

  const std::chrono::milliseconds ttl_;
  const std::size_t max_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> sessions_;
};

}  // namespace strata::integrations::http
