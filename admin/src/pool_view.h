#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace strata::admin {

// /api/pool: this broker's /api/stats beside those of the other brokers of its pool
// (strata.admin.pool), read over HTTP by the endpoint itself, so that the dashboard's page
// needs no other origin. Reads are cached for kFresh: however many pages are open, each
// peer is asked at most once a second. Safe from any thread.
class PoolView {
 public:
  static constexpr std::chrono::milliseconds kFresh{900};
  static constexpr std::chrono::milliseconds kPeerTimeout{800};

  PoolView(std::vector<std::string> peers, std::optional<std::string> token, std::function<std::string()> ownStats);

  // {"brokers":[{"url":"","reachable":true,"stats":{...}}, {"url":"http://..","reachable":false,"error":".."}]};
  // the first is this broker (url empty).
  std::string json();

 private:
  std::string fetch(const std::string& url) const;  // one peer's entry

  std::vector<std::string> peers_;
  std::optional<std::string> token_;
  std::function<std::string()> ownStats_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point takenAt_{};
  std::vector<std::string> peerEntries_;
};

}  // namespace strata::admin
