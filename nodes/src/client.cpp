#include <strata/nodes/client.h>

#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>

#include <Poco/Logger.h>
#include <zmq_addon.hpp>

#include <strata/core/errors.h>
#include <strata/core/service_name.h>
#include <strata/core/socket_setup.h>
#include <strata/core/subject.h>
#include <strata/nodes/call_table.h>
#include <strata/nodes/endpoint_pool.h>
#include <strata/nodes/event_dedup.h>
#include <strata/nodes/publish_table.h>

#include "frames.h"

namespace strata::nodes {

namespace codec = strata::codecs;
using core::MessageId;
using core::TimePoint;

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.client"); }

constexpr int kReceiveBatch = 512;
constexpr std::size_t kMaxHeaderKey = 255;
constexpr std::size_t kMaxHeaderValue = 65535;
constexpr int kMonitorEvents = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;

std::atomic<std::uint64_t> monitorSequence{0};

std::optional<std::string> validateHeaders(const Headers& headers);

// A request the client can tell is bad before sending: answered locally, never sent.
std::optional<std::string> validate(const OutgoingRequest& request) {
  if (!core::isServiceName(request.service)) {
    return "service name '" + request.service + "' is not 1 to 255 letters, digits, '.', '-' or '_'";
  }
  return validateHeaders(request.headers);
}

std::optional<std::string> validateHeaders(const Headers& headers) {
  for (const auto& [k, v] : headers) {
    if (k.empty() || k.size() > kMaxHeaderKey || v.size() > kMaxHeaderValue) {
      return "header '" + k + "' is too long or empty";
    }
  }
  return std::nullopt;
}

void checkPatterns(const std::vector<std::string>& patterns) {
  if (patterns.empty()) throw SubscribeError("subscribe: no pattern given", ExitCode::kUsage);
  if (patterns.size() > codec::kMaxPatternsPerMessage) {
    throw SubscribeError("subscribe: at most " + std::to_string(codec::kMaxPatternsPerMessage) + " patterns at once",
                         ExitCode::kUsage);
  }
  for (const auto& p : patterns) {
    if (const char* problem = core::subjectProblem(p, core::SubjectKind::kPattern)) {
      throw SubscribeError("'" + p + "' is no subject pattern: " + problem, ExitCode::kDataError);
    }
  }
}

}  // namespace

struct Client::Call {
  OutgoingRequest request;
  ReplyHandler onReply;
  PartialHandler onPartial;
};

// The client's loop: its sockets, its calls (a CallTable) and the calls other threads
// hand it. Everything but submitted and stopping belongs to the loop thread.
struct Client::State {
  struct Link {
    std::string endpoint;
    // A context (so an I/O thread) per endpoint: libzmq resolves a host name on the I/O
    // thread, and while a dead broker's name fails to resolve it must not stall the others.
    std::unique_ptr<zmq::context_t> context;
    zmq::socket_t socket;
    detail::Outgoing outgoing;  // what this turn sends on socket, leaving at its end
    zmq::socket_t monitor;
    bool refused = false;  // the last handshake failed
    std::string refusal;   // why, for the callers
    // libzmq gives up on an endpoint whose server refused the key; the client dials it
    // again itself, later and later, so that a key authorized since gets in.
    std::optional<core::TimePoint> redialAt;
    std::chrono::milliseconds redialAfter = kFirstRedial;
  };
  static constexpr std::chrono::milliseconds kFirstRedial{500};
  static constexpr std::chrono::milliseconds kLastRedial{30000};

  // A subscription of this client: its patterns and handlers.
  struct Local {
    std::vector<std::string> patterns;
    EventHandler onEvent;
    LostHandler onLost;
  };
  // A SUBSCRIBE waiting for its first answer.
  struct Subscribing {
    SubscribeAnswer answered;
  };
  struct PublishJob {
    OutgoingEvent event;
    PublishHandler onDone;
  };
  // What each broker told this subscriber: how much it dropped, how many batches since
  // the last RECEIVED.
  struct LinkEvents {
    std::uint64_t dropped = 0;
    std::size_t unconfirmed = 0;
  };

  State(const ClientOptions& o) : options(o) {}

  const ClientOptions& options;
  std::vector<Link> links;
  std::optional<EndpointPool> pool;
  std::optional<CallTable> calls;
  CallTable::Actions actions;  // reused by every step, so a warm loop allocates little
  std::vector<CallTable::Done> doneBatch;
  core::Wakeup wakeup;
  core::SteadyClock clock;
  TimePoint turnTime{};  // when this turn of the loop began: the time of what callbacks start in it
  std::atomic<std::thread::id> loopThread;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> resent{0};

  std::mutex mutex;  // guards submitted only
  std::vector<Call> submitted;
  std::vector<Call> batch;
  std::vector<Call> local;  // made by callbacks on the loop thread
  std::vector<Call> localBatch;

