#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <strata/core/clock.h>
#include <strata/core/deadline_queue.h>
#include <strata/core/message_id.h>
#include <strata/nodes/endpoint_pool.h>
#include <strata/nodes/messages.h>

namespace strata::nodes {

// A client's calls in flight, as a pure table: the client's socket loop feeds it what it
// hears and the time, and carries out the actions it returns. It decides where each call
// goes, when it is sent again (same id) and when it is over; it has no sockets, no
// threads and no clock of its own, so retries, failover and expiry are unit-tested with
// a manual clock. Not thread-safe: the loop thread owns it.
class CallTable {
 public:
  using ReplyHandler = std::function<void(Response&&)>;
  using PartialHandler = std::function<void(PartialResponse&&)>;

  struct Settings {
    static constexpr std::chrono::milliseconds kDefaultBackoff{50};
    static constexpr std::chrono::milliseconds kMaxBackoff{1000};
    // An attempt with no answer after this long (0: no limit but the deadline) is sent
    // again to the next live endpoint, after a backoff that starts at retryBackoff and
    // doubles per attempt up to kMaxBackoff.
    std::chrono::milliseconds attemptTimeout{0};
    std::chrono::milliseconds retryBackoff = kDefaultBackoff;
  };

  // Send these frames to endpoint `link` now. frames points into the table: valid until
  // the table is next changed.
  struct Send {
    std::size_t link = 0;
    const std::vector<std::string>* frames = nullptr;
  };
  // A call that is over: run handler(std::move(response)) once the table is done.
  struct Done {
    ReplyHandler handler;
    Response response;
  };
  struct Actions {
    std::vector<Send> sends;
    std::vector<Done> done;
    void clear() {
      sends.clear();
      done.clear();
    }
  };

  // pool is the client's view of its endpoints; it must outlive the table.
  CallTable(EndpointPool& pool, Settings settings);

  // A new call of id with frames to send, due to end at now + timeout. A call whose id is
  // already in flight is refused at once.
  // frames is swapped with the table's spare buffers: the caller gets back vectors and
  // strings with capacity, to encode the next call into without allocating.
  void submit(const core::MessageId& id, std::chrono::milliseconds timeout, std::vector<std::string>& frames,
              ReplyHandler onReply, PartialHandler onPartial, core::TimePoint now, Actions& out);
  void submit(const core::MessageId& id, std::chrono::milliseconds timeout, std::vector<std::string>&& frames,
              ReplyHandler onReply, PartialHandler onPartial, core::TimePoint now, Actions& out) {
    submit(id, timeout, frames, std::move(onReply), std::move(onPartial), now, out);
  }
  // The final reply of id arrived: the call is over. A late or unknown id does nothing.
  void onReply(const core::MessageId& id, Response&& response, Actions& out);
  // An ERROR for id from endpoint link. "No worker here" (unknown_service, unavailable)
  // moves the call to the next live endpoint until every endpoint has declined it; any
  // other error ends the call.
  void onError(std::size_t link, const core::MessageId& id, ErrorCode code, std::string_view text, Actions& out);
  // The partial handler of id, or nullptr (none, or no such call). Valid until the table changes.
  const PartialHandler* partialHandler(const core::MessageId& id) const;
  // Endpoint link died or refused us: its calls go to other endpoints, same ids.
  void moveOff(std::size_t link, Actions& out);
  // Attempts that timed out wait out their backoff, then go again; calls whose deadline
  // passed end with a timeout error.
  void tick(core::TimePoint now, Actions& out);
  // Ends every call with code and text (the client stops, or every endpoint refused us).
  void failAll(ErrorCode code, const std::string& text, Actions& out);

  bool contains(const core::MessageId& id) const { return calls_.contains(id); }
  std::size_t size() const { return calls_.size(); }
  // When tick() next has work: the earliest deadline, attempt timeout or resend.
  core::TimePoint nextDue() const;
  // Calls sent again (to another endpoint or after an attempt timed out).
  std::uint64_t resent() const { return resent_; }

 private:
  struct DeadlineTag;
  struct AttemptTag;
  struct BackoffTag;
  struct Call : core::DeadlineLink<DeadlineTag>, core::DeadlineLink<AttemptTag>, core::DeadlineLink<BackoffTag> {
    core::MessageId id;
    ReplyHandler onReply;
    PartialHandler onPartial;
    std::vector<std::string> frames;  // kept to send again
    std::size_t link = 0;
    std::size_t declined = 0;  // endpoints that answered "no worker here" so far
    int attempts = 1;
  };
  using Calls = std::unordered_map<core::MessageId, Call, core::MessageIdHash>;

  void sendTo(Call& call, std::size_t link, Actions& out);
  void startAttempt(Call& call, core::TimePoint now);
  void finish(Calls::iterator it, Response&& response, Actions& out);
  std::optional<std::size_t> nextAlive(std::size_t link) const;

  // Finished calls' map nodes, kept (with their frames' capacity) for the next ones. At
  // most kMaxSpare.
  static constexpr std::size_t kMaxSpare = 4096;

  EndpointPool& pool_;
  Settings settings_;
  Calls calls_;
  std::vector<Calls::node_type> spare_;
  core::DeadlineQueue<Call, DeadlineTag> deadlines_;
  core::DeadlineQueue<Call, AttemptTag> attempts_;
  core::DeadlineQueue<Call, BackoffTag> backoffs_;
  std::uint64_t resent_ = 0;
};

// An error Response for id, as the client makes them itself.
Response errorResponse(const core::MessageId& id, ErrorCode code, std::string text);

}  // namespace strata::nodes
