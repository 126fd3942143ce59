#include "event_fanout.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>

#include <Poco/JSON/Object.h>

#include <strata/codecs/text.h>
#include <strata/core/message_id.h>

#include "watch_relay.h"

namespace strata::integrations::http {

namespace {

// The event as a browser reads it: one JSON object; a body that is not UTF-8 text goes
// as base64.
std::string eventJson(const BusEvent& event) {
  Poco::JSON::Object out;
  out.set("subject", event.subject);
  out.set("id", event.id);
  Poco::JSON::Object::Ptr publisher = new Poco::JSON::Object;
  publisher->set("name", event.publisherName);
  publisher->set("layer", event.publisherLayer);
  out.set("publisher", publisher);
  Poco::JSON::Object::Ptr headers = new Poco::JSON::Object;
  for (const auto& [key, value] : event.headers) {
    if (codecs::isUtf8(key) && codecs::isUtf8(value)) headers->set(key, value);
  }
  out.set("headers", headers);
  if (codecs::isUtf8(event.body)) {
    out.set("body", event.body);
  } else {
    out.set("body_base64", codecs::toBase64(event.body));
  }
  std::ostringstream text;
  out.stringify(text);
  return text.str();
}

std::string newSession() {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(core::randomWord()));
  return hex;
}

}  // namespace

struct EventFanout::State {
  struct Kept {
    std::uint64_t position;
    std::string text;  // the whole SSE event
  };
  struct Pattern {
    std::uint64_t subscription = 0;
    bool subscribed = false;
    // Ids are "<session>-<position>": a session per subscription, so an id from before
    // the pattern was let go (or from another gateway process) is never taken for one now.
    std::string session = newSession();
    std::uint64_t position = 0;
    std::uint64_t dropped = 0;  // the newest position no longer kept
    std::deque<Kept> kept;
    std::size_t keptBytes = 0;
    std::vector<std::shared_ptr<Stream>> streams;
    std::chrono::steady_clock::time_point idleSince = std::chrono::steady_clock::now();
  };

  BusSubscribe subscribe;
  BusUnsubscribe unsubscribe;
  Options options;
  std::mutex subscribing;  // one bus subscription made at a time
  std::mutex mutex;        // guards what follows
  std::map<std::string, Pattern> patterns;
  bool stopped = false;

  void deliver(const std::string& pattern, const BusEvent& event) {
    auto json = eventJson(event);
    std::lock_guard lock(mutex);
    auto it = patterns.find(pattern);
    if (it == patterns.end() || stopped) return;
    auto& p = it->second;
    auto at = ++p.position;
    Kept kept{at, sseEvent("", p.session + "-" + std::to_string(at), json)};
    std::erase_if(p.streams, [&](const auto& out) { return !out->send(kept.text); });
    p.keptBytes += kept.text.size();
    p.kept.push_back(std::move(kept));
    while (!p.kept.empty() && (p.kept.size() > options.keepEvents || p.keptBytes > options.keepBytes)) {
      p.dropped = p.kept.front().position;
      p.keptBytes -= p.kept.front().text.size();
      p.kept.pop_front();
    }
  }

  // The subscriptions of patterns nobody has watched for linger; they leave the table.
  std::vector<std::uint64_t> takeIdle() {
    std::vector<std::uint64_t> idle;
    auto limit = std::chrono::steady_clock::now() - options.linger;
    for (auto it = patterns.begin(); it != patterns.end();) {
      if (it->second.subscribed && it->second.streams.empty() && it->second.idleSince < limit) {
        idle.push_back(it->second.subscription);
        it = patterns.erase(it);
      } else {
        ++it;
      }
    }
    return idle;
  }
};

EventFanout::EventFanout(BusSubscribe subscribe, BusUnsubscribe unsubscribe, Options options)
    : state_(std::make_shared<State>()) {
  state_->subscribe = std::move(subscribe);
  state_->unsubscribe = std::move(unsubscribe);
  state_->options = options;
}

EventFanout::~EventFanout() { stop(); }

bool EventFanout::available() const { return state_->subscribe && state_->unsubscribe; }

std::optional<BusReply> EventFanout::prepare(const std::string& pattern) {
  auto& s = *state_;
  std::lock_guard one(s.subscribing);
  std::vector<std::uint64_t> idle;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopped) return BusReply::failure(codecs::ErrorCode::kUnavailable, "the gateway is stopping");
    idle = s.takeIdle();
    auto it = s.patterns.find(pattern);
    if (it != s.patterns.end() && it->second.subscribed) {
      it->second.idleSince = std::chrono::steady_clock::now();
      for (auto number : idle) s.unsubscribe(number);
      return std::nullopt;
    }
    s.patterns[pattern];  // events may come before subscribe returns
  }
  for (auto number : idle) s.unsubscribe(number);
  // The handler holds the state, so an event delivered late finds it alive.
  auto subscription = s.subscribe(pattern, [state = state_, pattern](const BusEvent& e) { state->deliver(pattern, e); });
  std::lock_guard lock(s.mutex);
  if (subscription.refusal) {
    s.patterns.erase(pattern);
    return subscription.refusal;
  }
  auto& p = s.patterns[pattern];
  p.subscription = subscription.number;
  p.subscribed = true;
  p.idleSince = std::chrono::steady_clock::now();
  return std::nullopt;
}

void EventFanout::attach(const std::string& pattern, const std::shared_ptr<Stream>& out, const std::string& lastEventId) {
  auto& s = *state_;
  std::lock_guard lock(s.mutex);
  auto it = s.patterns.find(pattern);
  if (s.stopped || it == s.patterns.end()) {
    out->close();  // gone since prepare (the gateway stopping): the browser asks again
    return;
  }
  auto& p = it->second;
  if (!lastEventId.empty()) {
    // An id of this subscription: what is kept after it goes out first.
    std::uint64_t after = 0;
    auto dash = lastEventId.find('-');
    bool ours = dash != std::string::npos && lastEventId.substr(0, dash) == p.session;
    if (ours) {
      auto digits = std::string_view(lastEventId).substr(dash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), after);
      ours = ec == std::errc() && end == digits.data() + digits.size() && after <= p.position;
    }
    if (!ours || after < p.dropped) {
      out->send(sseEvent("gap", "", R"({"message":"events published while this stream was away may be missing"})"));
    }
    for (const auto& kept : p.kept) {
      if (ours && kept.position > after) out->send(kept.text);
    }
  }
  p.streams.push_back(out);
}

void EventFanout::detach(const std::string& pattern, const Stream* out) {
  auto& s = *state_;
  std::lock_guard lock(s.mutex);
  auto it = s.patterns.find(pattern);
  if (it == s.patterns.end()) return;
  std::erase_if(it->second.streams, [out](const auto& held) { return held.get() == out; });
  if (it->second.streams.empty()) it->second.idleSince = std::chrono::steady_clock::now();
}

void EventFanout::stop() {
  auto& s = *state_;
  std::vector<std::uint64_t> numbers;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopped) return;
    s.stopped = true;
    for (auto& [_, p] : s.patterns) {
      if (p.subscribed) numbers.push_back(p.subscription);
      p.streams.clear();
    }
    s.patterns.clear();
  }
  if (s.unsubscribe) {
    for (auto number : numbers) s.unsubscribe(number);
  }
}

}  // namespace strata::integrations::http