  std::unordered_map<MessageId, TimePoint, core::MessageIdHash> pings;  // our own, by when sent

  // Events. The publisher's and the subscriber's sessions are drawn once per client.
  std::optional<PublishTable> publishes;
  PublishTable::Actions publishActions;
  std::vector<PublishTable::Done> publishedBatch;
  std::vector<PublishJob> submittedEvents;  // guarded by mutex
  std::vector<PublishJob> eventBatch;
  std::vector<std::function<void()>> tasks;  // guarded by mutex: subscribe and cancel
  std::vector<std::function<void()>> taskBatch;
  std::uint64_t subscriberSession = codec::newEventSession();
  std::map<std::uint64_t, Local> subscriptions;
  std::uint64_t subscriptionsChanged = 0;  // counts every add and drop
  std::vector<Local*> wantedBy;            // the subscriptions that want wantedFor
  std::string wantedFor;
  std::uint64_t wantedAt = ~std::uint64_t{0};  // subscriptionsChanged when wantedBy was made
  std::map<std::string, int, std::less<>> patternUses;  // patterns held on the brokers
  std::unordered_map<MessageId, Subscribing, core::MessageIdHash> subscribing;
  std::unordered_map<MessageId, std::size_t, core::MessageIdHash> restoring;  // SUBSCRIBE id -> link
  std::vector<LinkEvents> linkEvents;
  EventDedup dedup;
  Event arrived;  // reused for each event handed to the application
  std::vector<codec::Header> eventHeaders;
  std::string publishBatch;  // the PUBLISH frame being gathered in this turn of the loop
  std::string headerBlock;   // reused to encode each event
  std::string checkedSubject;  // the last subject published on, known to be valid
  std::string encodedEvent;  // swapped with the publish table's spare buffers
  std::uint32_t publishCount = 0;
  detail::FrameList frames;
  std::vector<std::string_view> views;
  codec::Message decoded;
  std::vector<std::string_view> batchMessages;  // of the batch being handled
  codec::Request wire;                // reused to encode each call
  std::vector<std::string> encoded;  // swapped with the table's spare buffers
  std::vector<zmq::pollitem_t> items;

  // Whether the lists other threads fill are all empty (call with mutex held). Only the
  // first of a run of submissions wakes the loop: the loop takes every list whole after
  // it wakes, so one signal covers all that come before it takes them.
  bool nothingSubmitted() const { return submitted.empty() && submittedEvents.empty() && tasks.empty(); }
  void run();
  void submit(Call&& call, TimePoint now);
  void publish(const OutgoingEvent& event, PublishHandler&& onDone, TimePoint now);
  void carryOutPublishes();
  void addToBatch(std::string_view record);
  void sendPublishBatch();
  void onEvents(std::size_t link, const codec::Events& events);
  // SUBSCRIBE of patterns (every pattern held, when empty) to link; tracked when the
  // answer is waited for.
  void sendSubscribe(std::size_t link, const std::vector<std::string>& patterns, const MessageId& id);
  // Every pattern held, again, to link (a new connection, or a session the broker ended);
  // its answer is only logged when it is a refusal.
  void restore(std::size_t link);
  void addSubscription(std::uint64_t number, Local wanted,
                       SubscribeAnswer answered);
  void dropSubscription(std::uint64_t number);
  void answerSubscribing(const MessageId& id, std::optional<std::pair<ErrorCode, std::string>> refusal);
  void submitQueued();
  void receive(std::size_t link);
  // Decodes one message into decoded; false (and logged) when it is malformed.
  bool decodeOne(codec::Frames message);
  // What decoded holds, from link (never a Batch: receive takes those apart).
  void handle(std::size_t link);
  void readMonitor(std::size_t link);
  void onTimers();
  // Carries out what the table asked for: sends first, then the callbacks (which may
  // submit again, straight into the table, since they run on this thread).
  void carryOut();
  // Through the link's Outgoing: one-frame messages leave together at flushSends, the end
  // of the loop's turn.
  void sendTo(std::size_t link, const std::vector<std::string>& frames);
  void flushSends();
  std::optional<std::string> allRefused() const;
};

