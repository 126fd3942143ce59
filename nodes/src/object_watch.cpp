#include <strata/nodes/object_watch.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/codecs/payload.h>

namespace strata::nodes {

namespace {

using Poco::JSON::Object;
using Clock = std::chrono::steady_clock;

// Runs functions after a delay, on one thread for the whole process: how watches wait
// before asking a store that could not be reached again.
class Delays {
 public:
  static Delays& instance() {
    static Delays delays;
    return delays;
  }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) {
    {
      std::lock_guard lock(mutex_);
      due_.emplace(Clock::now() + delay, std::move(fn));
    }
    wake_.notify_one();
  }
  ~Delays() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  Delays() : thread_([this] { run(); }) {}
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (due_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = due_.begin();
      if (first->first > Clock::now()) {
        wake_.wait_until(lock, first->first);
        continue;
      }
      auto fn = std::move(first->second);
      due_.erase(first);
      lock.unlock();
      try {
        fn();
      } catch (const std::exception&) {
        // The client is closing: the watch it served is over.
      }
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, std::function<void()>> due_;
  bool stopping_ = false;
  std::thread thread_;
};

Object::Ptr parseObject(const Body& body) {
  std::string text;
  for (const auto& frame : body) text += frame;
  auto decoded = codecs::jsonCodec().decode(text);
  if (!decoded.ok()) throw std::runtime_error("the store's answer is not JSON: " + decoded.error);
  if (decoded.value.type() != typeid(Object::Ptr)) throw std::runtime_error("the store's answer is not a JSON object");
  return decoded.value.extract<Object::Ptr>();
}

std::string jsonOf(const Poco::Dynamic::Var& value) { return codecs::jsonCodec().encode(value); }

std::int64_t number(const Object::Ptr& object, const std::string& name) {
  return object->has(name) ? object->getValue<Poco::Int64>(name) : 0;
}

}  // namespace

struct ObjectWatch::State : std::enable_shared_from_this<ObjectWatch::State> {
  State(Client& c, std::string col, std::string pre, Handlers h, Options o)
      : client(c), collection(std::move(col)), prefix(std::move(pre)), handlers(std::move(h)), options(std::move(o)) {}

  Client& client;
  const std::string collection;
  const std::string prefix;
  const Handlers handlers;
  const Options options;

  std::recursive_mutex callbackMutex;  // held while a callback runs; cancel() takes it
  std::atomic<bool> stopped{false};
  std::atomic<std::int64_t> position{0};
  std::atomic<std::uint64_t> generation{0};  // of the request whose answers count
  // The snapshot being received (loop thread only).
  std::vector<WatchedObject> pending;
  std::int64_t nextPart = 0;
  bool broken = false;

  std::string requestBody(bool withAfter) const {
    std::string body = "{\"collection\":" + jsonOf(collection);
    if (!prefix.empty()) body += ",\"prefix\":" + jsonOf(prefix);
    if (withAfter) body += ",\"after\":" + std::to_string(position.load());
    return body + "}";
  }

  void send(bool stream) {
    if (stopped) return;
    auto gen = ++generation;
    if (!stream) {
      pending.clear();
      nextPart = 0;
      broken = false;
    }
    OutgoingRequest request;
    request.service = options.service;
    request.body = {requestBody(stream)};
    request.headers = {{"content-type", "application/json"}};
    request.timeout = stream ? options.streamTimeout : options.snapshotTimeout;
    std::weak_ptr<State> weak = shared_from_this();
    client.callAsync(
        std::move(request),
        [weak, gen, stream](Response&& response) {
          if (auto self = weak.lock()) self->onFinal(gen, stream, response);
        },
        [weak, gen, stream](PartialResponse&& partial) {
          if (auto self = weak.lock()) self->onPartial(gen, stream, partial);
        });
  }

  void later(bool stream) {
    std::weak_ptr<State> weak = shared_from_this();
    Delays::instance().after(options.retryDelay, [weak, stream] {
      auto self = weak.lock();
      if (!self) return;
      std::lock_guard lock(self->callbackMutex);
      self->send(stream);
    });
  }

