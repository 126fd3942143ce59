#include <strata/nodes/worker.h>

#include <mutex>

#include <Poco/Logger.h>
#include <zmq.hpp>

#include <strata/core/errors.h>
#include <strata/core/logging.h>
#include <strata/core/service_name.h>
#include <strata/core/socket_setup.h>
#include <strata/core/wakeup.h>
#include <strata/core/zap_server.h>
#include <strata/nodes/broker_link.h>
#include <strata/nodes/thread_pool.h>

#include "frames.h"

namespace strata::nodes {

namespace codec = strata::codecs;
using core::MessageId;
using core::TimePoint;

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.worker"); }

constexpr int kReceiveBatch = 256;
constexpr int kDirectLink = -1;
constexpr std::chrono::milliseconds kGoodbyeLinger{500};
using codecs::kWorkerHeader;

// Where an answer goes: a broker link (at the connection it came on) or a direct client.
struct Origin {
  int link = kDirectLink;
  std::uint64_t generation = 0;
  std::string routingId;
};

// The handler's outcome; what it throws becomes an `internal` error with its text.
Outcome runHandler(const Handler& handler, const IncomingRequest& request, const PartialSender& sendPartial) {
  try {
    return handler(request, sendPartial);
  } catch (const std::exception& e) {
    return Outcome::failure(ErrorCode::kInternal, std::string("handler failed: ") + e.what());
  } catch (...) {
    return Outcome::failure(ErrorCode::kInternal, "handler failed");
  }
}

struct Completion {
  enum class Kind {
    kAnswer,
    kLaterBegins,  // a handler took its answer out (answerLater): give its credit back
    kLaterFinal,   // the final answer of such a request
  };
  Origin origin;
  std::vector<std::string> frames;
  bool final = true;
  core::MessageId id;  // of a final answer, for copies that waited on it
  Kind kind = Kind::kAnswer;
};

// What answers given later reach the worker through: they may outlive it.
struct LaterHub {
  std::mutex mutex;
  std::function<void(Completion)> push;  // empty once the worker has stopped
};

}  // namespace

struct Worker::Impl {
  struct Link {
    std::string endpoint;
    // A context (so an I/O thread) per broker: libzmq resolves a host name on the I/O
    // thread, and while a dead broker's name fails to resolve it must not stall the others.
    std::unique_ptr<zmq::context_t> context;
    zmq::socket_t socket;
    BrokerLink state;
    std::uint64_t generation = 0;
    bool silent = false;  // lost the broker and not heard from it since
    // Credit the broker gets back from answers given later (their final answers return
    // credit the worker had already given back when the handler let go): spent before
    // the next CREDIT is sent. The protocol cannot take credit back, so between streams
    // the broker may hold up to (capacity + the most streams open at once) credit; what
    // it sends past capacity waits in the pool's queue. Loop thread only.
    std::uint32_t laterSurplus = 0;
    detail::Outgoing outgoing;  // what this turn sends on socket, leaving at its end
  };

  explicit Impl(WorkerOptions o) : options(std::move(o)) {}

  WorkerOptions options;
  struct Service {
    Handler handler;
    Execution execution = Execution::kPool;
  };
  std::map<std::string, Service, std::less<>> services;
  std::thread::id loopThread;
  zmq::context_t context{1};
  std::unique_ptr<core::ZapServer> zap;
  std::vector<std::unique_ptr<Link>> links;
  zmq::socket_t direct;
  std::vector<std::string> endpoints;
  core::Wakeup wakeup;
  core::SteadyClock clock;
  std::unique_ptr<ThreadPool> pool;
  std::mutex mutex;  // guards completions
  std::vector<Completion> completions;
  std::shared_ptr<LaterHub> laterHub = std::make_shared<LaterHub>();
  std::thread loop;
  std::atomic<std::size_t> registered{0};
  std::atomic<std::int64_t> lastTurnNs{0};  // steady clock
  std::atomic<bool> stopping{false};
  std::size_t directInFlight = 0;  // loop thread only
  // Ids being handled now, with the origins of copies that arrived meanwhile (loop thread only).
  std::unordered_map<MessageId, std::vector<Origin>, core::MessageIdHash> running;
  core::RateLimitedLog badInputLog;
  bool started = false;