Client::Client(ClientOptions options) : options_(std::move(options)), state_(std::make_unique<State>(options_)) {
  if (options_.endpoints.empty()) throw ConfigError("no endpoint to connect to (strata.brokers or strata.workers)");
  bool anyTcp = std::any_of(options_.endpoints.begin(), options_.endpoints.end(), core::isTcp);
  bool curve = options_.serverKey && options_.secretKey;
  if (anyTcp && !curve) throw ConfigError("tcp:// endpoints need CURVE: set strata.key and the server's public key");
  State& s = *state_;
  for (const auto& endpoint : options_.endpoints) {
    State::Link link;
    link.endpoint = endpoint;
    link.outgoing = detail::Outgoing(options_.limits.maxOneFrameMessage());
    link.context = std::make_unique<zmq::context_t>(1);
    link.socket = zmq::socket_t(*link.context, zmq::socket_type::dealer);
    if (curve) core::makeCurveClient(link.socket, *options_.secretKey, *options_.serverKey, options_.limits);
    auto monitorEndpoint = "inproc://strata.client.monitor." + std::to_string(++monitorSequence);
    if (zmq_socket_monitor(link.socket.handle(), monitorEndpoint.c_str(), kMonitorEvents) != 0) {
      throw SystemError("cannot monitor the client socket");
    }
    link.monitor = zmq::socket_t(*link.context, zmq::socket_type::pair);
    link.monitor.set(zmq::sockopt::linger, 0);
    link.monitor.connect(monitorEndpoint);
    try {
      link.socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      throw ConfigError("cannot connect to " + endpoint + ": " + e.what());
    }
    s.links.push_back(std::move(link));
  }
  s.pool.emplace(s.links.size(), options_.pingInterval, options_.liveness, s.clock.now());
  s.publishes.emplace(codec::newEventSession(), PublishTable::Settings{});
  s.linkEvents.resize(s.links.size());
  s.calls.emplace(*s.pool, CallTable::Settings{options_.attemptTimeout, options_.retryBackoff});
  thread_ = std::thread([this] { state_->run(); });
}

Client::~Client() {
  state_->stopping = true;
  state_->wakeup.signal();
  thread_.join();
}

MessageId Client::callAsync(OutgoingRequest request, ReplyHandler onReply, PartialHandler onPartial) {
  if (request.id.isZero()) request.id = MessageId::generate();
  if (request.timeout.count() <= 0) request.timeout = options_.defaultTimeout;
  MessageId id = request.id;
  State& s = *state_;
  if (std::this_thread::get_id() == s.loopThread.load()) {
    // A callback calling again: sent as soon as the callback returns, with no lock and no
    // wake-up (and no recursion, however many callbacks call again).
    s.local.push_back(Call{std::move(request), std::move(onReply), std::move(onPartial)});
    return id;
  }
  bool wake = false;
  {
    std::lock_guard lock(s.mutex);
    wake = s.nothingSubmitted();
    s.submitted.push_back(Call{std::move(request), std::move(onReply), std::move(onPartial)});
  }
  if (wake) s.wakeup.signal();
  return id;
}

bool Client::onLoopThread() const { return std::this_thread::get_id() == state_->loopThread.load(); }

std::uint64_t Client::publisherSession() const { return state_->publishes->session(); }

std::uint64_t Client::resent() const { return state_->resent.load(std::memory_order_relaxed); }

std::future<Response> Client::callFuture(OutgoingRequest request) {
  auto promise = std::make_shared<std::promise<Response>>();
  auto future = promise->get_future();
  callAsync(std::move(request), [promise](Response&& r) { promise->set_value(std::move(r)); });
  return future;
}

Response Client::call(OutgoingRequest request) {
  STRATA_ASSERT(std::this_thread::get_id() != state_->loopThread);
  return callFuture(std::move(request)).get();
}

Response Client::call(const std::string& service, std::string body, std::chrono::milliseconds timeout) {
  OutgoingRequest request;
  request.service = service;
  request.body.push_back(std::move(body));
  request.timeout = timeout;
  return call(std::move(request));
}

void Client::publishAsync(const OutgoingEvent& event, PublishHandler onDone) {
  if (onLoopThread()) {
    // On the loop thread (a callback's publish): encoded at once, with no copy and in the
    // order published, into the PUBLISH this turn of the loop sends.
    state_->publish(event, std::move(onDone), state_->turnTime);
    return;
  }
  publishAsync(OutgoingEvent(event), std::move(onDone));
}

void Client::publishAsync(OutgoingEvent&& event, PublishHandler onDone) {
  State& s = *state_;
  if (onLoopThread()) {
    s.publish(event, std::move(onDone), s.turnTime);
    return;
  }
  bool wake = false;
  {
    std::lock_guard lock(s.mutex);
    wake = s.nothingSubmitted();
    s.submittedEvents.push_back({std::move(event), std::move(onDone)});
  }
  if (wake) s.wakeup.signal();
}

std::future<PublishResult> Client::publishFuture(OutgoingEvent event) {
  auto promise = std::make_shared<std::promise<PublishResult>>();
  auto future = promise->get_future();
  publishAsync(std::move(event), [promise](PublishResult&& r) { promise->set_value(std::move(r)); });
  return future;
}

PublishResult Client::publish(OutgoingEvent event) {
  STRATA_ASSERT(std::this_thread::get_id() != state_->loopThread);
  return publishFuture(std::move(event)).get();
}

