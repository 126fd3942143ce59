#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <strata/codecs/protocol.h>
#include <strata/core/authorized_keys.h>
#include <strata/core/clock.h>
#include <strata/core/errors.h>
#include <strata/core/message_id.h>

namespace strata::nodes {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Body = std::vector<std::string>;  // one string per frame
using codecs::ErrorCode;

// The exit code (sysexits) for a failure of this kind: one table for every program.
ExitCode exitCodeOf(ErrorCode code);

// The value of the first header named key, or nullopt.
std::optional<std::string> findHeader(const Headers& headers, std::string_view key);

// What a client sends. A zero id is replaced by a fresh one; a zero timeout by the
// client's default.
struct OutgoingRequest {
  std::string service;
  Body body;
  Headers headers;
  std::chrono::milliseconds timeout{0};
  core::MessageId id;
};

class IdempotencyStore;

class LaterAnswer;

// What a handler receives.
struct IncomingRequest {
  core::MessageId id;
  std::string service;
  core::Identity caller;  // as the broker (or this node, in direct mode) authenticated it
  Headers headers;
  Body body;
  core::TimePoint deadline;
  // The worker's store when it has one: a handler that changes this database applies its
  // change and records the id in one transaction, store->transaction(id, ...).
  IdempotencyStore* store = nullptr;
  // Takes the answer out of the handler's hands (then return Outcome::answeredLater()); empty
  // where the answer must come before the handler returns (inline and in-process calls).
  std::function<std::shared_ptr<LaterAnswer>()> answerLater;
};

// What a handler returns: a reply, or an error with a code and text.
struct Outcome {
  Headers headers;
  Body body;
  std::optional<std::pair<ErrorCode, std::string>> error;
  bool recorded = false;  // already in the idempotency store (IdempotencyStore::transaction)
  bool later = false;     // answered through IncomingRequest::answerLater instead

  static Outcome reply(Body body, Headers headers = {}) {
    return {std::move(headers), std::move(body), std::nullopt, false};
  }
  static Outcome failure(ErrorCode code, std::string text) {
    return {{}, {}, std::make_pair(code, std::move(text)), false};
  }
  static Outcome answeredLater() { return {{}, {}, std::nullopt, false, true}; }
};

// The answer to a request whose handler returned Outcome::answeredLater(): any number of
// partials, then one final answer, from any thread, after the handler has returned. A
// stream that lasts (a watch) holds no handler thread and none of the worker's credit.
// An answer never finished is finished `unavailable` when the last copy goes.
class LaterAnswer {
 public:
  virtual ~LaterAnswer() = default;
  virtual void partial(Body body, Headers headers) = 0;
  // Sends the final answer; later calls do nothing.
  virtual void finish(Outcome outcome) = 0;
};

// What a caller gets back: the final reply or an error. Errors made by the client itself
// (its own deadline, a refused key) use the same codes as the broker's.
struct Response {
  core::MessageId id;
  bool ok = false;
  ErrorCode errorCode = ErrorCode::kInternal;
  std::string errorText;
  Headers headers;
  Body body;

  std::string bodyText() const;  // the body frames joined
};

// An event as a subscriber receives it.
struct Event {
  core::MessageId id;  // the publisher's session and sequence number
  std::string subject;
  core::Identity publisher;  // as the broker authenticated it
  Headers headers;
  std::string body;
};

// What a publisher sends. A zero timeout is the client's default: how long it tries to
// have a broker accept the event before it reports a timeout.
struct OutgoingEvent {
  std::string subject;
  std::string body;
  Headers headers;
  std::chrono::milliseconds timeout{0};
};

// Whether a broker accepted an event: ok, or the reason it was refused or timed out.
struct PublishResult {
  core::MessageId id;
  bool ok = false;
  ErrorCode errorCode = ErrorCode::kInternal;
  std::string errorText;
};

// One partial reply of a streamed answer.
struct PartialResponse {
  core::MessageId id;
  Headers headers;
  Body body;
};

}  // namespace strata::nodes
