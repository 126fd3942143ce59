#include "event_hub.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <Poco/Logger.h>

#include <strata/core/subject.h>

namespace strata::broker {

namespace codec = strata::codecs;
using codec::ErrorCode;
using core::TimePoint;

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.broker"); }

// How often lingering sessions are looked for: often enough for a linger of seconds,
// rarely enough that many sessions cost nothing per loop turn.
constexpr std::chrono::milliseconds kLingerCheck{1000};

std::string sessionKey(std::string_view name, std::uint64_t session) {
  std::string key(name);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(&session), sizeof session);
  return key;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

EventHub::EventHub(const EventSettings& settings, const core::LayerPolicy& policy, Send send)
    : settings_(settings), policy_(policy), send_(std::move(send)) {}

EventHub::~EventHub() = default;

std::optional<std::string> EventHub::overLimits(std::string_view subject) const {
  if (subject.size() > settings_.maxSubject) {
    return quoted(subject.substr(0, 64)) + "... is longer than " + std::to_string(settings_.maxSubject) +
           " bytes (strata.events.max_subject)";
  }
  if (core::tokenCount(subject) > settings_.maxTokens) {
    return quoted(subject) + " has more than " + std::to_string(settings_.maxTokens) +
           " tokens (strata.events.max_tokens)";
  }
  return std::nullopt;
}

Subscriber* EventHub::attached(const PeerId& peer) {
  auto it = byPeer_.find(peer);
  return it == byPeer_.end() ? nullptr : it->second;
}

void EventHub::onSubscribe(const PeerId& peer, const core::Identity& who, const codec::Subscribe& m, TimePoint now) {
  // All or nothing: a message with one refused pattern adds none of them.
  for (auto pattern : m.patterns) {
    if (auto problem = overLimits(pattern)) return refuseSubscription(peer, m.id, ErrorCode::kTooLarge, *problem);
    if (!policy_.maySubscribe(who.layer, pattern)) {
      return refuseSubscription(peer, m.id, ErrorCode::kForbidden,
                    "layer " + std::to_string(who.layer) + " may not subscribe to " + quoted(pattern) +
                        " (strata.events.subscribe." + std::to_string(who.layer) + ")");
    }
  }
  Subscriber* onPeer = attached(peer);
  if (onPeer && onPeer->session != m.session) {
    return refuseSubscription(peer, m.id, ErrorCode::kMalformed, "one subscriber session per connection");
  }
  auto key = sessionKey(who.name, m.session);
  auto it = sessions_.find(key);
  Subscriber* s = it == sessions_.end() ? nullptr : it->second.get();
  std::size_t adding = 0;
  for (auto pattern : m.patterns) {
    bool held = s && std::find(s->patterns.begin(), s->patterns.end(), pattern) != s->patterns.end();
    adding += !held;
  }
  std::size_t holding = s ? s->patterns.size() : 0;
  if (holding + adding > settings_.maxSubscriptions) {
    return refuseSubscription(peer, m.id, ErrorCode::kTooLarge,
                  "a subscriber may hold at most " + std::to_string(settings_.maxSubscriptions) +
                      " subscriptions (strata.events.max_subscriptions)");
  }
  if (!s) {
    auto made = std::make_unique<Subscriber>();
    made->name = who.name;
    made->layer = who.layer;
    made->session = m.session;
    s = made.get();
    sessions_.emplace(key, std::move(made));
    logger().information("subscriber %s (layer %d) opened a session", who.name, who.layer);
  }
  s->lastSeen = now;
  if (s->peer != peer) {
    // A new connection: the subscriber came back (or is here for the first time). What it
    // was sent and did not confirm goes again; it drops what it already has.
    bool back = !s->peer.empty() || s->nextBatch > 1;
    if (!s->peer.empty()) byPeer_.erase(s->peer);
    s->peer = peer;
    byPeer_[peer] = s;
    if (back) {
      logger().information("subscriber %s is back; %z batch(es) sent again, %z event(s) waiting, %Lu dropped", s->name,
                           s->unconfirmed.size(), s->queue.size(), static_cast<unsigned long long>(s->dropped));
    }
    s->unsent = s->unconfirmed.size();
    sendUnsent(*s);
  }
  for (auto pattern : m.patterns) {
    if (std::find(s->patterns.begin(), s->patterns.end(), pattern) != s->patterns.end()) continue;
    s->patterns.emplace_back(pattern);
    table_.add(pattern, s);
  }
  reply(peer, m.id, "{\"subscriptions\":" + std::to_string(s->patterns.size()) + "}");
  markPending(*s);
}

void EventHub::onUnsubscribe(const PeerId& peer, const core::Identity& who, const codec::Unsubscribe& m) {
  auto it = sessions_.find(sessionKey(who.name, m.session));
  if (it == sessions_.end()) return reply(peer, m.id, "{\"subscriptions\":0}");
  Subscriber& s = *it->second;
  if (m.patterns.empty()) {
    end(s);  // the subscriber is done: nothing of it lingers
    return reply(peer, m.id, "{\"subscriptions\":0}");
  }
  for (auto pattern : m.patterns) {
    auto held = std::find(s.patterns.begin(), s.patterns.end(), pattern);
    if (held == s.patterns.end()) continue;
    table_.remove(pattern, &s);
    s.patterns.erase(held);
  }
  reply(peer, m.id, "{\"subscriptions\":" + std::to_string(s.patterns.size()) + "}");
}

void EventHub::onPublish(const PeerId& peer, const core::Identity& who, const codec::Publish& m) {
  // A publisher's batch mostly holds one subject again and again: its limits, the
  // policy and the subscribers it matches are worked out once for a run of it. A refused
  // event never starts a run, so each refused one is refused on its own.
  Accepts& accepts = accepts_[peer];
  std::string_view run;  // the subject of the run matched_ holds
  std::uint64_t runTable = 0;  // the table's generation when matched_ was filled
  for (const auto& e : m.events) {
    if (e.subject != run || runTable != table_.generation()) {
      if (!admitted(peer, who, e)) {
        run = {};
        continue;
      }
      table_.match(e.subject, matched_);
      run = e.subject;
      runTable = table_.generation();
    }
    ++stats_.published;
    if (!matched_.empty()) {
      // Encoded once, with its publisher as authenticated, and copied into each queue.
      codec::Event relayed{e.id, {static_cast<std::uint8_t>(who.layer), who.name}, e.subject, e.headerBlock, e.body};
      record_.resize(codec::eventRecordSize(relayed));
      codec::writeEventRecord(relayed, record_.data());
      // enqueue may end that one slow subscriber's session and no other: the table's
      // generation then changes, and the next event is matched again.
      for (Subscriber* s : matched_) enqueue(*s, record_);
    }
    accept(peer, accepts, e.id);
  }
}

bool EventHub::admitted(const PeerId& peer, const core::Identity& who, const codec::Event& e) {
  if (auto problem = overLimits(e.subject)) {
    ++stats_.refused;
    refuse(peer, e.id, ErrorCode::kTooLarge, *problem);
    return false;
  }
  if (!policy_.mayPublish(who.layer, e.subject)) {
    ++stats_.refused;
    refuse(peer, e.id, ErrorCode::kForbidden,
           "layer " + std::to_string(who.layer) + " may not publish on " + quoted(e.subject) +
               " (strata.events.publish." + std::to_string(who.layer) + ")");
    return false;
  }
  return true;
}

void EventHub::enqueue(Subscriber& s, std::string_view record) {
  if (record.size() > settings_.queueBytes) {
    ++s.dropped;  // larger than the whole queue: it can never be held, and takes nothing else with it
    ++stats_.dropped;
    return;
  }
  auto fits = [&] {
    return s.queue.size() < settings_.queueEvents && s.queue.bytes() + record.size() <= settings_.queueBytes;
  };
  // A subscriber that can take a batch gets one now rather than at the end of the turn,
  // when a full one is ready or its queue would overflow: only one that cannot take more
  // (its window is used up) ever loses events.
  bool windowOpen = !s.peer.empty() && s.unconfirmed.size() < codec::kEventWindow;
  if (windowOpen && (!fits() || s.queue.bytes() + record.size() > codec::kEventsBatchBytes)) sendBatches(s);
  if (!fits() && settings_.slow == EventSettings::SlowPolicy::kDisconnect) {
    ++stats_.disconnectedSlow;
    logger().warning("subscriber %s is too slow (%z events queued): disconnected, its session ended", s.name,
                     s.queue.size());
    if (!s.peer.empty()) sendMessage(s.peer, codec::Disconnect{"too slow: the broker's queue for this subscriber is full"});
    end(s);
    return;
  }
  // Oldest first, so what it gets when it catches up is the newest.
  while (!s.queue.empty() && !fits()) {
    s.queue.pop();
    ++s.dropped;
    ++stats_.dropped;
  }
  s.queue.push(record);
  markPending(s);
}

void EventHub::onReceived(const PeerId& peer, const codec::Received& m, TimePoint now) {
  Subscriber* s = attached(peer);
  if (!s || s->session != m.session) return;
  s->lastSeen = now;
  while (!s->unconfirmed.empty() && s->unconfirmed.front().first <= m.batch) s->unconfirmed.pop_front();
  markPending(*s);
}

void EventHub::markPending(Subscriber& s) {
  if (s.pending || (s.queue.empty() && s.unsent == 0)) return;
  s.pending = true;
  toSend_.push_back(&s);
}

void EventHub::onSeen(const PeerId& peer, TimePoint now) {
  if (byPeer_.empty()) return;
  if (Subscriber* s = attached(peer)) s->lastSeen = now;
}

void EventHub::flush() {
  for (std::size_t i = 0; i < toSend_.size(); ++i) {
    Subscriber* s = toSend_[i];
    s->pending = false;
    sendBatches(*s);
  }
  toSend_.clear();
  for (auto& [peer, accepts] : accepts_) flushAccepts(peer, accepts);
  accepts_.clear();
}

void EventHub::sendUnsent(Subscriber& s) {
  while (s.unsent > 0 && !s.peer.empty()) {
    zmq::message_t again;
    again.copy(s.unconfirmed[s.unconfirmed.size() - s.unsent].second);
    if (sendFrame(s, again) != SendResult::kSent) return;
    --s.unsent;
  }
}

void EventHub::sendBatches(Subscriber& s) {
  sendUnsent(s);
  if (s.unsent > 0) return;  // the connection is still full: batches keep their order
  while (!s.peer.empty() && !s.queue.empty() && s.unconfirmed.size() < codec::kEventWindow) {
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (; count < s.queue.size() && count < codec::kMaxEventsPerBatch; ++count) {
      auto next = s.queue.sizeAt(count);
      if (count > 0 && codec::kEventsHeaderSize + bytes + next > codec::kEventsBatchBytes) break;
      bytes += next;
    }
    zmq::message_t frame(codec::kEventsHeaderSize + bytes);
    auto* at = frame.data<char>();
    std::uint64_t batch = s.nextBatch++;
    codec::writeEventsHeader(batch, s.dropped, static_cast<std::uint32_t>(count), at);
    auto run = s.queue.front(bytes);
    std::memcpy(at + codec::kEventsHeaderSize, run.data(), run.size());
    s.queue.popFront(count, bytes);
    s.delivered += count;
    stats_.delivered += count;
    zmq::message_t kept;
    kept.copy(frame);  // shares the buffer
    s.unconfirmed.emplace_back(batch, std::move(kept));
    if (auto result = sendFrame(s, frame); result != SendResult::kSent) {
      if (result == SendResult::kFull) s.unsent = 1;  // kept in unconfirmed: goes out first next time
      return;
    }
  }
}

SendResult EventHub::sendFrame(Subscriber& s, zmq::message_t& frame) {
  out_.clear();
  out_.push_back(std::move(frame));
  auto result = send_(s.peer, out_);
  if (result == SendResult::kGone) {
    // Its connection is gone; the session waits for it to come back, or for its linger,
    // and then gets every unconfirmed batch again.
    byPeer_.erase(s.peer);
    s.peer.clear();
  }
  return result;
}

void EventHub::accept(const PeerId& peer, Accepts& a, const core::MessageId& id) {
  auto session = codec::eventSession(id);
  auto sequence = codec::eventSequence(id);
  if (a.session != session && !a.ranges.empty()) flushAccepts(peer, a);
  a.session = session;
  if (!a.ranges.empty() && a.ranges.back().last + 1 == sequence) {
    a.ranges.back().last = sequence;
    return;
  }
  if (a.ranges.size() == codec::kMaxAcceptedRanges) flushAccepts(peer, a);
  a.ranges.push_back({sequence, sequence});
}

void EventHub::flushAccepts(const PeerId& peer, Accepts& a) {
  if (a.ranges.empty()) return;
  sendMessage(peer, codec::Accepted{a.session, std::move(a.ranges)});
  a.ranges.clear();
}

void EventHub::onTick(TimePoint now) {
  if (sessions_.empty() || now < nextLingerCheck_) return;
  nextLingerCheck_ = now + kLingerCheck;
  std::vector<Subscriber*> gone;
  for (auto& [key, s] : sessions_)
    if (now - s->lastSeen > settings_.linger) gone.push_back(s.get());
  for (Subscriber* s : gone) {
    logger().information("subscriber %s not seen for %Ld ms: session ended, %z queued event(s) dropped", s->name,
                         static_cast<long long>(settings_.linger.count()), s->queue.size());
    end(*s);
  }
}

std::size_t EventHub::endSessionsOf(const std::function<bool(const std::string&)>& matches, std::string_view why) {
  std::vector<Subscriber*> ending;
  for (const auto& [key, s] : sessions_)
    if (matches(s->name)) ending.push_back(s.get());
  for (Subscriber* s : ending) {
    if (!s->peer.empty()) sendMessage(s->peer, codec::Disconnect{why});
    end(*s);
  }
  return ending.size();
}

void EventHub::end(Subscriber& s) {
  for (const auto& pattern : s.patterns) table_.remove(pattern, &s);
  if (!s.peer.empty()) byPeer_.erase(s.peer);
  if (s.pending) std::erase(toSend_, &s);
  sessions_.erase(sessionKey(s.name, s.session));
}

void EventHub::reply(const PeerId& peer, const core::MessageId& id, std::string text) {
  sendMessage(peer, codec::Reply{id, {{"content-type", "application/json"}}, {text}});
}

void EventHub::refuseSubscription(const PeerId& peer, const core::MessageId& id, ErrorCode code, std::string text) {
  ++stats_.subscriptionsRefused;
  refuse(peer, id, code, std::move(text));
}

void EventHub::refuse(const PeerId& peer, const core::MessageId& id, ErrorCode code, std::string text) {
  sendMessage(peer, codec::Error{id, code, text.substr(0, codec::kMaxErrorText)});
}

void EventHub::sendMessage(const PeerId& peer, const codec::Message& message) {
  out_.clear();
  for (auto& frame : codec::encode(message)) out_.emplace_back(frame.data(), frame.size());
  send_(peer, out_);
}

std::vector<PatternInfo> EventHub::patterns() const {
  std::map<std::string, std::size_t> counts;
  for (const auto& [key, s] : sessions_)
    for (const auto& p : s->patterns) ++counts[p];
  std::vector<PatternInfo> out;
  for (auto& [pattern, subscribers] : counts) out.push_back({pattern, subscribers});
  return out;
}

}  // namespace strata::broker