  // The inline path's buffers, reused call after call on the loop thread (runInline).
  codec::Message linkDecoded;
  std::vector<std::string_view> batchMessages;  // of the batch being handled
  IncomingRequest inlineIn;
  const Origin* inlineOrigin = nullptr;
  bool inlinePartials = false;
  PartialSender inlinePartialSender;
  std::vector<codec::Header> replyHeaders;
  std::vector<std::string_view> replyBody;
  std::vector<std::string> replyFrames;

  void connect(Link& link);
  void apply(Link& link, BrokerLink::Actions actions);
  void sendReady(Link& link);
  void run();
  void onLinkMessage(int index, detail::FrameList& frames, std::vector<std::string_view>& views);
  void onLinkEnvelope(int index, codec::Frames frames);
  void onDirectMessage(detail::FrameList& frames, std::vector<std::string_view>& views);
  void onDirectEnvelope(const std::string& routingId, const core::Identity& identity, codec::Frames frames);
  void startJob(Origin origin, const codec::Request& request, core::Identity caller);
  void runInline(const Origin& origin, const codec::Request& request, core::Identity caller, const Handler& handler);
  void push(Completion completion);
  void flushCompletions();
  // Sends what each link's Outgoing holds: the one-frame messages of this turn, together.
  void flushSends();
  // Sends an answer where its request came from. Loop thread only.
  void deliver(const Completion& completion, core::TimePoint now);
  void deliver(const Origin& origin, const std::vector<std::string>& frames, bool final, core::TimePoint now);
  std::shared_ptr<LaterAnswer> answerLater(const Origin& origin, const MessageId& id);
};

namespace {

// A request's answer held outside its handler (IncomingRequest::answerLater).
class WorkerLaterAnswer final : public LaterAnswer {
 public:
  WorkerLaterAnswer(std::shared_ptr<LaterHub> hub, Origin origin, MessageId id)
      : hub_(std::move(hub)), origin_(std::move(origin)), id_(id) {}
  ~WorkerLaterAnswer() override { finish(Outcome::failure(ErrorCode::kUnavailable, "the answer was abandoned")); }

  void partial(Body body, Headers headers) override {
    codec::Partial partial{id_, detail::viewHeaders(headers), detail::viewBody(body)};
    std::lock_guard lock(mutex_);
    if (!finished_) send({origin_, codec::encode(partial), false, {}});
  }

  void finish(Outcome outcome) override {
    std::vector<std::string> frames;
    if (outcome.error) {
      auto& [code, text] = *outcome.error;
      frames = codec::encode(codec::Error{id_, code, std::string_view(text).substr(0, codec::kMaxErrorText)});
    } else {
      frames = codec::encode(codec::Reply{id_, detail::viewHeaders(outcome.headers), detail::viewBody(outcome.body)});
    }
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    send({origin_, std::move(frames), true, id_, Completion::Kind::kLaterFinal});
  }

 private:
  void send(Completion completion) {
    std::lock_guard lock(hub_->mutex);
    if (hub_->push) hub_->push(std::move(completion));
  }

  std::shared_ptr<LaterHub> hub_;
  Origin origin_;
  MessageId id_;
  std::mutex mutex_;  // one answer at a time, partials before the final one
  bool finished_ = false;
};

}  // namespace

std::shared_ptr<LaterAnswer> Worker::Impl::answerLater(const Origin& origin, const MessageId& id) {
  push({origin, {}, false, {}, Completion::Kind::kLaterBegins});
  return std::make_shared<WorkerLaterAnswer>(laterHub, origin, id);
}