PublishResult Client::publish(const std::string& subject, std::string body) {
  return publish(OutgoingEvent{subject, std::move(body), {}, {}});
}

Client::Subscription Client::subscribe(std::vector<std::string> patterns, EventHandler onEvent, LostHandler onLost) {
  State& s = *state_;
  STRATA_ASSERT(std::this_thread::get_id() != s.loopThread);
  checkPatterns(patterns);
  auto promise = std::make_shared<std::promise<std::optional<std::pair<ErrorCode, std::string>>>>();
  auto future = promise->get_future();
  auto subscription = subscribeAsync(std::move(patterns), std::move(onEvent), std::move(onLost),
                                     [promise](std::optional<std::pair<ErrorCode, std::string>> refusal) {
                                       promise->set_value(std::move(refusal));
                                     });
  if (future.wait_for(options_.defaultTimeout) != std::future_status::ready) {
    throw SubscribeError("no broker confirmed the subscription within " +
                             std::to_string(options_.defaultTimeout.count()) + " ms",
                         ExitCode::kUnavailable);
  }
  if (auto refusal = future.get()) throw SubscribeError(refusal->second, exitCodeOf(refusal->first));
  return subscription;
}

Client::Subscription Client::subscribeAsync(std::vector<std::string> patterns, EventHandler onEvent, LostHandler onLost,
                                            SubscribeAnswer onAnswer) {
  checkPatterns(patterns);
  State& s = *state_;
  static std::atomic<std::uint64_t> numbers{0};
  std::uint64_t number = ++numbers;
  auto wanted = std::make_shared<State::Local>(State::Local{std::move(patterns), std::move(onEvent), std::move(onLost)});
  // A refused subscription ends here, on the loop thread, before its answer is told.
  auto answered = [&s, number, onAnswer = std::move(onAnswer)](std::optional<std::pair<ErrorCode, std::string>> refusal) {
    if (refusal) s.dropSubscription(number);
    if (onAnswer) onAnswer(std::move(refusal));
  };
  {
    std::lock_guard lock(s.mutex);
    s.tasks.push_back([&s, number, wanted, answered = std::move(answered)]() mutable {
      s.addSubscription(number, std::move(*wanted), std::move(answered));
    });
  }
  s.wakeup.signal();
  return Subscription(this, number);
}

void Client::unsubscribe(std::uint64_t number) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    s.tasks.push_back([&s, number] { s.dropSubscription(number); });
  }
  s.wakeup.signal();
}

Client::Subscription::Subscription(Subscription&& other) noexcept
    : client_(std::exchange(other.client_, nullptr)), number_(other.number_) {}

Client::Subscription& Client::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    cancel();
    client_ = std::exchange(other.client_, nullptr);
    number_ = other.number_;
  }
  return *this;
}

Client::Subscription::~Subscription() { cancel(); }

void Client::Subscription::cancel() {
  if (auto* client = std::exchange(client_, nullptr)) client->unsubscribe(number_);
}

void Client::State::publish(const OutgoingEvent& event, PublishHandler&& onDone, TimePoint now) {
  auto fail = [&](ErrorCode code, std::string text) {
    publishActions.done.push_back({std::move(onDone), {MessageId{}, false, code, std::move(text)}});
  };
  if (stopping) return fail(ErrorCode::kUnavailable, "the client is shutting down");
  // A publisher mostly publishes on one subject again and again: checked once while it stays.
  if (event.subject != checkedSubject) {
    if (const char* problem = core::subjectProblem(event.subject, core::SubjectKind::kSubject)) {
      return fail(ErrorCode::kMalformed, "'" + event.subject + "' is no subject: " + problem);
    }
    checkedSubject = event.subject;
  }
  if (auto problem = validateHeaders(event.headers)) return fail(ErrorCode::kMalformed, *problem);
  if (auto refusal = allRefused()) return fail(ErrorCode::kUnavailable, *refusal);
  auto id = publishes->nextId();
  detail::assignViews(wire.headers, event.headers);
  codec::encodeHeadersInto(wire.headers, headerBlock);
  codec::Event e{id, {}, event.subject, headerBlock, event.body};
  if (codec::kPublishHeaderSize + codec::eventRecordSize(e) > options.limits.maxFrameSize) {
    return fail(ErrorCode::kTooLarge, "the event is larger than a frame may be (" +
                                          std::to_string(options.limits.maxFrameSize) + " bytes, strata.limits.max_frame_size)");
  }
  encodedEvent.resize(codec::eventRecordSize(e));
  codec::writeEventRecord(e, encodedEvent.data());
  addToBatch(encodedEvent);
  auto timeout = event.timeout.count() > 0 ? event.timeout : options.defaultTimeout;
  publishes->submit(id, encodedEvent, std::move(onDone), timeout, now);
}

