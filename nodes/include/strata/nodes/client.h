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

#include <strata/codecs/protocol.h>
#include <strata/core/clock.h>
#include <strata/core/curve_keys.h>
#include <strata/core/errors.h>
#include <strata/core/limits.h>
#include <strata/core/wakeup.h>
#include <strata/nodes/call_table.h>
#include <strata/nodes/messages.h>

namespace strata::nodes {

// A subscription no broker would take: refused (policy, limits, a bad pattern; the text
// says which) or not confirmed before the client's default timeout.
class SubscribeError : public Error {
 public:
  SubscribeError(const std::string& what, ExitCode code) : Error(what, code) {}
};

struct ClientOptions {
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultPing{500};
  static constexpr int kDefaultLiveness = codecs::kDefaultLiveness;

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
  using PublishHandler = std::function<void(PublishResult&&)>;
  using EventHandler = std::function<void(const Event&)>;
  // A broker dropped `lost` events for this subscriber (its queue there was full), or
  // sent it away (lost is 0, why says so). Each broker counts its own: with a pool, the
  // same events may be counted by each broker that dropped them.
  using LostHandler = std::function<void(std::uint64_t lost, const std::string& why)>;
  // The first broker's answer to a subscription: nullopt when it holds it, else the code
  // and reason of its refusal.
  using SubscribeAnswer = std::function<void(std::optional<std::pair<ErrorCode, std::string>>)>;

  // A subscription's handle: cancel() (or the destructor) ends it. Movable, not copyable;
  // it must end before the Client it came from.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();
    void cancel();
    bool active() const { return client_ != nullptr; }

   private:
    friend class Client;
    Subscription(Client* client, std::uint64_t number) : client_(client), number_(number) {}
    Client* client_ = nullptr;
    std::uint64_t number_ = 0;
  };

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

  // Publishes an event on its subject to every broker of the pool; onDone runs once, on
  // the loop thread, when the first broker accepts it (ok), refuses it, or its deadline
  // passes. Brokers that come back get it too, so a broker lost at any moment loses
  // nothing accepted; subscribers drop the copies. The event's id (PublishResult::id) is
  // given when it is sent, so ids follow the order events leave this client. Called on
  // the loop thread (from a callback), the event is encoded before this returns and is
  // not copied; from another thread it is copied (or moved) to the loop.
  void publishAsync(const OutgoingEvent& event, PublishHandler onDone);
  void publishAsync(OutgoingEvent&& event, PublishHandler onDone);
  std::future<PublishResult> publishFuture(OutgoingEvent event);
  // Blocks until accepted, refused or timed out. Must not be called from a callback.
  PublishResult publish(OutgoingEvent event);
  PublishResult publish(const std::string& subject, std::string body);

  // Subscribes to patterns (core/subject.h) on every broker of the pool, and again on
  // each broker that restarts. onEvent runs on the loop thread, once per event however
  // many of these patterns and brokers it came through, in the order each publisher
  // published. Blocks until a broker confirms; throws SubscribeError when one refuses
  // (or none answers in time). Must not be called from a callback.
  Subscription subscribe(std::vector<std::string> patterns, EventHandler onEvent, LostHandler onLost = nullptr);
  // The same without waiting: onAnswer runs on the loop thread with the first broker's
  // answer (a refused subscription is over by then). Throws SubscribeError for patterns
  // that are not patterns. Callable from any thread, callbacks included.
  Subscription subscribeAsync(std::vector<std::string> patterns, EventHandler onEvent, LostHandler onLost,
                              SubscribeAnswer onAnswer);

  // Whether the calling thread is the client's own (a callback or event handler runs there).
  bool onLoopThread() const;
  // The session in the ids of the events this client publishes.
  std::uint64_t publisherSession() const;

  const ClientOptions& options() const { return options_; }
  // Requests sent again to another endpoint because theirs stopped answering.
  std::uint64_t resent() const;

 private:
  struct Call;
  struct State;
  void unsubscribe(std::uint64_t number);

  ClientOptions options_;
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace strata::nodes