Worker::Worker(WorkerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& w = *impl_;
  w.laterHub->push = [&w](Completion c) { w.push(std::move(c)); };
  w.inlinePartialSender = [&w](Body body, Headers headers) {
    codec::Partial partial{w.inlineIn.id, detail::viewHeaders(headers), detail::viewBody(body)};
    w.push({*w.inlineOrigin, codec::encode(partial), false, {}});
    w.inlinePartials = true;
  };
}

Worker::~Worker() { stop(); }

void Worker::addService(const std::string& name, Handler handler, Execution execution) {
  STRATA_ASSERT(!impl_->started);
  if (auto problem = core::serviceNameProblem(name)) throw ConfigError(*problem);
  impl_->services[name] = Impl::Service{std::move(handler), execution};
}

std::vector<std::string> Worker::endpoints() const { return impl_->endpoints; }

Worker::Status Worker::status() const {
  const Impl& w = *impl_;
  Status s;
  s.running = w.lastTurnNs.load(std::memory_order_relaxed) != 0 && !w.stopping;
  s.brokers = w.links.size();
  s.registered = w.registered.load(std::memory_order_relaxed);
  auto last = w.lastTurnNs.load(std::memory_order_relaxed);
  if (last != 0) {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    s.sinceLastTurn = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(now - last));
  }
  return s;
}

void Worker::start() {
  Impl& w = *impl_;
  if (w.services.empty()) throw ConfigError("a worker needs at least one service (strata.services)");
  if (w.options.brokers.empty() && w.options.bind.empty()) {
    throw ConfigError("a worker needs strata.brokers to register with, or strata.node.bind for direct mode");
  }
  if (!w.options.secretKey) throw ConfigError("strata.key is required");
  if (!w.options.brokers.empty() && !w.options.brokerKey) throw ConfigError("strata.broker_key is required");
  if (!w.options.bind.empty()) {
    if (!w.options.authorizedKeys || w.options.authorizedKeys->empty()) {
      throw ConfigError("direct mode needs strata.authorized_keys: a node admits only the keys it lists");
    }
    w.zap = std::make_unique<core::ZapServer>(w.context, w.options.authorizedKeys);
    w.direct = zmq::socket_t(w.context, zmq::socket_type::router);
    core::makeCurveServer(w.direct, *w.options.secretKey, w.options.limits);
    w.direct.set(zmq::sockopt::router_mandatory, true);
    for (const auto& e : w.options.bind) w.endpoints.push_back(core::bindSecure(w.direct, e));
  }
  for (const auto& endpoint : w.options.brokers) {
    auto link = std::make_unique<Impl::Link>(
        Impl::Link{endpoint, std::make_unique<zmq::context_t>(1), zmq::socket_t(),
                   BrokerLink(w.options.heartbeat, w.options.liveness), 0, false, 0, detail::Outgoing()});
    w.connect(*link);
    w.links.push_back(std::move(link));
  }
  w.pool = std::make_unique<ThreadPool>(w.options.threads);
  w.started = true;
  w.loop = std::thread([&w] { w.run(); });
}

void Worker::stop() {
  Impl& w = *impl_;
  if (!w.loop.joinable()) return;
  w.stopping = true;
  w.wakeup.signal();
  w.loop.join();
  w.pool.reset();
  std::lock_guard lock(w.laterHub->mutex);
  w.laterHub->push = nullptr;
}

void Worker::Impl::connect(Link& link) {
  link.socket = zmq::socket_t(*link.context, zmq::socket_type::dealer);
  link.outgoing = detail::Outgoing(options.limits.maxOneFrameMessage());  // nothing held for the old socket
  core::makeCurveClient(link.socket, *options.secretKey, *options.brokerKey, options.limits);
  try {
    link.socket.connect(link.endpoint);
  } catch (const zmq::error_t& e) {
    throw ConfigError("cannot connect to " + link.endpoint + ": " + e.what());
  }
  ++link.generation;
}