void Client::State::addToBatch(std::string_view record) {
  if (publishCount > 0 && (publishBatch.size() + record.size() > codec::kEventsBatchBytes ||
                           publishCount == codec::kMaxEventsPerBatch)) {
    sendPublishBatch();
  }
  if (publishCount == 0) publishBatch.resize(codec::kPublishHeaderSize);
  publishBatch.append(record);
  ++publishCount;
}

void Client::State::sendPublishBatch() {
  if (publishCount == 0) return;
  codec::writePublishHeader(publishCount, publishBatch.data());
  // To every live broker: any one of them may die with the events, and each subscriber
  // holds its subscriptions on all of them. One taken for dead gets none, so a long outage
  // piles nothing up in its queue; when none is alive, all get them (the first back
  // relays them).
  bool anyAlive = pool->aliveCount() > 0;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (anyAlive && !pool->alive(i)) continue;
    try {
      links[i].outgoing.flush(links[i].socket);
      links[i].socket.send(zmq::buffer(publishBatch), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& error) {
      logger().debug("%s: send failed: %s", links[i].endpoint, std::string(error.what()));
    }
  }
  publishBatch.clear();
  publishCount = 0;
}

void Client::State::carryOutPublishes() {
  for (const auto* record : publishActions.resend) addToBatch(*record);
  publishActions.resend.clear();
  // Everything published in this turn of the loop goes out as one frame per broker.
  sendPublishBatch();
  // Swapped, not moved, as for calls: both lists keep their capacity.
  publishedBatch.swap(publishActions.done);
  for (auto& d : publishedBatch) {
    try {
      if (d.handler) d.handler(std::move(d.result));
    } catch (const std::exception& ex) {
      logger().error("a publish callback threw: %s", std::string(ex.what()));
    }
  }
  publishedBatch.clear();
}

void Client::State::sendSubscribe(std::size_t link, const std::vector<std::string>& patterns, const MessageId& id) {
  std::vector<std::string_view> wanted;
  if (patterns.empty()) {
    for (const auto& [pattern, uses] : patternUses) wanted.push_back(pattern);
  } else {
    wanted.assign(patterns.begin(), patterns.end());
  }
  // A SUBSCRIBE holds at most kMaxPatternsPerMessage patterns: a long list goes in parts.
  for (std::size_t at = 0; at < wanted.size(); at += codec::kMaxPatternsPerMessage) {
    auto end = std::min(wanted.size(), at + codec::kMaxPatternsPerMessage);
    codec::Subscribe m{at == 0 ? id : MessageId::generate(), subscriberSession,
                       std::vector<std::string_view>(wanted.begin() + static_cast<std::ptrdiff_t>(at),
                                                     wanted.begin() + static_cast<std::ptrdiff_t>(end))};
    sendTo(link, codec::encode(m));
  }
}

void Client::State::restore(std::size_t link) {
  // Answers that never come (a broker that died again) are forgotten with the next ones.
  if (restoring.size() > 64) restoring.clear();
  auto id = MessageId::generate();
  restoring.emplace(id, link);
  sendSubscribe(link, {}, id);
}

void Client::State::addSubscription(
    std::uint64_t number, Local wanted,
    SubscribeAnswer answered) {
  if (auto refusal = allRefused()) {
    answered(std::make_pair(ErrorCode::kUnavailable, *refusal));
    return;
  }
  auto id = MessageId::generate();
  for (const auto& p : wanted.patterns) ++patternUses[p];
  subscribing[id] = Subscribing{std::move(answered)};
  for (std::size_t i = 0; i < links.size(); ++i) sendSubscribe(i, wanted.patterns, id);
  subscriptions.emplace(number, std::move(wanted));
  ++subscriptionsChanged;
}

void Client::State::dropSubscription(std::uint64_t number) {
  auto it = subscriptions.find(number);
  if (it == subscriptions.end()) return;
  std::vector<std::string_view> unused;
  std::vector<std::string> kept;
  for (const auto& p : it->second.patterns) {
    auto use = patternUses.find(p);
    if (use != patternUses.end() && --use->second == 0) {
      kept.push_back(p);
      patternUses.erase(use);
    }
  }
  subscriptions.erase(it);
  ++subscriptionsChanged;
  if (kept.empty()) return;
  unused.assign(kept.begin(), kept.end());
  // No pattern at all would end the session: send what is no longer used, or, when the
  // client holds no subscription any more, end it.
  codec::Unsubscribe m{MessageId::generate(), subscriberSession,
                       subscriptions.empty() ? std::vector<std::string_view>{} : unused};
  auto goodbye = codec::encode(m);
  for (std::size_t i = 0; i < links.size(); ++i) sendTo(i, goodbye);
}

