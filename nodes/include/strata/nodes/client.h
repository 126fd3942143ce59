#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include <strata/core/clock.h>
#include <strata/core/curve_keys.h>
#include <strata/core/limits.h>
#include <strata/core/wakeup.h>
#include <strata/nodes/call_table.h>
#include <strata/nodes/messages.h>

namespace strata::nodes {

struct ClientOptions {
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultPing{500};
  static constexpr int kDefaultLiveness = 3;

  std::vector<std::string> endpoints;  // brokers, or workers in direct mode
  std::shared_ptr<const core::SecretKey> secretKey;
  std::optional<core::PublicKey> serverKey;  // required for tcp:// endpoints
  core::Limits limits;
  std::chrono::milliseconds defaultTimeout = kDefaultTimeout;
  // Each endpoint is pinged this often; one silent for pingInterval * liveness is taken
  // for dead, and the requests it holds are sent again, with the same id, to another.
  std::chrono::milliseconds pingInterval = kDefaultPing;
  int liveness = kDefaultLiveness;
  // Retry policy. An attempt that has no answer after attemptTimeout (0: no limit but the
  // deadline) is sent again, same id, to the next endpoint, after a backoff that starts
  // at retryBackoff and doubles per attempt up to kMaxBackoff. The deadline bounds it all.
  static constexpr std::chrono::milliseconds kDefaultBackoff = CallTable::Settings::kDefaultBackoff;
  static constexpr std::chrono::milliseconds kMaxBackoff = CallTable::Settings::kMaxBackoff;
  std::chrono::milliseconds attemptTimeout{0};
  std::chrono::milliseconds retryBackoff = kDefaultBackoff;
};

// Calls services, through brokers or straight to workers: the topology is only the list
// of endpoints. With several endpoints it spreads requests over the live ones and moves
// a request whose endpoint dies to another, keeping its id, until its deadline. Thread-safe: any thread may call; many requests may be in flight. The
// socket lives on the client's own event-loop thread, where callbacks run too, so a
// callback must not block (it may call callAsync again).
class Client {
 public:
  using ReplyHandler = std::function<void(Response&&)>;
  using PartialHandler = std::function<void(PartialResponse&&)>;

  // Throws ConfigError (no endpoint, tcp:// without a server key).
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends request; onReply runs once, on the loop thread, with the final reply or an error
  // (its deadline passing included). Returns the request's id.
  core::MessageId callAsync(OutgoingRequest request, ReplyHandler onReply, PartialHandler onPartial = nullptr);
  std::future<Response> callFuture(OutgoingRequest request);
  // Blocks until the reply, an error or the deadline. Must not be called from a callback.
  Response call(OutgoingRequest request);
  Response call(const std::string& service, std::string body, std::chrono::milliseconds timeout = {});

  const ClientOptions& options() const { return options_; }
  // Requests sent again to another endpoint because theirs stopped answering.
  std::uint64_t resent() const;

 private:
  struct Call;
  struct State;

  ClientOptions options_;
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace strata::nodes