void Worker::Impl::sendReady(Link& link) {
  link.laterSurplus = 0;  // READY sets the broker's credit afresh
  std::vector<std::string_view> names;
  for (const auto& [name, _] : services) names.push_back(name);
  codec::Ready ready{options.capacity, static_cast<std::uint32_t>(options.heartbeat.count()), names};
  link.outgoing.send(link.socket, codec::encode(ready));
}

void Worker::Impl::apply(Link& link, BrokerLink::Actions actions) {
  try {
    if (actions.reconnect) {
      // Said once per outage; the retries every liveness period are debug detail.
      if (!link.silent) {
        logger().warning("broker lost endpoint=%s reason=\"no word from it\"; connecting again", link.endpoint);
      } else {
        logger().debug("%s: still no word from the broker; connecting again", link.endpoint);
      }
      link.silent = true;
      connect(link);
    }
    if (actions.sendReady) sendReady(link);
    if (actions.sendHeartbeat) link.outgoing.send(link.socket, codec::encode(codec::Heartbeat{}));
  } catch (const zmq::error_t& e) {
    logger().warning("%s: %s", link.endpoint, std::string(e.what()));
  }
}

void Worker::Impl::push(Completion completion) {
  {
    std::lock_guard lock(mutex);
    completions.push_back(std::move(completion));
  }
  // The loop flushes after every turn; only other threads need to wake it.
  if (std::this_thread::get_id() != loopThread) wakeup.signal();
}

void Worker::Impl::startJob(Origin origin, const codec::Request& request, core::Identity caller) {
  auto it = services.find(request.service);
  if (it == services.end()) {
    push({std::move(origin),
          codec::encode(codec::Error{request.id, ErrorCode::kUnknownService,
                                     "this node does not run '" + std::string(request.service) + "'"}),
          true, request.id});
    return;
  }
  if (options.idempotency) {
    // A copy of a request already in hand (sent again through another broker) waits for
    // the first one's answer instead of running the handler a second time.
    auto [slot, fresh] = running.try_emplace(request.id);
    if (!fresh) {
      slot->second.push_back(std::move(origin));
      return;
    }
  }
  if (it->second.execution == Execution::kInline && !options.idempotency) {
    runInline(origin, request, std::move(caller), it->second.handler);
    return;
  }
  auto in = std::make_shared<IncomingRequest>();
  in->id = request.id;
  in->store = options.idempotency.get();
  in->service = std::string(request.service);
  in->caller = std::move(caller);
  in->headers = detail::ownHeaders(request.headers);
  in->body = detail::ownBody(request.body);
  in->deadline = clock.now() + std::chrono::milliseconds(request.timeoutMs);
  const Handler* handler = &it->second.handler;
  auto detached = std::make_shared<bool>(false);
  if (!in->store) {
    in->answerLater = [this, origin, id = in->id, detached] {
      *detached = true;
      return answerLater(origin, id);
    };
  }
  auto job = [this, origin = std::move(origin), in, handler, detached] {
    PartialSender sendPartial = [&](Body body, Headers headers) {
      codec::Partial partial{in->id, detail::viewHeaders(headers), detail::viewBody(body)};
      push({origin, codec::encode(partial), false, {}});
    };
    Outcome outcome;
    std::optional<Outcome> stored;
    if (in->store) {
      try {
        stored = in->store->find(in->id);
      } catch (const std::exception& e) {
        logger().error("idempotency store: %s", std::string(e.what()));
      }
    }
    if (stored) {
      outcome = std::move(*stored);
      outcome.recorded = true;
    } else if (clock.now() >= in->deadline) {
      outcome = Outcome::failure(ErrorCode::kTimeout, "the deadline passed before a handler was free");
    } else {
      outcome = runHandler(*handler, *in, sendPartial);
    }
    in->answerLater = nullptr;
    // A handler that took its answer out gives it there, whatever it then returned.
    if (outcome.later || *detached) return;
    if (in->store && !outcome.recorded) {
      try {
        in->store->record(in->id, outcome);
      } catch (const std::exception& e) {
        outcome = Outcome::failure(ErrorCode::kInternal, std::string("cannot record the outcome: ") + e.what());
      }
    }
    if (outcome.error) {
      auto& [code, text] = *outcome.error;
      push({origin, codec::encode(codec::Error{in->id, code, text.substr(0, codec::kMaxErrorText)}), true, in->id});
      return;
    }
    outcome.headers.emplace_back(kWorkerHeader, options.name);
    codec::Reply reply{in->id, detail::viewHeaders(outcome.headers), detail::viewBody(outcome.body)};
    push({origin, codec::encode(reply), true, in->id});
  };
  if (it->second.execution == Execution::kInline) {
    job();
  } else {
    pool->post(std::move(job));
  }
}

