#include <strata/nodes/node.h>

#include <algorithm>
#include <cstring>

#include <Poco/Logger.h>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>
#include <strata/core/service_name.h>
#include <strata/core/subject.h>

#include "raw_reply.h"

namespace strata::nodes {

namespace {

std::string_view view(strata_bytes bytes) { return {bytes.data, bytes.size}; }
strata_bytes bytesOf(std::string_view text) { return {text.data(), text.size()}; }

std::int64_t millisLeft(core::TimePoint deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max<std::int64_t>(0, left.count());
}

// How long close() waits, from the destructor, for calls still running.
constexpr std::chrono::milliseconds kDestructorGrace{1000};

// Shows an answer to a C caller as views of its own storage; returns its error code.
int showRaw(const core::MessageId& id, const Outcome& outcome, const std::function<void(const strata_response&)>& show) {
  std::vector<strata_header> headers;
  headers.reserve(outcome.headers.size());
  for (const auto& [key, value] : outcome.headers) headers.push_back({bytesOf(key), bytesOf(value)});
  std::vector<strata_bytes> frames;
  frames.reserve(outcome.body.size());
  for (const auto& frame : outcome.body) frames.push_back(bytesOf(frame));
  strata_response response{};
  std::memcpy(response.id, id.bytes().data(), sizeof response.id);
  if (outcome.error) {
    response.error = static_cast<std::uint16_t>(outcome.error->first);
    response.error_text = bytesOf(outcome.error->second);
  }
  response.headers = headers.data();
  response.header_count = headers.size();
  response.frames = frames.data();
  response.frame_count = frames.size();
  show(response);
  return response.error;
}

int deliver(const core::MessageId& id, const Outcome& outcome, strata_response_fn onResponse, void* context) {
  return showRaw(id, outcome, [&](const strata_response& response) {
    if (onResponse != nullptr) onResponse(context, &response);
  });
}

Outcome outcomeOf(Response&& response) {
  if (!response.ok) return Outcome::failure(response.errorCode, std::move(response.errorText));
  return Outcome::reply(std::move(response.body), std::move(response.headers));
}

}  // namespace

Outcome invokeRawHandler(strata_handler_fn handler, void* context, const IncomingRequest& request,
                         const PartialSender* partial) {
  std::vector<strata_header> headers;
  headers.reserve(request.headers.size());
  for (const auto& [key, value] : request.headers) headers.push_back({bytesOf(key), bytesOf(value)});
  std::vector<strata_bytes> frames;
  frames.reserve(request.body.size());
  for (const auto& frame : request.body) frames.push_back(bytesOf(frame));
  strata_request raw{};
  std::memcpy(raw.id, request.id.bytes().data(), sizeof raw.id);
  raw.service = bytesOf(request.service);
  raw.caller_name = bytesOf(request.caller.name);
  raw.caller_layer = request.caller.layer;
  raw.headers = headers.data();
  raw.header_count = headers.size();
  raw.frames = frames.data();
  raw.frame_count = frames.size();
  raw.deadline_ms = millisLeft(request.deadline);
  strata_reply reply;
  reply.partial = partial;
  reply.request = &request;
  handler(context, &raw, &reply);
  return std::move(reply.outcome);
}

Node::Node(WorkerOptions worker, std::optional<ClientOptions> client)
    : workerOptions_(std::move(worker)), clientOptions_(std::move(client)), localSession_(codecs::newEventSession()) {}

Node::~Node() {
  stop();
  close(kDestructorGrace);
  {
    std::lock_guard lock(eventsMutex_);
    eventSubscriptions_.clear();  // their remote halves end before the client does
  }
  client_.reset();
}

void Node::add(const std::string& name, Service service) {
  STRATA_ASSERT(state_ == State::kLoading);  // only the loading thread gets here
  if (auto problem = core::serviceNameProblem(name)) throw ConfigError(*problem);
  if (!services_.emplace(name, std::move(service)).second) {
    throw ConfigError("service '" + name + "' is offered twice in this node");
  }
}

void Node::addService(const std::string& name, Handler handler, Worker::Execution execution, Reach reach) {
  add(name, Service{std::move(handler), nullptr, nullptr, execution, reach});
}

void Node::addService(const std::string& name, strata_handler_fn handler, void* context, std::uint32_t flags) {
  STRATA_ASSERT(handler != nullptr);
  add(name, Service{nullptr, handler, context,
                    (flags & STRATA_SERVICE_INLINE) != 0 ? Worker::Execution::kInline : Worker::Execution::kPool,
                    (flags & STRATA_SERVICE_LOCAL) != 0 ? Reach::kLocal : Reach::kServed});
}

bool Node::hosts(std::string_view service) const { return find(service) != nullptr; }

const Node::Service* Node::find(std::string_view name) const {
  auto it = services_.find(name);  // transparent: no string made per call
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, Node::Reach>> Node::services() const {
  std::vector<std::pair<std::string, Reach>> out;
  for (const auto& [name, service] : services_) out.emplace_back(name, service.reach);
  std::sort(out.begin(), out.end());
  return out;
}

void Node::start() {
  STRATA_ASSERT(state_ == State::kLoading);
  bool served = std::any_of(services_.begin(), services_.end(),
                            [](const auto& entry) { return entry.second.reach == Reach::kServed; });
  bool reachable = !workerOptions_.brokers.empty() || !workerOptions_.bind.empty();
  if (clientOptions_) {
    auto client = std::make_unique<Client>(*clientOptions_);
    // Under the lock subscribe() reads it with: a plug-in's thread may subscribe already.
    std::lock_guard lock(eventsMutex_);
    client_ = std::move(client);
    // Without waiting: the brokers may come up after this node. A refusal is logged.
    for (auto& [number, subscription] : eventSubscriptions_) subscribeRemote(subscription, false);
  }
  if (served && reachable) {
    worker_ = std::make_unique<Worker>(workerOptions_);
    for (const auto& [name, service] : services_) {
      if (service.reach != Reach::kServed) continue;
      if (service.raw != nullptr) {
        auto raw = service.raw;
        auto context = service.rawContext;
        worker_->addService(
            name,
            [raw, context](const IncomingRequest& request, const PartialSender& partial) {
              return invokeRawHandler(raw, context, request, &partial);
            },
            service.execution);
      } else {
        worker_->addService(name, service.handler, service.execution);
      }
    }
    worker_->start();
  }
  std::lock_guard lock(gate_);
  state_ = State::kRunning;
}

void Node::stop() {
  if (worker_) worker_->stop();
  worker_.reset();
}

bool Node::close(std::chrono::milliseconds grace) {
  {
    std::unique_lock lock(deliveries_->mutex);
    deliveries_->open = false;
    deliveries_->idle.wait(lock, [this] { return deliveries_->active == 0; });
  }
  std::unique_lock lock(gate_);
  state_ = State::kClosed;
  return drained_.wait_for(lock, grace, [this] { return inFlight_ == 0; });
}

void Node::deliverEvent(DeliveryGate& gate, const EventHandler& handler, const Event& event) {
  {
    std::lock_guard lock(gate.mutex);
    if (!gate.open) return;
    ++gate.active;
  }
  try {
    handler(event);
  } catch (const std::exception& e) {
    Poco::Logger::get("strata-node").error("an event handler for '%s' threw: %s", event.subject, std::string(e.what()));
  } catch (...) {
    Poco::Logger::get("strata-node").error("an event handler for '%s' threw", event.subject);
  }
  std::lock_guard lock(gate.mutex);
  if (--gate.active == 0) gate.idle.notify_all();
}

bool Node::enter() {
  std::lock_guard lock(gate_);
  if (state_ != State::kRunning) return false;
  ++inFlight_;
  return true;
}

void Node::leave() {
  std::lock_guard lock(gate_);
  if (--inFlight_ == 0) drained_.notify_all();
}

Response Node::refusal(const core::MessageId& id, const std::string& service) {
  State state;
  {
    std::lock_guard lock(gate_);
    state = state_;
  }
  Response refused;
  refused.id = id;
  refused.errorCode = ErrorCode::kUnavailable;
  refused.errorText = "this node is " + std::string(state == State::kLoading ? "still starting" : "stopping") + "; '" + service +
                      "' was not called";
  return refused;
}

std::chrono::milliseconds Node::defaultTimeout() const {
  return clientOptions_ ? clientOptions_->defaultTimeout : ClientOptions::kDefaultTimeout;
}

PublishResult Node::publish(OutgoingEvent event) {
  PublishResult result;
  if (const char* problem = core::subjectProblem(event.subject, core::SubjectKind::kSubject)) {
    result.errorCode = ErrorCode::kMalformed;
    result.errorText = "'" + event.subject + "' is no subject: " + problem;
    return result;
  }
  if (!enter()) {
    result.errorCode = ErrorCode::kUnavailable;
    result.errorText = "this node is not running; the event on '" + event.subject + "' was not published";
    return result;
  }
  Event local{codecs::eventId(localSession_, ++localSequence_), event.subject, {name(), layer()}, event.headers,
              event.body};
  std::vector<std::shared_ptr<EventHandler>> matching;
  {
    std::lock_guard lock(eventsMutex_);
    for (const auto& [number, subscription] : eventSubscriptions_) {
      if (core::subjectMatches(subscription.pattern, event.subject)) matching.push_back(subscription.handler);
    }
  }
  for (const auto& handler : matching) deliverEvent(*deliveries_, *handler, local);
  if (client_ && client_->onLoopThread()) {
    // An event handler publishing: the client's thread must not wait for itself.
    auto subject = event.subject;
    client_->publishAsync(std::move(event), [subject](PublishResult&& r) {
      if (!r.ok) Poco::Logger::get("strata-node").warning("publish on '%s' failed: %s", subject, r.errorText);
    });
    result.id = local.id;
    result.ok = true;
  } else if (client_) {
    result = client_->publish(std::move(event));
  } else {
    result.id = local.id;
    result.ok = true;  // nobody outside to tell
  }
  leave();
  return result;
}

std::uint64_t Node::subscribe(const std::string& pattern, EventHandler handler) {
  if (const char* problem = core::subjectProblem(pattern, core::SubjectKind::kPattern)) {
    throw SubscribeError("'" + pattern + "' is no subject pattern: " + problem, ExitCode::kDataError);
  }
  EventSubscription made;
  made.pattern = pattern;
  made.handler = std::make_shared<EventHandler>(std::move(handler));
  std::uint64_t number = 0;
  bool running = false;
  {
    std::lock_guard lock(eventsMutex_);
    number = nextSubscription_++;
    running = client_ != nullptr;
    if (!running) {
      eventSubscriptions_.emplace(number, std::move(made));  // subscribed remotely at start()
      return number;
    }
  }
  // Not under the lock: waiting for the brokers must not hold up publishers here. From
  // the client's own thread (an event handler) it cannot wait.
  subscribeRemote(made, !client_->onLoopThread());
  std::lock_guard lock(eventsMutex_);
  eventSubscriptions_.emplace(number, std::move(made));
  return number;
}

void Node::unsubscribe(std::uint64_t number) {
  Client::Subscription remote;
  {
    std::lock_guard lock(eventsMutex_);
    auto it = eventSubscriptions_.find(number);
    if (it == eventSubscriptions_.end()) return;
    remote = std::move(it->second.remote);
    eventSubscriptions_.erase(it);
  }
  remote.cancel();
}

void Node::subscribeRemote(EventSubscription& subscription, bool wait) {
  auto handler = subscription.handler;
  auto gate = deliveries_;
  auto own = client_->publisherSession();
  auto onEvent = [handler, gate, own](const Event& e) {
    // Published by this node: its subscribers here had it by function call already.
    if (codecs::eventSession(e.id) == own) return;
    deliverEvent(*gate, *handler, e);
  };
  if (wait) {
    subscription.remote = client_->subscribe({subscription.pattern}, onEvent);
    return;
  }
  subscription.remote = client_->subscribeAsync(
      {subscription.pattern}, onEvent, nullptr,
      [pattern = subscription.pattern](std::optional<std::pair<ErrorCode, std::string>> refusal) {
        if (refusal) {
          Poco::Logger::get("strata-node").error("the brokers refused the subscription to '%s': %s", pattern,
                                                 refusal->second);
        }
      });
}

std::vector<std::string> Node::endpoints() const { return worker_ ? worker_->endpoints() : std::vector<std::string>{}; }

Outcome Node::runLocal(const Service& service, IncomingRequest request) {
  localCalls_.fetch_add(1, std::memory_order_relaxed);
  if (service.raw != nullptr) return invokeRawHandler(service.raw, service.rawContext, request, nullptr);
  try {
    return service.handler(request, [](Body, Headers) {});
  } catch (const std::exception& e) {
    return Outcome::failure(ErrorCode::kInternal, e.what());
  }
}

Response Node::call(OutgoingRequest request) {
  if (request.id.isZero()) request.id = core::MessageId::generate();
  if (!enter()) return refusal(request.id, request.service);
  Response response = callAdmitted(std::move(request), false);
  leave();
  return response;
}

Response Node::callAdmitted(OutgoingRequest request, bool fromOutside) {
  const Service* service = fromOutside ? nullptr : find(request.service);
  if (service == nullptr) {
    if (!client_) {
      Response refused;
      refused.id = request.id;
      refused.errorCode = ErrorCode::kUnavailable;
      refused.errorText = "service '" + request.service + "' is not hosted here and this node has no brokers" +
                          (fromOutside ? " (calls on behalf of outside callers always go through brokers)" : "");
      return refused;
    }
    if (client_->onLoopThread()) {
      // An event handler calling out: its answer would come on the thread it blocks.
      Response refused;
      refused.id = request.id;
      refused.errorCode = ErrorCode::kUnavailable;
      refused.errorText = "'" + request.service + "' was called from an event handler, on the thread that would "
                          "deliver its answer: call from a thread of your own";
      return refused;
    }
    remoteCalls_.fetch_add(1, std::memory_order_relaxed);
    return client_->call(std::move(request));
  }
  auto timeout = request.timeout.count() > 0 ? request.timeout : defaultTimeout();
  IncomingRequest in;
  in.id = request.id;
  in.service = std::move(request.service);
  in.caller = core::Identity{workerOptions_.name, workerOptions_.layer};
  in.headers = std::move(request.headers);
  in.body = std::move(request.body);
  in.deadline = std::chrono::steady_clock::now() + timeout;
  Outcome outcome = runLocal(*service, std::move(in));
  Response response;
  response.id = request.id;
  response.ok = !outcome.error.has_value();
  if (outcome.error) {
    response.errorCode = outcome.error->first;
    response.errorText = std::move(outcome.error->second);
  } else {
    response.headers = std::move(outcome.headers);
    response.body = std::move(outcome.body);
  }
  return response;
}

int Node::call(const strata_call& call, strata_response_fn onResponse, void* context) {
  if (call.struct_size < sizeof(strata_call)) {
    return deliver(core::MessageId::generate(),
                   Outcome::failure(ErrorCode::kMalformed, "strata_call.struct_size is smaller than this ABI's"),
                   onResponse, context);
  }
  core::MessageId id = core::MessageId::generate();
  if (call.id != nullptr) {
    id = *core::MessageId::fromBytes({reinterpret_cast<const char*>(call.id), core::MessageId::kSize});
  }
  if ((call.frames == nullptr && call.frame_count > 0) || (call.headers == nullptr && call.header_count > 0) ||
      call.service.data == nullptr || call.service.size == 0 || call.service.size > core::kMaxServiceName) {
    return deliver(id, Outcome::failure(ErrorCode::kMalformed, "call needs a service name and valid frames"),
                   onResponse, context);
  }
  std::string_view serviceName = view(call.service);
  if (!enter()) return deliver(id, outcomeOf(refusal(id, std::string(serviceName))), onResponse, context);
  int rc = callAdmitted(call, id, onResponse, context);
  leave();
  return rc;
}

int Node::callAdmitted(const strata_call& call, const core::MessageId& id, strata_response_fn onResponse,
                       void* context) {
  std::string_view serviceName = view(call.service);
  bool fromOutside = (call.flags & STRATA_CALL_FROM_OUTSIDE) != 0;
  auto timeout = std::chrono::milliseconds(call.timeout_ms);
  const Service* service = fromOutside ? nullptr : find(serviceName);
  if (service != nullptr && service->raw != nullptr) {
    // Plug-in to plug-in in one process: the callee reads the caller's own frames.
    localCalls_.fetch_add(1, std::memory_order_relaxed);
    if (timeout.count() == 0) timeout = defaultTimeout();
    strata_request raw{};
    std::memcpy(raw.id, id.bytes().data(), sizeof raw.id);
    raw.service = call.service;
    raw.caller_name = bytesOf(workerOptions_.name);
    raw.caller_layer = workerOptions_.layer;
    raw.headers = call.headers;
    raw.header_count = call.header_count;
    raw.frames = call.frames;
    raw.frame_count = call.frame_count;
    raw.deadline_ms = timeout.count();
    strata_reply reply;
    service->raw(service->rawContext, &raw, &reply);
    return deliver(id, reply.outcome, onResponse, context);
  }
  OutgoingRequest request;
  request.id = id;
  request.service = std::string(serviceName);
  request.timeout = timeout;
  for (std::size_t i = 0; i < call.header_count; ++i) {
    request.headers.emplace_back(view(call.headers[i].key), view(call.headers[i].value));
  }
  for (std::size_t i = 0; i < call.frame_count; ++i) request.body.emplace_back(view(call.frames[i]));
  return deliver(id, outcomeOf(callAdmitted(std::move(request), fromOutside)), onResponse, context);
}

int Node::callStream(const strata_call& call, RawResponse onPartial, RawResponse onFinal) {
  if (call.struct_size < sizeof(strata_call) || (call.frames == nullptr && call.frame_count > 0) ||
      (call.headers == nullptr && call.header_count > 0) || call.service.data == nullptr || call.service.size == 0 ||
      call.service.size > core::kMaxServiceName) {
    return STRATA_ERROR_MALFORMED;
  }
  // enter() first: client_ is set before the node runs, and a plug-in's thread (a gateway
  // already serving) may call before that.
  if (!enter()) return STRATA_ERROR_UNAVAILABLE;
  if (!client_) {
    leave();
    return STRATA_ERROR_UNAVAILABLE;
  }
  OutgoingRequest request;
  request.id = call.id != nullptr
                   ? *core::MessageId::fromBytes({reinterpret_cast<const char*>(call.id), core::MessageId::kSize})
                   : core::MessageId::generate();
  request.service = std::string(view(call.service));
  request.timeout = std::chrono::milliseconds(call.timeout_ms);
  for (std::size_t i = 0; i < call.header_count; ++i) {
    request.headers.emplace_back(view(call.headers[i].key), view(call.headers[i].value));
  }
  for (std::size_t i = 0; i < call.frame_count; ++i) request.body.emplace_back(view(call.frames[i]));
  remoteCalls_.fetch_add(1, std::memory_order_relaxed);
  Client::PartialHandler partial;
  if (onPartial) {
    partial = [onPartial = std::move(onPartial)](PartialResponse&& p) {
      showRaw(p.id, Outcome::reply(std::move(p.body), std::move(p.headers)), onPartial);
    };
  }
  client_->callAsync(
      std::move(request),
      [onFinal = std::move(onFinal)](Response&& response) {
        auto id = response.id;
        showRaw(id, outcomeOf(std::move(response)), onFinal);
      },
      std::move(partial));
  leave();
  return STRATA_OK;
}

std::optional<Worker::Status> Node::workerStatus() const {
  if (!worker_) return std::nullopt;
  return worker_->status();
}

}  // namespace strata::nodes
