#include <strata/nodes/client.h>

#include <deque>
#include <queue>
#include <unordered_map>

#include <Poco/Logger.h>
#include <zmq_addon.hpp>

#include <strata/core/errors.h>
#include <strata/core/socket_setup.h>
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

Response errorResponse(const MessageId& id, ErrorCode code, std::string text) {
  Response r;
  r.id = id;
  r.errorCode = code;
  r.errorText = std::move(text);
  return r;
}

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
  struct InFlight {
    TimePoint deadline;
    ReplyHandler onReply;
    PartialHandler onPartial;
    std::size_t link = 0;
    std::vector<std::string> frames;  // kept to send again elsewhere
    std::size_t declined = 0;          // endpoints that answered "no worker here" so far
    int attempts = 1;
    TimePoint attemptDeadline = TimePoint::max();
  };
  using Deadline = std::pair<TimePoint, MessageId>;

  std::vector<Link> links;
  std::optional<EndpointPool> pool;
  core::Wakeup wakeup;
  core::SteadyClock clock;
  std::thread::id loopThread;
  std::atomic<bool> stopping{false};

  std::mutex mutex;  // guards submitted only
  std::vector<Call> submitted;

  std::unordered_map<MessageId, InFlight, core::MessageIdHash> inFlight;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::unordered_map<MessageId, TimePoint, core::MessageIdHash> pings;  // our own, by when sent
  // Attempts that may time out, and resends waiting out their backoff (lazily cleaned).
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> attemptTimers;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> resends;
  std::atomic<std::uint64_t> resent{0};
};

Client::Client(ClientOptions options) : options_(std::move(options)), state_(std::make_unique<State>()) {
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
  thread_ = std::thread([this] { run(); });
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
  {
    std::lock_guard lock(state_->mutex);
    state_->submitted.push_back(Call{std::move(request), std::move(onReply), std::move(onPartial)});
  }
  // The loop drains submissions after running callbacks, so it needs no wake-up from itself.
  if (std::this_thread::get_id() != state_->loopThread) state_->wakeup.signal();
  return id;
}

std::uint64_t Client::resent() const { return state_->resent.load(); }

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

