#include <strata/nodes/client.h>

#include <deque>
#include <queue>
#include <unordered_map>

#include <Poco/Logger.h>
#include <zmq_addon.hpp>

#include <strata/core/errors.h>
#include <strata/core/socket_setup.h>
#include <strata/nodes/call_table.h>
#include <strata/nodes/endpoint_pool.h>

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

// A request the client can tell is bad before sending: answered locally, never sent.
std::optional<std::string> validate(const OutgoingRequest& request) {
  if (!codec::isValidServiceName(request.service)) {
    return "service name '" + request.service + "' is not 1 to 255 letters, digits, '.', '-' or '_'";
  }
  for (const auto& [k, v] : request.headers) {
    if (k.empty() || k.size() > kMaxHeaderKey || v.size() > kMaxHeaderValue) {
      return "header '" + k + "' is too long or empty";
    }
  }
  return std::nullopt;
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
    zmq::socket_t monitor;
    bool refused = false;  // the last handshake failed
    std::string refusal;   // why, for the callers
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
  std::atomic<std::thread::id> loopThread;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> resent{0};

  std::mutex mutex;  // guards submitted only
  std::vector<Call> submitted;
  std::vector<Call> batch;
  std::vector<Call> local;  // made by callbacks on the loop thread
  std::vector<Call> localBatch;

  std::unordered_map<MessageId, TimePoint, core::MessageIdHash> pings;  // our own, by when sent
  detail::FrameList frames;
  std::vector<std::string_view> views;
  codec::Message decoded;
  codec::Request wire;                // reused to encode each call
  std::vector<std::string> encoded;  // swapped with the table's spare buffers
  std::vector<zmq::pollitem_t> items;

  void run();
  void submit(Call&& call, TimePoint now);
  void submitQueued();
  void receive(std::size_t link);
  void readMonitor(std::size_t link);
  void onTimers();
  // Carries out what the table asked for: sends first, then the callbacks (which may
  // submit again, straight into the table, since they run on this thread).
  void carryOut();
  void sendTo(std::size_t link, const std::vector<std::string>& frames);
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
  {
    std::lock_guard lock(s.mutex);
    s.submitted.push_back(Call{std::move(request), std::move(onReply), std::move(onPartial)});
  }
  s.wakeup.signal();
  return id;
}

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

void Client::State::sendTo(std::size_t i, const std::vector<std::string>& out) {
  // A full or closed pipe is not an error here: the deadline or the endpoint's death
  // settles the request.
  try {
    detail::sendFrames(links[i].socket, out);
  } catch (const zmq::error_t& e) {
    logger().debug("%s: send failed: %s", links[i].endpoint, std::string(e.what()));
  }
}

void Client::State::carryOut() {
  // Callbacks may call again; their calls are submitted once they return, and what those
  // produce is carried out in turn, in a loop rather than by recursion.
  while (!actions.sends.empty() || !actions.done.empty() || !local.empty()) {
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
  }
  auto now = clock.now();
  for (auto& call : batch) submit(std::move(call), now);
  batch.clear();
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
    auto fault = codec::decodeInto(views, decoded);
    if (fault != codec::DecodeError::kNone) {
      logger().warning("dropped a malformed reply: %s", std::string(codec::decodeErrorName(fault)));
      continue;
    }
    if (auto* reply = std::get_if<codec::Reply>(&decoded)) {
      if (pings.erase(reply->id) > 0) continue;
      Response r;
      r.id = reply->id;
      r.ok = true;
      r.headers = detail::ownHeaders(reply->headers);
      r.body = detail::ownBody(reply->body);
      calls->onReply(reply->id, std::move(r), actions);
    } else if (auto* error = std::get_if<codec::Error>(&decoded)) {
      if (pings.erase(error->id) > 0) continue;  // a worker in direct mode has no strata.ping
      calls->onError(link, error->id, error->code, error->text, actions);
    } else if (auto* partial = std::get_if<codec::Partial>(&decoded)) {
      if (const auto* handler = calls->partialHandler(partial->id)) {
        (*handler)(PartialResponse{partial->id, detail::ownHeaders(partial->headers), detail::ownBody(partial->body)});
      }
    } else if (auto* bye = std::get_if<codec::Disconnect>(&decoded)) {
      logger().warning("the server asked this client to disconnect: %s", std::string(bye->reason));
    }
    carryOut();
  }
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
    return;
  }
  std::string why = code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                        ? "refused this client's key (it is not in the server's authorized keys)"
                        : "failed the CURVE handshake (is the server key, strata.broker_key, right?)";
  std::string text = link.endpoint + " " + why;
  if (!link.refused) logger().warning("%s", text);
  link.refused = true;
  link.refusal = text;
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
  calls->tick(now, actions);
  auto tick = pool->onTick(now);
  for (auto i : tick.died) {
    logger().warning("%s stopped answering; its requests go to another endpoint", links[i].endpoint);
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
    auto due = std::min(pool->nextDue(), calls->nextDue());
    auto wait = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(due - now) + std::chrono::milliseconds(1),
                         std::chrono::milliseconds(0));
    items.clear();
    for (auto& link : links) items.push_back({link.socket.handle(), 0, ZMQ_POLLIN, 0});
    for (auto& link : links) items.push_back({link.monitor.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, wakeup.fd(), ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), wait);
    std::size_t n = links.size();
    if (items.back().revents & ZMQ_POLLIN) wakeup.drain();
    for (std::size_t i = 0; i < n; ++i) {
      if (items[n + i].revents & ZMQ_POLLIN) readMonitor(i);
      if (items[i].revents & ZMQ_POLLIN) receive(i);
    }
    onTimers();
    submitQueued();
  }
  // Whoever still waits is told, so no caller blocks past the client's life.
  stopping = true;
  submitQueued();
  calls->failAll(ErrorCode::kUnavailable, "the client is shutting down", actions);
  carryOut();
  for (auto& link : links) zmq_socket_monitor(link.socket.handle(), nullptr, 0);
}

}  // namespace strata::nodes
