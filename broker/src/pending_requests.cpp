#include "pending_requests.h"

#include <strata/core/errors.h>

namespace strata::broker {

using State = Pending::State;

Pending* PendingRequests::find(const core::MessageId& id) {
  auto it = pending_.find(id);
  return it == pending_.end() ? nullptr : it->second.get();
}

Pending& PendingRequests::create(const core::MessageId& id, Service& service) {
  Pending* p = nullptr;
  if (spare_.empty()) {
    auto [it, fresh] = pending_.emplace(id, std::make_unique<Pending>());
    STRATA_ASSERT(fresh);
    p = it->second.get();
  } else {
    Map::node_type node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = id;
    p = node.mapped().get();
    auto result = pending_.insert(std::move(node));
    STRATA_ASSERT(result.inserted);
  }
  p->id = id;
  p->service = &service;
  return *p;
}

// Leaves the old state and enters the new one; the counts are those of the states.
void PendingRequests::enter(Pending& p, State state) {
  Service& s = *p.service;
  if (p.state == State::kQueued) --s.queued;
  if (p.state == State::kAtWorker || p.state == State::kAnswered) --s.inFlight;
  p.state = state;
  if (state == State::kQueued) ++s.queued;
  if (state == State::kAtWorker || state == State::kAnswered) ++s.inFlight;
}

void PendingRequests::erase(Pending& p) {
  enter(p, State::kNew);  // counted nowhere
  deadlines_.remove(p);
  // A stale id left in the service's queue is skipped. The node is kept for another
  // request, emptied but with its buffers' capacity.
  auto node = pending_.extract(p.id);
  if (spare_.size() >= kMaxSpare) return;
  p.client.clear();
  p.clientName.clear();
  p.frames.clear();
  p.service = nullptr;
  p.worker = nullptr;
  p.durable = false;
  p.callerLayer = core::kMaxLayer;
  spare_.push_back(std::move(node));
}

void PendingRequests::apply(Pending& p, const Step& step) {
  switch (step.move) {
    case Move::kEnqueue:
      STRATA_ASSERT(p.state == State::kNew || p.state == State::kAnswered);
      p.worker = nullptr;
      deadlines_.push(p, step.now, step.timeout);
      p.service->queue.push_back(p.id);
      enter(p, State::kQueued);
      return;
    case Move::kRequeueFront:
      STRATA_ASSERT(p.state == State::kAtWorker);
      p.worker = nullptr;
      p.service->queue.push_front(p.id);  // it has waited longest
      enter(p, State::kQueued);
      return;
    case Move::kDispatch:
      STRATA_ASSERT(p.state == State::kQueued && step.worker);
      p.worker = step.worker;
      enter(p, State::kAtWorker);
      return;
    case Move::kTimeOut:
      deadlines_.remove(p);
      if (p.state == State::kAtWorker) {
        enter(p, State::kAnswered);  // kept until the worker answers, to return its credit
        p.frames.clear();
      } else {
        erase(p);
      }
      return;
    case Move::kFinish:
      erase(p);
      return;
  }
}

}  // namespace strata::broker