void Client::run() {
  State& s = *state_;
  s.loopThread = std::this_thread::get_id();
  detail::FrameList frames;
  std::vector<std::string_view> views;
  std::vector<Call> batch;
  std::vector<zmq::pollitem_t> items;

  auto finish = [&](const MessageId& id, Response&& response) {
    auto it = s.inFlight.find(id);
    if (it == s.inFlight.end()) return;  // late: already answered or timed out
    auto handler = std::move(it->second.onReply);
    s.inFlight.erase(it);
    handler(std::move(response));
  };

  // Sends frames to endpoint i. A full or closed pipe is not an error here: the deadline
  // or the endpoint's death settles the request.
  auto sendTo = [&](std::size_t i, const std::vector<std::string>& out) {
    try {
      detail::sendFrames(s.links[i].socket, out);
    } catch (const zmq::error_t& e) {
      logger().debug("%s: send failed: %s", s.links[i].endpoint, std::string(e.what()));
    }
  };

  // The next live endpoint after i, in order; nullopt when no other is alive.
  auto nextAlive = [&](std::size_t i) -> std::optional<std::size_t> {
    for (std::size_t k = 1; k < s.links.size(); ++k) {
      auto candidate = (i + k) % s.links.size();
      if (s.pool->alive(candidate)) return candidate;
    }
    return std::nullopt;
  };

  auto allRefused = [&]() -> std::optional<std::string> {
    for (const auto& link : s.links)
      if (!link.refused) return std::nullopt;
    return s.links.front().refusal;
  };

  auto sendSubmitted = [&] {
    {
      std::lock_guard lock(s.mutex);
      batch.swap(s.submitted);
    }
    auto now = s.clock.now();
    for (auto& call : batch) {
      auto& req = call.request;
      if (auto problem = validate(req)) {
        call.onReply(errorResponse(req.id, ErrorCode::kMalformed, *problem));
        continue;
      }
      if (auto refusal = allRefused()) {
        // Every endpoint refused us: say why now instead of at the deadline.
        call.onReply(errorResponse(req.id, ErrorCode::kUnavailable, *refusal));
        continue;
      }
      if (s.inFlight.contains(req.id)) {
        call.onReply(errorResponse(req.id, ErrorCode::kMalformed, "request id " + req.id.hex() + " is already in flight"));
        continue;
      }
      codec::Request wire{req.id, req.service, static_cast<std::uint32_t>(req.timeout.count()), {},
                          detail::viewHeaders(req.headers), detail::viewBody(req.body)};
      std::size_t link = s.pool->pick();
      auto deadline = now + req.timeout;
      auto [it, _] = s.inFlight.emplace(
          req.id, State::InFlight{deadline, std::move(call.onReply), std::move(call.onPartial), link, codec::encode(wire)});
      s.deadlines.emplace(deadline, req.id);
      if (options_.attemptTimeout.count() > 0) {
        it->second.attemptDeadline = now + options_.attemptTimeout;
        s.attemptTimers.emplace(it->second.attemptDeadline, req.id);
      }
      sendTo(link, it->second.frames);
    }
    batch.clear();
  };

  auto receive = [&](std::size_t link) {
    auto& socket = s.links[link].socket;
    for (int n = 0; n < kReceiveBatch; ++n) {
      zmq::message_t first;
      if (!socket.recv(first, zmq::recv_flags::dontwait)) return;
      s.pool->onHeard(link, s.clock.now());
      s.links[link].refused = false;
      if (!detail::receiveRest(socket, first, frames, options_.limits)) {
        logger().warning("dropped a reply over the size limits");
        continue;
      }
      auto decoded = detail::decodeFrames(frames, views);
      if (!decoded.ok()) {
        logger().warning("dropped a malformed reply: %s", std::string(codec::decodeErrorName(decoded.error)));
        continue;
      }
      if (auto* reply = std::get_if<codec::Reply>(&decoded.message)) {
        if (s.pings.erase(reply->id) > 0) continue;
        Response r;
        r.id = reply->id;
        r.ok = true;
        r.headers = detail::ownHeaders(reply->headers);
        r.body = detail::ownBody(reply->body);
        finish(reply->id, std::move(r));
      } else if (auto* error = std::get_if<codec::Error>(&decoded.message)) {
        if (s.pings.erase(error->id) > 0) continue;  // a worker in direct mode has no strata.ping
        auto it = s.inFlight.find(error->id);
        bool noWorkerThere = error->code == ErrorCode::kUnknownService || error->code == ErrorCode::kUnavailable;
        if (it != s.inFlight.end() && noWorkerThere && ++it->second.declined < s.links.size()) {
          // In a pool, another broker may have the worker this one lacks (say, cut off from it).
          if (auto next = nextAlive(link)) {
            it->second.link = *next;
            sendTo(*next, it->second.frames);
            continue;
          }
        }
        finish(error->id, errorResponse(error->id, error->code, std::string(error->text)));
      } else if (auto* partial = std::get_if<codec::Partial>(&decoded.message)) {
        auto it = s.inFlight.find(partial->id);
        if (it != s.inFlight.end() && it->second.onPartial) {
          it->second.onPartial(
              PartialResponse{partial->id, detail::ownHeaders(partial->headers), detail::ownBody(partial->body)});
        }
      } else if (auto* bye = std::get_if<codec::Disconnect>(&decoded.message)) {
        logger().warning("the server asked this client to disconnect: %s", std::string(bye->reason));
      }
    }
  };

  // Sends every request held by endpoint i to another endpoint, with the same id.
  auto moveRequestsOff = [&](std::size_t i) {
    for (auto& [id, call] : s.inFlight) {
      if (call.link != i) continue;
      call.link = s.pool->pick();
      ++s.resent;
      sendTo(call.link, call.frames);
    }
  };

  auto readMonitor = [&](std::size_t i) {
    zmq::multipart_t event;
    if (!event.recv(s.links[i].monitor, static_cast<int>(zmq::recv_flags::dontwait)) || event.size() < 2) return;
    auto head = event[0].to_string_view();
    if (head.size() < 2) return;
    std::uint16_t code = 0;
    std::memcpy(&code, head.data(), 2);
    auto& link = s.links[i];
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
    s.pool->onRefused(i);
    if (!allRefused()) {
      moveRequestsOff(i);
      return;
    }
    // Nothing will get through on a refused key; fail what waits now rather than at its deadline.
    std::vector<MessageId> ids;
    for (const auto& [id, _] : s.inFlight) ids.push_back(id);
    for (const auto& id : ids) finish(id, errorResponse(id, ErrorCode::kUnavailable, text));
  };

  auto onTimers = [&] {
    auto now = s.clock.now();
    while (!s.attemptTimers.empty() && s.attemptTimers.top().first <= now) {
      auto [due, id] = s.attemptTimers.top();
      s.attemptTimers.pop();
      auto it = s.inFlight.find(id);
      if (it == s.inFlight.end() || it->second.attemptDeadline != due) continue;
      auto backoff = std::min(options_.retryBackoff * (1 << std::min(it->second.attempts - 1, 16)),
                              ClientOptions::kMaxBackoff);
      it->second.attemptDeadline = TimePoint::max();
      s.resends.emplace(now + backoff, id);
    }
    while (!s.resends.empty() && s.resends.top().first <= now) {
      auto id = s.resends.top().second;
      s.resends.pop();
      auto it = s.inFlight.find(id);
      if (it == s.inFlight.end()) continue;
      auto& call = it->second;
      ++call.attempts;
      call.link = nextAlive(call.link).value_or(call.link);
      ++s.resent;
      sendTo(call.link, call.frames);
      call.attemptDeadline = now + options_.attemptTimeout;
      s.attemptTimers.emplace(call.attemptDeadline, id);
    }
    while (!s.deadlines.empty() && s.deadlines.top().first <= now) {
      auto [deadline, id] = s.deadlines.top();
      s.deadlines.pop();
      auto it = s.inFlight.find(id);
      if (it == s.inFlight.end() || it->second.deadline != deadline) continue;
      finish(id, errorResponse(id, ErrorCode::kTimeout, "no answer before the deadline"));
    }
    auto tick = s.pool->onTick(now);
    for (auto i : tick.died) {
      logger().warning("%s stopped answering; its requests go to another endpoint", s.links[i].endpoint);
      moveRequestsOff(i);
    }
    auto pingTimeout = options_.pingInterval * options_.liveness;
    std::erase_if(s.pings, [&](const auto& entry) { return now - entry.second > pingTimeout * 2; });
    for (auto i : tick.ping) {
      auto id = MessageId::generate();
      s.pings.emplace(id, now);
      codec::Request ping{id, codec::kPingService, static_cast<std::uint32_t>(pingTimeout.count()), {}, {}, {}};
      sendTo(i, codec::encode(ping));
    }
  };

  while (!s.stopping) {
    auto now = s.clock.now();
    auto due = s.pool->nextDue();
    if (!s.deadlines.empty()) due = std::min(due, s.deadlines.top().first);
    if (!s.attemptTimers.empty()) due = std::min(due, s.attemptTimers.top().first);
    if (!s.resends.empty()) due = std::min(due, s.resends.top().first);
    auto wait = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(due - now) + std::chrono::milliseconds(1),
                         std::chrono::milliseconds(0));
    items.clear();
    for (auto& link : s.links) items.push_back({link.socket.handle(), 0, ZMQ_POLLIN, 0});
    for (auto& link : s.links) items.push_back({link.monitor.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, s.wakeup.fd(), ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), wait);
    std::size_t n = s.links.size();
    if (items.back().revents & ZMQ_POLLIN) s.wakeup.drain();
    for (std::size_t i = 0; i < n; ++i) {
      if (items[n + i].revents & ZMQ_POLLIN) readMonitor(i);
      if (items[i].revents & ZMQ_POLLIN) receive(i);
    }
    onTimers();
    sendSubmitted();
  }
  // Whoever still waits is told, so no caller blocks past the client's life.
  sendSubmitted();
  std::vector<MessageId> ids;
  for (const auto& [id, _] : s.inFlight) ids.push_back(id);
  for (const auto& id : ids) finish(id, errorResponse(id, ErrorCode::kUnavailable, "the client is shutting down"));
  for (auto& link : s.links) zmq_socket_monitor(link.socket.handle(), nullptr, 0);
}

}  // namespace strata::nodes
