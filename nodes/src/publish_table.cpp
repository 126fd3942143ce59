#include <strata/nodes/publish_table.h>

namespace strata::nodes {

namespace codec = strata::codecs;

PublishTable::PublishTable(std::uint64_t session, Settings settings) : session_(session), settings_(settings) {}

core::MessageId PublishTable::nextId() { return codec::eventId(session_, nextSequence_++); }

void PublishTable::submit(const core::MessageId& id, std::string& record, Handler handler,
                          std::chrono::milliseconds timeout, core::TimePoint now) {
  auto sequence = codec::eventSequence(id);
  STRATA_ASSERT(!events_.contains(sequence));
  Entry* slot = nullptr;
  if (spare_.empty()) {
    slot = &events_.try_emplace(sequence).first->second;
  } else {
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = sequence;
    slot = &node.mapped();
    events_.insert(std::move(node));
  }
  Entry& e = *slot;
  e.id = id;
  e.record.swap(record);
  e.handler = std::move(handler);
  deadlines_.push(e, now, timeout);
  retries_.push(e, now, settings_.retry);
}

void PublishTable::onAccepted(const codec::Accepted& accepted, Actions& out) {
  if (accepted.session != session_) return;
  for (const auto& range : accepted.ranges) {
    // A range may cover far more than is in flight (a hostile or confused broker): walk
    // whichever is shorter.
    if (range.last - range.first >= events_.size()) {
      std::vector<std::uint64_t> inRange;
      for (const auto& [sequence, e] : events_)
        if (sequence >= range.first && sequence <= range.last) inRange.push_back(sequence);
      for (auto sequence : inRange) finish(sequence, {events_.at(sequence).id, true, {}, {}}, out);
      continue;
    }
    for (auto sequence = range.first;; ++sequence) {
      if (auto it = events_.find(sequence); it != events_.end()) finish(sequence, {it->second.id, true, {}, {}}, out);
      if (sequence == range.last) break;
    }
  }
}

bool PublishTable::onError(const core::MessageId& id, ErrorCode code, std::string_view text, Actions& out) {
  if (codec::eventSession(id) != session_) return false;
  auto it = events_.find(codec::eventSequence(id));
  if (it == events_.end() || it->second.id != id) return false;
  finish(it->first, {id, false, code, std::string(text)}, out);
  return true;
}

void PublishTable::tick(core::TimePoint now, Actions& out) {
  while (Entry* due = deadlines_.popDue(now)) {
    finish(codec::eventSequence(due->id),
           {due->id, false, ErrorCode::kTimeout, "no broker accepted the event before its deadline"}, out);
  }
  while (Entry* retry = retries_.popDue(now)) {
    ++resent_;
    out.resend.push_back(&retry->record);
    retries_.push(*retry, now, settings_.retry);
  }
}

void PublishTable::failAll(ErrorCode code, const std::string& text, Actions& out) {
  std::vector<std::uint64_t> all;
  for (const auto& [sequence, e] : events_) all.push_back(sequence);
  for (auto sequence : all) finish(sequence, {events_.at(sequence).id, false, code, text}, out);
}

core::TimePoint PublishTable::nextDue() const { return std::min(deadlines_.next(), retries_.next()); }

void PublishTable::finish(std::uint64_t sequence, PublishResult&& result, Actions& out) {
  auto it = events_.find(sequence);
  Entry& e = it->second;
  deadlines_.remove(e);
  retries_.remove(e);
  // A record queued for resending this step stays valid: entries are erased only here,
  // and a resend and a finish of the same entry never come from one step.
  out.done.push_back({std::move(e.handler), std::move(result)});
  auto node = events_.extract(it);
  if (spare_.size() < kMaxSpare) {
    node.mapped().handler = nullptr;
    spare_.push_back(std::move(node));
  }
}

}  // namespace strata::nodes
