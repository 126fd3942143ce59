#include <strata/nodes/call_table.h>

#include <algorithm>

namespace strata::nodes {

using core::MessageId;
using core::TimePoint;

Response errorResponse(const MessageId& id, ErrorCode code, std::string text) {
  Response r;
  r.id = id;
  r.errorCode = code;
  r.errorText = std::move(text);
  return r;
}

CallTable::CallTable(EndpointPool& pool, Settings settings) : pool_(pool), settings_(settings) {}

void CallTable::submit(const MessageId& id, std::chrono::milliseconds timeout, std::vector<std::string>& frames,
                       ReplyHandler onReply, PartialHandler onPartial, TimePoint now, Actions& out) {
  if (calls_.contains(id)) {
    out.done.push_back({std::move(onReply),
                        errorResponse(id, ErrorCode::kMalformed, "request id " + id.hex() + " is already in flight")});
    return;
  }
  Call* slot = nullptr;
  if (spare_.empty()) {
    slot = &calls_.try_emplace(id).first->second;
  } else {
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = id;
    slot = &node.mapped();
    calls_.insert(std::move(node));
  }
  Call& call = *slot;
  call.id = id;
  call.onReply = std::move(onReply);
  call.onPartial = std::move(onPartial);
  call.frames.swap(frames);
  deadlines_.push(call, now, timeout);
  startAttempt(call, now);
  sendTo(call, pool_.pick(), out);
}

void CallTable::onReply(const MessageId& id, Response&& response, Actions& out) {
  auto it = calls_.find(id);
  if (it != calls_.end()) finish(it, std::move(response), out);  // else late: already answered or timed out
}

void CallTable::onError(std::size_t link, const MessageId& id, ErrorCode code, std::string_view text, Actions& out) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Call& call = it->second;
  bool noWorkerThere = code == ErrorCode::kUnknownService || code == ErrorCode::kUnavailable;
  if (noWorkerThere && ++call.declined < pool_.size()) {
    // In a pool, another broker may have the worker this one lacks (say, cut off from it).
    if (auto next = nextAlive(link)) {
      sendTo(call, *next, out);
      return;
    }
  }
  finish(it, errorResponse(id, code, std::string(text)), out);
}

const CallTable::PartialHandler* CallTable::partialHandler(const MessageId& id) const {
  auto it = calls_.find(id);
  return it != calls_.end() && it->second.onPartial ? &it->second.onPartial : nullptr;
}

void CallTable::moveOff(std::size_t link, Actions& out) {
  for (auto& [id, call] : calls_) {
    if (call.link != link) continue;
    ++resent_;
    sendTo(call, pool_.pick(), out);
  }
}

void CallTable::tick(TimePoint now, Actions& out) {
  while (Call* call = attempts_.popDue(now)) {
    auto shift = std::min(call->attempts - 1, 16);
    auto backoff = std::min(settings_.retryBackoff * (1 << shift), Settings::kMaxBackoff);
    backoffs_.push(*call, now, backoff);
  }
  while (Call* call = backoffs_.popDue(now)) {
    ++call->attempts;
    ++resent_;
    sendTo(*call, nextAlive(call->link).value_or(call->link), out);
    startAttempt(*call, now);
  }
  while (Call* call = deadlines_.popDue(now)) {
    finish(calls_.find(call->id), errorResponse(call->id, ErrorCode::kTimeout, "no answer before the deadline"), out);
  }
}

void CallTable::failAll(ErrorCode code, const std::string& text, Actions& out) {
  while (!calls_.empty()) finish(calls_.begin(), errorResponse(calls_.begin()->first, code, text), out);
}

TimePoint CallTable::nextDue() const {
  return std::min({deadlines_.next(), attempts_.next(), backoffs_.next()});
}

void CallTable::sendTo(Call& call, std::size_t link, Actions& out) {
  call.link = link;
  out.sends.push_back({link, &call.frames});
}

void CallTable::startAttempt(Call& call, TimePoint now) {
  if (settings_.attemptTimeout.count() > 0) attempts_.push(call, now, settings_.attemptTimeout);
}

void CallTable::finish(Calls::iterator it, Response&& response, Actions& out) {
  Call& call = it->second;
  deadlines_.remove(call);
  attempts_.remove(call);
  backoffs_.remove(call);
  // A send of this call queued in out would point at frames about to go.
  std::erase_if(out.sends, [&](const Send& s) { return s.frames == &call.frames; });
  out.done.push_back({std::move(call.onReply), std::move(response)});
  auto node = calls_.extract(it);
  if (spare_.size() >= kMaxSpare) return;
  Call& spare = node.mapped();
  spare.onReply = nullptr;
  spare.onPartial = nullptr;
  spare.link = 0;
  spare.declined = 0;
  spare.attempts = 1;
  spare_.push_back(std::move(node));
}

std::optional<std::size_t> CallTable::nextAlive(std::size_t link) const {
  for (std::size_t k = 1; k < pool_.size(); ++k) {
    auto candidate = (link + k) % pool_.size();
    if (pool_.alive(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace strata::nodes
