#include <strata/integrations/store/change_feed.h>

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <strata/codecs/payload.h>

namespace strata::integrations::store {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.store"); }

// How many changes one read of the database returns at most.
constexpr std::size_t kReadBatch = 1000;

std::string describe(const std::exception& e) {
  if (const auto* poco = dynamic_cast<const Poco::Exception*>(&e)) return poco->displayText();
  return e.what();
}

std::string endJson(const char* type, std::int64_t from, std::int64_t to) {
  return std::string("{\"type\":\"") + type + "\",\"from\":" + std::to_string(from) + ",\"to\":" + std::to_string(to) +
         "}";
}

}  // namespace

ChangeFeed::ChangeFeed(ObjectStore& store, const AccessRules& rules, Settings settings)
    : store_(store), rules_(rules), settings_(settings) {
  head_ = store_.head().revision;
  thread_ = std::thread([this] { run(); });
}

ChangeFeed::~ChangeFeed() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (auto* list : {&watches_, &added_}) {
    for (auto& w : *list) w.sink->finish(endJson("end", w.sentTo, w.cursor));
  }
}

bool ChangeFeed::reserve() {
  std::lock_guard lock(mutex_);
  if (count_ >= settings_.maxWatches) return false;
  ++count_;
  return true;
}

void ChangeFeed::release() {
  std::lock_guard lock(mutex_);
  --count_;
}

void ChangeFeed::add(WatchSpec spec, std::unique_ptr<WatchSink> sink) {
  {
    std::lock_guard lock(mutex_);
    Watch w{std::move(spec), std::move(sink)};
    w.cursor = w.sentTo = w.spec.after;
    added_.push_back(std::move(w));
  }
  wake_.notify_all();
}

void ChangeFeed::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

std::size_t ChangeFeed::watches() const {
  std::lock_guard lock(mutex_);
  return count_;
}

void ChangeFeed::run() {
  bool behind = false;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (!behind) {
        wake_.wait_for(lock, settings_.poll, [&] { return poked_ || stopping_ || !added_.empty(); });
      }
      if (stopping_) return;
      poked_ = false;
      watches_.splice(watches_.end(), added_);
    }
    behind = false;
    try {
      follow();
    } catch (const std::exception& e) {
      logger().warning("store: cannot read the change log: %s", describe(e));
      continue;  // tried again after one poll, not at once
    }
    auto now = std::chrono::steady_clock::now();
    std::size_t ended = 0;
    for (auto it = watches_.begin(); it != watches_.end();) {
      State state = State::kEnded;
      if (now < it->spec.end) {
        try {
          state = serve(*it);
        } catch (const std::exception& e) {
          logger().warning("store: a watch of '%s' could not be served: %s", it->spec.collection, describe(e));
          state = State::kCaughtUp;  // tried again after one poll
        }
      }
      if (state == State::kEnded) it->sink->finish(endJson("end", it->sentTo, it->cursor));
      if (state == State::kEnded || state == State::kDone) {
        it = watches_.erase(it);
        ++ended;
        continue;
      }
      behind = behind || state == State::kBehind;
      ++it;
    }
    if (ended > 0) {
      std::lock_guard lock(mutex_);
      count_ -= ended;
    }
  }
}

void ChangeFeed::follow() {
  if (watches_.empty()) {
    // Nobody to send to: keep only the head, not the changes.
    recent_.clear();
    head_ = store_.head().revision;
    return;
  }
  while (true) {
    auto batch = store_.changes(head_, kReadBatch);
    // Memory holds consecutive revisions; if the log was pruned past what memory has,
    // start memory afresh (watches behind it read the database, and hear of the prune).
    if (!batch.empty() && batch.front().revision != head_ + 1) recent_.clear();
    for (auto& change : batch) {
      head_ = change.revision;
      recent_.push_back(std::make_shared<const Change>(std::move(change)));
    }
    while (recent_.size() > settings_.memory) recent_.pop_front();
    if (batch.size() < kReadBatch) return;
  }
}

ChangeFeed::State ChangeFeed::serve(Watch& w) {
  if (w.cursor >= head_) return State::kCaughtUp;
  const auto& spec = w.spec;
  std::string items;
  std::int64_t scanned = w.cursor;
  bool full = false;
  auto consider = [&](const Change& c) {
    if (items.size() >= settings_.maxPartialBytes) {
      full = true;
      return false;
    }
    if (c.collection == spec.collection && c.key.compare(0, spec.prefix.size(), spec.prefix) == 0) {
      bool visible = false;
      std::string json = changeJson(c, spec.caller, visible);
      if (visible) {
        if (!items.empty()) items += ',';
        items += json;
      }
    }
    scanned = c.revision;
    return true;
  };
  std::int64_t memoryFrom = recent_.empty() ? head_ + 1 : recent_.front()->revision;
  if (w.cursor + 1 < memoryFrom) {
    // Older than memory: from the database, while the log still reaches back that far
    // (asked after the read, so a prune between the two cannot hide a gap).
    auto batch = store_.changes(w.cursor, kReadBatch, spec.collection, memoryFrom - 1);
    if (w.cursor < store_.head().pruned) {
      w.sink->finish("{\"type\":\"reset\",\"reason\":\"the change log no longer holds revision " +
                     std::to_string(w.cursor + 1) + "\",\"from\":" + std::to_string(w.sentTo) + "}");
      return State::kDone;
    }
    for (const auto& c : batch) {
      if (!consider(c)) break;
    }
    if (!full && batch.size() < kReadBatch) scanned = memoryFrom - 1;
  } else {
    auto first = static_cast<std::size_t>(w.cursor + 1 - memoryFrom);
    for (auto i = first; i < recent_.size(); ++i) {
      if (!consider(*recent_[i])) break;
    }
  }
  if (!items.empty()) {
    w.sink->send("{\"type\":\"changes\",\"from\":" + std::to_string(w.sentTo) + ",\"to\":" + std::to_string(scanned) +
                 ",\"changes\":[" + items + "]}");
    w.sentTo = scanned;
  }
  w.cursor = scanned;
  return w.cursor < head_ ? State::kBehind : State::kCaughtUp;
}

std::string ChangeFeed::changeJson(const Change& change, const Caller& caller, bool& visible) const {
  std::string out = "{\"revision\":" + std::to_string(change.revision) + ",\"op\":";
  if (change.op == Change::Op::kDelete) {
    visible = true;
    out += "\"delete\",\"key\":";
    codecs::writeJsonString(change.key, out);
    return out + "}";
  }
  std::string changed;
  for (const auto& name : change.changed) {
    if (!rules_.mayRead(change.collection, name, caller)) continue;
    if (!changed.empty()) changed += ',';
    codecs::writeJsonString(name, changed);
  }
  // A change that touches only attributes the caller may not read is not sent at all.
  visible = change.op == Change::Op::kCreate || !changed.empty();
  if (!visible) return {};
  out += change.op == Change::Op::kCreate ? "\"create\",\"key\":" : "\"update\",\"key\":";
  codecs::writeJsonString(change.key, out);
  out += ",\"attributes\":";
  out += attributesJson(change.attributes,
                        [&](const std::string& name) { return rules_.mayRead(change.collection, name, caller); });
  return out + ",\"changed\":[" + changed + "]}";
}

}  // namespace strata::integrations::store
