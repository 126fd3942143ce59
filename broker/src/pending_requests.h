#pragma once

// Private to the broker: the requests it holds, and the one function that moves them.

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <strata/broker/broker_core.h>
#include <strata/core/clock.h>
#include <strata/core/deadline_queue.h>
#include <strata/core/layer_policy.h>
#include <strata/core/message_id.h>

#include "service_table.h"

namespace strata::broker {

// A request the broker holds, from its arrival to its final answer.
struct Pending : core::DeadlineLink<> {
  enum class State {
    kNew,       // made, not yet queued
    kQueued,    // waiting in its service's queue
    kAtWorker,  // sent to worker, not yet answered
    kAnswered,  // answered (a timeout) while the worker still holds it: kept for its credit
  };
  core::MessageId id;
  PeerId client;
  std::string clientName;  // who sent it: only the same identity may retry the id
  Service* service = nullptr;
  // The request's envelope and body frames as they came, kept until the final answer;
  // the envelope a worker gets is made from them (with the caller and the time left).
  FrameList frames;
  State state = State::kNew;
  Worker* worker = nullptr;
  bool durable = false;
  int callerLayer = core::kMaxLayer;
  core::TimePoint arrived{};  // when the broker took it in (or adopted it from the journal)
};

// Every held request by id, and their deadlines. Requests change state only through
// apply(), which keeps each service's queued and in-flight counts and the deadline queue
// in step with the states, so no other code edits them.
class PendingRequests {
 public:
  enum class Move {
    kEnqueue,       // to the back of its service's queue, with a deadline of now + timeout
    kRequeueFront,  // its worker is gone: to the head of the queue, deadline kept
    kDispatch,      // sent to worker
    kTimeOut,       // the deadline passed: gone if queued, kAnswered if at a worker
    kFinish,        // final answer, or dropped: gone
  };
  struct Step {
    Move move;
    core::TimePoint now{};
    std::chrono::milliseconds timeout{};  // kEnqueue
    Worker* worker = nullptr;             // kDispatch
  };

  Pending* find(const core::MessageId& id);
  // A new request of service to hold, in state kNew with every other field empty; the
  // caller fills it in and applies kEnqueue. id must not be held already.
  Pending& create(const core::MessageId& id, Service& service);
  // The one place a request moves. After kFinish, and kTimeOut of a queued request, the
  // Pending is gone.
  void apply(Pending& pending, const Step& step);

  // The earliest request whose deadline is at or before now, taken off the deadline queue
  // (apply kTimeOut to it next); nullptr when none is due.
  Pending* popDue(core::TimePoint now) { return deadlines_.popDue(now); }
  core::TimePoint nextDeadline() const { return deadlines_.next(); }

  std::size_t size() const { return pending_.size(); }
  std::size_t deadlines() const { return deadlines_.size(); }

 private:
  void enter(Pending& p, Pending::State state);
  void erase(Pending& p);

  using Map = std::unordered_map<core::MessageId, std::unique_ptr<Pending>, core::MessageIdHash>;
  // Finished requests' map nodes, Pending included, kept for the next ones: a warm broker
  // holds a request without allocating for it. At most kMaxSpare are kept.
  static constexpr std::size_t kMaxSpare = 4096;

  Map pending_;
  std::vector<Map::node_type> spare_;
  core::DeadlineQueue<Pending> deadlines_;  // every request that may still time out
};

}  // namespace strata::broker
