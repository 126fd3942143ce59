#pragma once

// The gateway's one way into the bus: a function that calls a service and waits for its
// answer. The plug-in wires it to Host::call; tests wire it to a nodes::Client talking
// to a real broker.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <strata/codecs/payload.h>
#include <strata/codecs/protocol.h>

namespace strata::integrations::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Header keys the gateway puts on every call; a client's own strata-* never pass.
using codecs::kPrincipalHeader;
using codecs::kPrincipalLayerHeader;

struct BusRequest {
  std::string service;
  std::string body;  // one frame
  HeaderList headers;
  std::chrono::milliseconds timeout{0};  // 0: the caller's default
};

// A reply, or an error with a bus error code and text.
struct BusReply {
  std::optional<codecs::ErrorCode> error;
  std::string errorText;
  HeaderList headers;
  std::string body;

  bool ok() const { return !error.has_value(); }
  static BusReply failure(codecs::ErrorCode code, std::string text) { return {code, std::move(text), {}, {}}; }
};

// Must be callable from several threads at once; blocks until the answer.
using BusCall = std::function<BusReply(const BusRequest&)>;

// A partial or the final answer of a call answered in parts.
using BusAnswer = std::function<void(BusReply&&)>;
// Starts a call answered in parts (a store's watch) and returns at once: onPartial for
// each partial reply, then onFinal once, on a thread that must not block (either may
// start another call). Returns false when the call could not be sent; then neither runs.
// Callable from any thread.
using BusStreamCall = std::function<bool(const BusRequest&, BusAnswer onPartial, BusAnswer onFinal)>;

// An event as a subscriber gets it.
struct BusEvent {
  std::string id;  // 32 hex digits: the publisher's session and sequence number
  std::string subject;
  std::string publisherName;
  int publisherLayer = 0;
  HeaderList headers;
  std::string body;
};
using BusEventHandler = std::function<void(const BusEvent&)>;
// A subscription's number for BusUnsubscribe, or why the brokers refused it.
struct BusSubscription {
  std::uint64_t number = 0;
  std::optional<BusReply> refusal;
};
// Subscribes handler to a subject pattern; blocks until the brokers answer. handler runs
// on a thread that must not block. Callable from any thread but handler's.
using BusSubscribe = std::function<BusSubscription(const std::string& pattern, BusEventHandler handler)>;
using BusUnsubscribe = std::function<void(std::uint64_t number)>;

// What event streams need of the bus; an unset member turns its route off (501).
struct BusStreams {
  BusStreamCall watch;       // GET /v1/watch/...
  BusSubscribe subscribe;    // GET /v1/events
  BusUnsubscribe unsubscribe;
};

// Where a plug-in's settings come from: the value of a key (the part after
// "strata.plugin.http."), or nullopt when unset.
using ConfigLookup = std::function<std::optional<std::string>(const std::string& key)>;

// A whole-number setting in [min, max], fallback when unset. Throws ConfigError naming
// strata.plugin.http.<key> otherwise.
long long configInt(const ConfigLookup& config, const std::string& key, long long fallback, long long min,
                    long long max);

// Where the gateway logs (start-up, refusals); never called with a token or a body.
using LogFunction = std::function<void(const std::string& text)>;

}  // namespace strata::integrations::http