void Client::State::answerSubscribing(const MessageId& id, std::optional<std::pair<ErrorCode, std::string>> refusal) {
  auto it = subscribing.find(id);
  if (it == subscribing.end()) return;
  // The first answer settles it: the brokers of a pool share one policy, so one that
  // refuses speaks for all, and one that confirms means events flow.
  auto answered = std::move(it->second.answered);
  subscribing.erase(it);
  if (answered) answered(std::move(refusal));
}

void Client::State::onEvents(std::size_t link, const codec::Events& m) {
  auto& seen = linkEvents[link];
  if (m.dropped > seen.dropped) {
    auto lost = m.dropped - seen.dropped;
    std::string why = links[link].endpoint + " dropped " + std::to_string(lost) +
                      " event(s) for this subscriber: its queue there was full";
    logger().warning("%s", why);
    for (auto& [number, sub] : subscriptions)
      if (sub.onLost) sub.onLost(lost, why);
  }
  seen.dropped = m.dropped;  // a broker that restarted counts from 0 again
  for (const auto& e : m.events) {
    if (!dedup.firstSight(e.id)) continue;
    arrived.id = e.id;
    arrived.subject.assign(e.subject);
    arrived.publisher.name.assign(e.publisher.name);
    arrived.publisher.layer = e.publisher.layer;
    codec::parseHeaderBlock(e.headerBlock, eventHeaders);
    detail::assignHeaders(arrived.headers, eventHeaders);
    arrived.body.assign(e.body);
    // Subscriptions change only between turns (tasks), never while a batch is handed out:
    // which of them want a subject is worked out once for a run of it.
    if (wantedFor != arrived.subject || wantedAt != subscriptionsChanged) {
      wantedBy.clear();
      for (auto& [number, sub] : subscriptions) {
        if (std::any_of(sub.patterns.begin(), sub.patterns.end(),
                        [&](const std::string& p) { return core::subjectMatches(p, arrived.subject); })) {
          wantedBy.push_back(&sub);
        }
      }
      wantedFor = arrived.subject;
      wantedAt = subscriptionsChanged;
    }
    for (Local* sub : wantedBy) {
      try {
        sub->onEvent(arrived);
      } catch (const std::exception& ex) {
        logger().error("an event handler threw: %s", std::string(ex.what()));
      }
    }
  }
  if (++seen.unconfirmed >= codec::kEventWindow / 2) {
    seen.unconfirmed = 0;
    sendTo(link, codec::encode(codec::Received{subscriberSession, m.batch}));
  }
}

void Client::State::sendTo(std::size_t i, const std::vector<std::string>& out) {
  // A full or closed pipe is not an error here: the deadline or the endpoint's death
  // settles the request.
  try {
    links[i].outgoing.send(links[i].socket, out);
  } catch (const zmq::error_t& e) {
    logger().debug("%s: send failed: %s", links[i].endpoint, std::string(e.what()));
  }
}

void Client::State::flushSends() {
  for (auto& link : links) {
    try {
      link.outgoing.flush(link.socket);
    } catch (const zmq::error_t& e) {
      logger().debug("%s: send failed: %s", link.endpoint, std::string(e.what()));
    }
  }
}

void Client::State::carryOut() {
  // Callbacks may call again; their calls are submitted once they return, and what those
  // produce is carried out in turn, in a loop rather than by recursion.
  while (!actions.sends.empty() || !actions.done.empty() || !local.empty() ||
         !publishActions.done.empty() || !publishActions.resend.empty() || publishCount > 0) {
    for (const auto& send : actions.sends) sendTo(send.link, *send.frames);
    actions.sends.clear();
    // Swapped, not moved: both lists keep their capacity from one step to the next.
    doneBatch.swap(actions.done);
    for (auto& d : doneBatch) d.handler(std::move(d.response));
    doneBatch.clear();
    if (!local.empty()) {
      localBatch.swap(local);
      auto now = clock.now();
      for (auto& call : localBatch) submit(std::move(call), now);
      localBatch.clear();
    }
    carryOutPublishes();
  }
  resent.store(calls->resent(), std::memory_order_relaxed);
}

std::optional<std::string> Client::State::allRefused() const {
  for (const auto& link : links)
    if (!link.refused) return std::nullopt;
  return links.front().refusal;
}

void Client::State::submit(Call&& call, TimePoint now) {
  auto& req = call.request;
  if (stopping) {
    actions.done.push_back({std::move(call.onReply), errorResponse(req.id, ErrorCode::kUnavailable,
                                                                   "the client is shutting down")});
    return;
  }
  if (auto problem = validate(req)) {
    actions.done.push_back({std::move(call.onReply), errorResponse(req.id, ErrorCode::kMalformed, *problem)});
    return;
  }
  if (auto refusal = allRefused()) {
    // Every endpoint refused us: say why now instead of at the deadline.
    actions.done.push_back({std::move(call.onReply), errorResponse(req.id, ErrorCode::kUnavailable, *refusal)});
    return;
  }
  wire.id = req.id;
  wire.service = req.service;
  wire.timeoutMs = static_cast<std::uint32_t>(req.timeout.count());
  detail::assignViews(wire.headers, req.headers);
  wire.body.assign(req.body.begin(), req.body.end());
  codec::encodeInto(wire, encoded);
  calls->submit(req.id, req.timeout, encoded, std::move(call.onReply), std::move(call.onPartial), now, actions);
}