void Worker::Impl::runInline(const Origin& origin, const codec::Request& request, core::Identity caller,
                             const Handler& handler) {
  // On the loop thread, with no idempotency store (so no copies wait on this id): the
  // request is built into buffers reused call after call, and the answer goes straight
  // to the socket, without the hand-off queue and its lock. A warm loop allocates only
  // what the handler itself does.
  IncomingRequest& in = inlineIn;
  in.id = request.id;
  in.store = nullptr;
  in.service.assign(request.service);
  in.caller = std::move(caller);
  detail::assignHeaders(in.headers, request.headers);
  detail::assignBody(in.body, request.body);
  auto now = clock.now();
  in.deadline = now + std::chrono::milliseconds(request.timeoutMs);
  inlineOrigin = &origin;
  inlinePartials = false;
  Outcome outcome = runHandler(handler, in, inlinePartialSender);
  if (outcome.error) {
    auto& [code, text] = *outcome.error;
    codec::encodeInto(codec::Error{in.id, code, std::string_view(text).substr(0, codec::kMaxErrorText)}, replyFrames);
  } else {
    outcome.headers.emplace_back(kWorkerHeader, options.name);
    detail::assignViews(replyHeaders, outcome.headers);
    replyBody.assign(outcome.body.begin(), outcome.body.end());
    codec::encodeInto(codec::Reply{in.id, replyHeaders, replyBody}, replyFrames);
  }
  if (inlinePartials) {
    push({origin, replyFrames, true, in.id});  // behind its partials, in order
  } else {
    deliver(origin, replyFrames, true, now);
  }
}

void Worker::Impl::onLinkMessage(int index, detail::FrameList& frames, std::vector<std::string_view>& views) {
  views.clear();
  for (const auto& f : frames) views.push_back(f.to_string_view());
  onLinkEnvelope(index, views);
}

void Worker::Impl::onLinkEnvelope(int index, codec::Frames frames) {
  Link& link = *links[index];
  auto error = codec::decodeInto(frames, linkDecoded);
  auto now = clock.now();
  if (error != codec::DecodeError::kNone) {
    if (badInputLog.allow(link.endpoint, now)) {
      logger().warning("%s: dropped a malformed message: %s", link.endpoint,
                       std::string(codec::decodeErrorName(error)));
    }
    return;
  }
  if (auto* batch = std::get_if<codec::Batch>(&linkDecoded)) {
    // Each message in turn, as if it had come alone (a batch holds no batch). Decoding
    // one reuses linkDecoded, so the list is swapped out first.
    batchMessages.swap(batch->messages);
    auto generation = link.generation;
    for (auto message : batchMessages) {
      onLinkEnvelope(index, codec::Frames(&message, 1));
      // A DISCONNECT in it had us connect afresh: the rest was for the old connection.
      if (link.generation != generation) break;
    }
    batchMessages.clear();
    return;
  }
  bool bye = std::holds_alternative<codec::Disconnect>(linkDecoded);
  if (bye) {
    logger().information("broker asked to register again endpoint=%s reason=\"%s\"", link.endpoint,
                         std::string(std::get<codec::Disconnect>(linkDecoded).reason));
  }
  if (link.silent && !bye) {
    link.silent = false;
    logger().information("broker back endpoint=%s: registered with it again", link.endpoint);
  }
  apply(link, link.state.onMessage(now, bye));
  if (auto* request = std::get_if<codec::Request>(&linkDecoded)) {
    // The broker vouches for the caller; it overwrote whatever the client claimed.
    core::Identity caller{std::string(request->caller.name), request->caller.layer};
    startJob(Origin{index, link.generation, {}}, *request, std::move(caller));
  }
}