  bool current(std::uint64_t gen) const { return !stopped && gen == generation.load(); }

  void onPartial(std::uint64_t gen, bool stream, const PartialResponse& partial) {
    std::lock_guard lock(callbackMutex);
    if (!current(gen)) return;
    try {
      auto message = parseObject(partial.body);
      auto type = message->optValue<std::string>("type", "");
      if (!stream && type == "snapshot") {
        if (number(message, "part") != nextPart) broken = true;  // a page went missing
        ++nextPart;
        auto objects = message->getArray("objects");
        for (unsigned i = 0; objects && i < objects->size(); ++i) {
          auto o = objects->getObject(i);
          pending.push_back({o->getValue<std::string>("key"), number(o, "revision"), jsonOf(o->get("attributes"))});
        }
      } else if (stream && type == "changes") {
        applyChanges(message);
      }
    } catch (const std::exception&) {
      broken = true;
      if (stream) send(true);  // start again from what was applied
    }
  }

  void applyChanges(const Object::Ptr& message) {
    auto from = number(message, "from"), to = number(message, "to");
    if (from > position.load()) {
      send(true);  // something between went missing: ask again from what was applied
      return;
    }
    auto changes = message->getArray("changes");
    for (unsigned i = 0; changes && i < changes->size(); ++i) {
      auto c = changes->getObject(i);
      WatchedChange change;
      change.revision = number(c, "revision");
      if (change.revision <= position.load()) continue;  // had it already
      change.op = c->getValue<std::string>("op");
      change.key = c->getValue<std::string>("key");
      change.attributes = c->has("attributes") ? jsonOf(c->get("attributes")) : "{}";
      if (auto names = c->getArray("changed")) {
        for (unsigned k = 0; k < names->size(); ++k) change.changed.push_back(names->getElement<std::string>(k));
      }
      position = change.revision;
      if (handlers.onChange) handlers.onChange(change);
      if (stopped) return;
    }
    if (to > position.load()) position = to;
  }

  void onFinal(std::uint64_t gen, bool stream, const Response& response) {
    std::lock_guard lock(callbackMutex);
    if (!current(gen)) return;
    if (!response.ok) {
      bool over = response.errorCode == ErrorCode::kForbidden || response.errorCode == ErrorCode::kMalformed ||
                  response.errorCode == ErrorCode::kTooLarge;
      if (over) {
        stopped = true;
        if (handlers.onError) handlers.onError(response.errorCode, response.errorText);
        return;
      }
      later(stream);  // the store could not be reached or answered in time: ask again
      return;
    }
    try {
      auto message = parseObject(response.body);
      auto type = message->optValue<std::string>("type", "");
      if (type == "reset") {
        if (handlers.onReset) handlers.onReset(message->optValue<std::string>("reason", "the store cannot resume"));
        if (!stopped) send(false);
        return;
      }
      if (!stream) {
        if (type != "ready" || broken || number(message, "parts") != nextPart) {
          send(false);  // incomplete: take it again
          return;
        }
        auto revision = number(message, "revision");
        for (const auto& object : pending) {
          if (handlers.onObject) handlers.onObject(object);
          if (stopped) return;
        }
        auto count = pending.size();
        pending.clear();
        position = revision;
        if (handlers.onReady) handlers.onReady(revision, count);
        send(true);
        return;
      }
      if (type == "end" && number(message, "from") <= position.load()) {
        position = std::max(position.load(), number(message, "to"));
      }
      send(true);
    } catch (const std::exception&) {
      send(stream ? true : false);
    }
  }
};

ObjectWatch::ObjectWatch(Client& client, std::string collection, std::string prefix, Handlers handlers, Options options)
    : state_(std::make_shared<State>(client, std::move(collection), std::move(prefix), std::move(handlers),
                                     std::move(options))) {
  state_->send(false);
}

ObjectWatch::~ObjectWatch() { cancel(); }

std::int64_t ObjectWatch::revision() const { return state_->position.load(); }

void ObjectWatch::cancel() {
  std::lock_guard lock(state_->callbackMutex);
  state_->stopped = true;
}

}  // namespace strata::nodes