void Client::State::submitQueued() {
  {
    std::lock_guard lock(mutex);
    batch.swap(submitted);
    eventBatch.swap(submittedEvents);
    taskBatch.swap(tasks);
  }
  for (auto& task : taskBatch) task();
  taskBatch.clear();
  auto now = clock.now();
  for (auto& call : batch) submit(std::move(call), now);
  batch.clear();
  for (auto& job : eventBatch) publish(job.event, std::move(job.onDone), now);
  eventBatch.clear();
  carryOut();
}

void Client::State::receive(std::size_t link) {
  auto& socket = links[link].socket;
  for (int n = 0; n < kReceiveBatch; ++n) {
    zmq::message_t first;
    if (!socket.recv(first, zmq::recv_flags::dontwait)) return;
    pool->onHeard(link, clock.now());
    links[link].refused = false;
    if (!detail::receiveRest(socket, first, frames, options.limits)) {
      logger().warning("dropped a reply over the size limits");
      continue;
    }
    views.clear();
    for (const auto& f : frames) views.push_back(f.to_string_view());
    if (!decodeOne(views)) continue;
    auto* several = std::get_if<codec::Batch>(&decoded);
    if (!several) {
      handle(link);
      continue;
    }
    // Each message of a batch in turn; decoding one reuses decoded, so the list is swapped out.
    batchMessages.swap(several->messages);
    for (auto message : batchMessages)
      if (decodeOne(codec::Frames(&message, 1))) handle(link);
    batchMessages.clear();
  }
}

bool Client::State::decodeOne(codec::Frames message) {
  auto fault = codec::decodeInto(message, decoded);
  if (fault == codec::DecodeError::kNone) return true;
  logger().warning("dropped a malformed message: %s", std::string(codec::decodeErrorName(fault)));
  return false;
}

void Client::State::handle(std::size_t link) {
  if (auto* events = std::get_if<codec::Events>(&decoded)) {
    onEvents(link, *events);
  } else if (auto* accepted = std::get_if<codec::Accepted>(&decoded)) {
    publishes->onAccepted(*accepted, publishActions);
  } else if (auto* reply = std::get_if<codec::Reply>(&decoded)) {
    if (pings.erase(reply->id) > 0) return;
    if (subscribing.contains(reply->id)) {
      answerSubscribing(reply->id, std::nullopt);
      return;
    }
    if (restoring.erase(reply->id) > 0) return;
    Response r;
    r.id = reply->id;
    r.ok = true;
    r.headers = detail::ownHeaders(reply->headers);
    r.body = detail::ownBody(reply->body);
    calls->onReply(reply->id, std::move(r), actions);
  } else if (auto* error = std::get_if<codec::Error>(&decoded)) {
    if (pings.erase(error->id) > 0) return;  // a worker in direct mode has no strata.ping
    if (subscribing.contains(error->id)) {
      answerSubscribing(error->id, std::make_pair(error->code, std::string(error->text)));
      return;
    }
    if (auto restored = restoring.find(error->id); restored != restoring.end()) {
      logger().error("%s refused this subscriber's subscriptions: %s", links[restored->second].endpoint,
                     std::string(error->text));
      restoring.erase(restored);
      return;
    }
    if (publishes->onError(error->id, error->code, error->text, publishActions)) {
      carryOut();
      return;
    }
    calls->onError(link, error->id, error->code, error->text, actions);
  } else if (auto* partial = std::get_if<codec::Partial>(&decoded)) {
    if (const auto* handler = calls->partialHandler(partial->id)) {
      (*handler)(PartialResponse{partial->id, detail::ownHeaders(partial->headers), detail::ownBody(partial->body)});
    }
  } else if (auto* bye = std::get_if<codec::Disconnect>(&decoded)) {
    logger().warning("the server asked this client to disconnect: %s", std::string(bye->reason));
    if (!patternUses.empty()) {
      // A broker that sent this subscriber away has ended its session there: say so,
      // and subscribe afresh, so that it gets what is published from now on.
      std::string why = links[link].endpoint + " ended this subscriber's session: " + std::string(bye->reason);
      for (auto& [number, sub] : subscriptions)
        if (sub.onLost) sub.onLost(0, why);
      linkEvents[link] = {};
      restore(link);
    }
  }
  carryOut();
}