void Worker::Impl::onDirectMessage(detail::FrameList& frames, std::vector<std::string_view>& views) {
  if (frames.size() < 2) return;
  std::string routingId = frames[0].to_string();
  const char* user = zmq_msg_gets(frames[1].handle(), "User-Id");
  // ZAP's User-Id is the peer's key.
  const core::Identity* identity = user ? options.authorizedKeys->lookup(user) : nullptr;
  if (!identity) return;
  frames.erase(frames.begin());
  views.clear();
  for (const auto& f : frames) views.push_back(f.to_string_view());
  onDirectEnvelope(routingId, *identity, views);
}

void Worker::Impl::onDirectEnvelope(const std::string& routingId, const core::Identity& identity,
                                    codec::Frames frames) {
  auto decoded = codec::decode(frames);
  if (auto* batch = decoded.ok() ? std::get_if<codec::Batch>(&decoded.message) : nullptr) {
    for (auto message : batch->messages) onDirectEnvelope(routingId, identity, codec::Frames(&message, 1));
    return;
  }
  auto* request = decoded.ok() ? std::get_if<codec::Request>(&decoded.message) : nullptr;
  if (!request) {
    if (badInputLog.allow(identity.name, clock.now())) {
      logger().warning("dropped a malformed message from %s: %s (%z more held back since the last line)",
                       identity.name, std::string(codec::decodeErrorName(decoded.error)),
                       badInputLog.suppressed(identity.name));
    }
    return;
  }
  Origin origin{kDirectLink, 0, routingId};
  auto refuse = [&](ErrorCode code, std::string text) {
    push({std::move(origin), codec::encode(codec::Error{request->id, code, text}), false, {}});
  };
  if (!options.policy.allows(identity.layer, options.layer, request->service)) {
    refuse(ErrorCode::kForbidden, core::mayNotCall(identity.layer, request->service));
    return;
  }
  if (directInFlight >= options.capacity) {
    refuse(ErrorCode::kUnavailable, "this node is at capacity");
    return;
  }
  ++directInFlight;
  startJob(std::move(origin), *request, identity);
}

void Worker::Impl::flushCompletions() {
  std::vector<Completion> batch;
  {
    std::lock_guard lock(mutex);
    batch.swap(completions);
  }
  auto now = clock.now();
  std::vector<Completion> copies;
  for (auto& c : batch) {
    if (!c.final || running.empty()) continue;
    auto it = running.find(c.id);
    if (it == running.end()) continue;
    for (auto& origin : it->second) copies.push_back({std::move(origin), c.frames, true, c.id});
    running.erase(it);
  }
  batch.insert(batch.end(), std::make_move_iterator(copies.begin()), std::make_move_iterator(copies.end()));
  for (auto& c : batch) deliver(c, now);
}

void Worker::Impl::deliver(const Completion& c, TimePoint now) {
  using Kind = Completion::Kind;
  if (c.kind == Kind::kAnswer) return deliver(c.origin, c.frames, c.final, now);
  const Origin& origin = c.origin;
  bool begins = c.kind == Kind::kLaterBegins;
  if (origin.link == kDirectLink) {
    // A request answered later stops counting against the allowance when its handler
    // lets go, not when it is finally answered.
    if (begins && directInFlight > 0) --directInFlight;
    if (!begins) deliver(origin, c.frames, false, now);
    return;
  }
  Link& link = *links[origin.link];
  if (link.generation != origin.generation) return;
  if (!begins) {
    ++link.laterSurplus;  // its final answer gives the broker back the credit once more
    return deliver(origin, c.frames, true, now);
  }
  if (link.laterSurplus > 0) {
    --link.laterSurplus;
    return;
  }
  deliver(origin, codec::encode(codec::Credit{1}), false, now);
}

