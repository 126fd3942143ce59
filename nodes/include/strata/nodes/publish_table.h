#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <strata/codecs/wire_codec.h>
#include <strata/core/clock.h>
#include <strata/core/deadline_queue.h>
#include <strata/core/message_id.h>
#include <strata/nodes/messages.h>

namespace strata::nodes {

// A publisher's events not yet accepted, as a pure table like CallTable: the client's
// loop sends each event to every broker of its pool, feeds the table the brokers'
// ACCEPTED and ERROR answers and the time, and carries out what it returns. An event is
// over at the first broker's acceptance or refusal; one with neither after the retry
// interval goes to every broker again, same id, until its deadline. Not thread-safe.
class PublishTable {
 public:
  using Handler = std::function<void(PublishResult&&)>;

  struct Settings {
    static constexpr std::chrono::milliseconds kDefaultRetry{1000};
    std::chrono::milliseconds retry = kDefaultRetry;
  };
  struct Done {
    Handler handler;
    PublishResult result;
  };
  struct Actions {
    // Event records (codecs::writeEventRecord) to send to every broker again. Each points
    // into the table: valid until the table next changes.
    std::vector<const std::string*> resend;
    std::vector<Done> done;
    void clear() {
      resend.clear();
      done.clear();
    }
  };

  // session: the publisher's random, nonzero session number.
  PublishTable(std::uint64_t session, Settings settings);

  std::uint64_t session() const { return session_; }
  // The id of the next event: the session and the next sequence number.
  core::MessageId nextId();
  // An event with this id (from nextId), encoded as record, which the caller has just
  // sent to every broker; it ends at now + timeout at the latest. record is swapped with
  // a spare buffer of the table's: the caller gets back a string with capacity, to
  // encode the next event into without allocating.
  void submit(const core::MessageId& id, std::string& record, Handler handler, std::chrono::milliseconds timeout,
              core::TimePoint now);
  void onAccepted(const codecs::Accepted& accepted, Actions& out);
  // An ERROR for id: true when id is one of this table's events (it is then over).
  bool onError(const core::MessageId& id, ErrorCode code, std::string_view text, Actions& out);
  void tick(core::TimePoint now, Actions& out);
  void failAll(ErrorCode code, const std::string& text, Actions& out);

  std::size_t size() const { return events_.size(); }
  core::TimePoint nextDue() const;
  std::uint64_t resent() const { return resent_; }

 private:
  struct DeadlineTag;
  struct RetryTag;
  struct Entry : core::DeadlineLink<DeadlineTag>, core::DeadlineLink<RetryTag> {
    core::MessageId id;
    std::string record;
    Handler handler;
  };

  void finish(std::uint64_t sequence, PublishResult&& result, Actions& out);

  std::uint64_t session_;
  Settings settings_;
  std::uint64_t nextSequence_ = 1;
  using Events = std::unordered_map<std::uint64_t, Entry>;  // by sequence number; nodes stay put
  // Finished events' map nodes, kept (with their records' capacity) for the next ones.
  static constexpr std::size_t kMaxSpare = 4096;

  Events events_;
  std::vector<Events::node_type> spare_;
  core::DeadlineQueue<Entry, DeadlineTag> deadlines_;
  core::DeadlineQueue<Entry, RetryTag> retries_;
  std::uint64_t resent_ = 0;
};

}  // namespace strata::nodes