void Client::State::readMonitor(std::size_t i) {
  zmq::multipart_t event;
  if (!event.recv(links[i].monitor, static_cast<int>(zmq::recv_flags::dontwait)) || event.size() < 2) return;
  auto head = event[0].to_string_view();
  if (head.size() < 2) return;
  std::uint16_t code = 0;
  std::memcpy(&code, head.data(), 2);
  auto& link = links[i];
  if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
    link.refused = false;  // the key may have been authorized since
    link.redialAfter = kFirstRedial;
    // A new connection: to a broker that restarted, or the first. Either way it gets
    // every subscription again (a broker that still holds them takes the copy as a no-op).
    if (!patternUses.empty()) restore(i);
    return;
  }
  std::string why = code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                        ? "refused this client's key (it is not in the server's authorized keys)"
                        : "failed the CURVE handshake (is the server key, strata.broker_key, right?)";
  std::string text = link.endpoint + " " + why;
  if (!link.refused) logger().warning("%s", text);
  link.refused = true;
  link.refusal = text;
  if (code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && !link.redialAt) {
    link.redialAt = clock.now() + link.redialAfter;
    link.redialAfter = std::min(link.redialAfter * 2, kLastRedial);
  }
  pool->onRefused(i);
  if (!allRefused()) {
    calls->moveOff(i, actions);
  } else {
    // Nothing will get through on a refused key; fail what waits now rather than at its deadline.
    calls->failAll(ErrorCode::kUnavailable, text, actions);
  }
  carryOut();
}

void Client::State::onTimers() {
  auto now = clock.now();
  for (auto& link : links) {
    if (!link.redialAt || now < *link.redialAt) continue;
    link.redialAt.reset();
    try {
      link.socket.disconnect(link.endpoint);
    } catch (const zmq::error_t&) {
      // Already gone: libzmq dropped the endpoint when it gave up.
    }
    link.socket.connect(link.endpoint);
  }
  calls->tick(now, actions);
  publishes->tick(now, publishActions);
  auto tick = pool->onTick(now);
  for (auto i : tick.died) {
    logger().warning("broker lost endpoint=%s reason=\"stopped answering\"; its requests go to another endpoint",
                     links[i].endpoint);
    calls->moveOff(i, actions);
  }
  carryOut();
  auto pingTimeout = options.pingInterval * options.liveness;
  std::erase_if(pings, [&](const auto& entry) { return now - entry.second > pingTimeout * 2; });
  for (auto i : tick.ping) {
    auto id = MessageId::generate();
    pings.emplace(id, now);
    codec::Request ping{id, codec::kPingService, static_cast<std::uint32_t>(pingTimeout.count()), {}, {}, {}};
    sendTo(i, codec::encode(ping));
  }
}

void Client::State::run() {
  loopThread = std::this_thread::get_id();
  while (!stopping) {
    auto now = clock.now();
    auto due = std::min({pool->nextDue(), calls->nextDue(), publishes->nextDue()});
    for (const auto& link : links)
      if (link.redialAt) due = std::min(due, *link.redialAt);
    auto wait = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(due - now) + std::chrono::milliseconds(1),
                         std::chrono::milliseconds(0));
    items.clear();
    for (auto& link : links) items.push_back({link.socket.handle(), 0, ZMQ_POLLIN, 0});
    for (auto& link : links) items.push_back({link.monitor.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, wakeup.fd(), ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), wait);
    turnTime = clock.now();
    std::size_t n = links.size();
    if (items.back().revents & ZMQ_POLLIN) wakeup.drain();
    for (std::size_t i = 0; i < n; ++i) {
      if (items[n + i].revents & ZMQ_POLLIN) readMonitor(i);
      if (items[i].revents & ZMQ_POLLIN) receive(i);
    }
    onTimers();
    submitQueued();
    flushSends();
  }
  // Whoever still waits is told, so no caller blocks past the client's life.
  stopping = true;
  submitQueued();
  calls->failAll(ErrorCode::kUnavailable, "the client is shutting down", actions);
  publishes->failAll(ErrorCode::kUnavailable, "the client is shutting down", publishActions);
  for (auto& [id, waiting] : subscribing) {
    if (waiting.answered) {
      waiting.answered(std::make_pair(ErrorCode::kUnavailable, std::string("the client is shutting down")));
    }
  }
  subscribing.clear();
  if (!patternUses.empty()) {
    // Ends the session on every broker now rather than after its linger.
    auto bye = codec::encode(codec::Unsubscribe{MessageId::generate(), subscriberSession, {}});
    for (std::size_t i = 0; i < links.size(); ++i) sendTo(i, bye);
  }
  carryOut();
  flushSends();
  for (auto& link : links) zmq_socket_monitor(link.socket.handle(), nullptr, 0);
}

}  // namespace strata::nodes