void Worker::Impl::deliver(const Origin& origin, const std::vector<std::string>& frames, bool final, TimePoint now) {
  try {
    if (origin.link == kDirectLink) {
      if (final && directInFlight > 0) --directInFlight;
      detail::sendFrames(direct, frames, &origin.routingId);
    } else {
      Link& link = *links[origin.link];
      // An answer for a connection that has since been replaced would confuse the new one.
      if (link.generation != origin.generation) return;
      link.outgoing.send(link.socket, frames);
      link.state.onSent(now);
    }
  } catch (const zmq::error_t& e) {
    // The client or broker left; its deadline or the broker's requeue settles the request.
    logger().debug("reply not sent: %s", std::string(e.what()));
  }
}

void Worker::Impl::flushSends() {
  for (auto& link : links) {
    try {
      link->outgoing.flush(link->socket);
    } catch (const zmq::error_t& e) {
      logger().debug("%s: answers not sent: %s", link->endpoint, std::string(e.what()));
    }
  }
}

void Worker::Impl::run() {
  loopThread = std::this_thread::get_id();
  auto now = clock.now();
  for (auto& link : links) apply(*link, link->state.start(now));
  flushSends();  // the first READY leaves now, not at the end of the first turn's wait
  detail::FrameList frames;
  std::vector<std::string_view> views;
  std::vector<zmq::pollitem_t> items;
  while (!stopping) {
    items.clear();
    for (auto& link : links) items.push_back({link->socket.handle(), 0, ZMQ_POLLIN, 0});
    if (direct) items.push_back({direct.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, wakeup.fd(), ZMQ_POLLIN, 0});
    auto next = clock.now() + std::chrono::seconds(1);
    for (auto& link : links) next = std::min(next, link->state.nextDue());
    auto wait = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(next - clock.now()) +
                             std::chrono::milliseconds(1),
                         std::chrono::milliseconds(0));
    zmq::poll(items.data(), items.size(), wait);
    if (items.back().revents & ZMQ_POLLIN) wakeup.drain();
    for (std::size_t i = 0; i < links.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      for (int n = 0; n < kReceiveBatch; ++n) {
        zmq::message_t first;
        if (!links[i]->socket.recv(first, zmq::recv_flags::dontwait)) break;
        if (!detail::receiveRest(links[i]->socket, first, frames, options.limits)) continue;
        onLinkMessage(static_cast<int>(i), frames, views);
      }
    }
    if (direct && (items[links.size()].revents & ZMQ_POLLIN)) {
      for (int n = 0; n < kReceiveBatch; ++n) {
        zmq::message_t first;
        if (!direct.recv(first, zmq::recv_flags::dontwait)) break;
        if (!detail::receiveRest(direct, first, frames, options.limits)) continue;
        onDirectMessage(frames, views);
      }
    }
    flushCompletions();
    now = clock.now();
    std::size_t active = 0;
    for (auto& link : links) {
      apply(*link, link->state.onTick(now));
      if (link->state.state() == BrokerLink::State::kActive) ++active;
    }
    registered.store(active, std::memory_order_relaxed);
    flushSends();
    lastTurnNs.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  for (auto& link : links) {
    try {
      // Long enough for the goodbye to leave, so the broker moves our requests at once.
      link->socket.set(zmq::sockopt::linger, static_cast<int>(kGoodbyeLinger.count()));
      link->outgoing.send(link->socket, codec::encode(codec::Disconnect{"worker stopping"}));
      link->outgoing.flush(link->socket);
    } catch (const zmq::error_t&) {
    }
  }
}

}  // namespace strata::nodes
