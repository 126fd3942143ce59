#include <strata/nodes/client.h>

#include <deque>
#include <queue>
#include <unordered_map>

#include <Poco/Logger.h>
#include <zmq_addon.hpp>

#include <strata/core/errors.h>
#include <strata/core/socket_setup.h>

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
constexpr int kMonitorEvents =
    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;

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
  zmq::context_t context{1};
  zmq::socket_t socket;
  zmq::socket_t monitor;
  core::Wakeup wakeup;
  core::SteadyClock clock;
  std::thread::id loopThread;
  std::atomic<bool> stopping{false};

  std::mutex mutex;  // guards submitted only
  std::vector<Call> submitted;

  struct InFlight {
    TimePoint deadline;
    ReplyHandler onReply;
    PartialHandler onPartial;
  };
  std::unordered_map<MessageId, InFlight, core::MessageIdHash> inFlight;
  using Deadline = std::pair<TimePoint, MessageId>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::string lastRefusal;
};

Client::Client(ClientOptions options) : options_(std::move(options)), state_(std::make_unique<State>()) {
  if (options_.endpoints.empty()) throw ConfigError("no endpoint to connect to (strata.brokers or strata.workers)");
  bool anyTcp = std::any_of(options_.endpoints.begin(), options_.endpoints.end(), core::isTcp);
  State& s = *state_;
  s.socket = zmq::socket_t(s.context, zmq::socket_type::dealer);
  if (options_.serverKey && options_.secretKey) {
    core::makeCurveClient(s.socket, *options_.secretKey, *options_.serverKey, options_.limits);
  } else if (anyTcp) {
    throw ConfigError("tcp:// endpoints need CURVE: set strata.key and the server's public key");
  }
  auto monitorEndpoint = "inproc://strata.client.monitor." + std::to_string(++monitorSequence);
  if (zmq_socket_monitor(s.socket.handle(), monitorEndpoint.c_str(), kMonitorEvents) != 0) {
    throw SystemError("cannot monitor the client socket");
  }
  s.monitor = zmq::socket_t(s.context, zmq::socket_type::pair);
  s.monitor.set(zmq::sockopt::linger, 0);
  s.monitor.connect(monitorEndpoint);
  for (const auto& endpoint : options_.endpoints) {
    try {
      s.socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      throw ConfigError("cannot connect to " + endpoint + ": " + e.what());
    }
  }
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
  std::array<zmq::pollitem_t, 3> items{{{s.socket.handle(), 0, ZMQ_POLLIN, 0},
                                        {nullptr, s.wakeup.fd(), ZMQ_POLLIN, 0},
                                        {s.monitor.handle(), 0, ZMQ_POLLIN, 0}}};
  detail::FrameList frames;
  std::vector<std::string_view> views;
  std::vector<Call> batch;

  auto finish = [&](const MessageId& id, Response&& response) {
    auto it = s.inFlight.find(id);
    if (it == s.inFlight.end()) return;  // late: already answered or timed out
    auto handler = std::move(it->second.onReply);
    s.inFlight.erase(it);
    handler(std::move(response));
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
      if (s.inFlight.contains(req.id)) {
        call.onReply(errorResponse(req.id, ErrorCode::kMalformed, "request id " + req.id.hex() + " is already in flight"));
        continue;
      }
      codec::Request wire{req.id, req.service, static_cast<std::uint32_t>(req.timeout.count()), {},
                          detail::viewHeaders(req.headers), detail::viewBody(req.body)};
      try {
        detail::sendFrames(s.socket, codec::encode(wire));
      } catch (const zmq::error_t& e) {
        call.onReply(errorResponse(req.id, ErrorCode::kUnavailable, std::string("cannot send: ") + e.what()));
        continue;
      }
      auto deadline = now + req.timeout;
      s.inFlight.emplace(req.id, State::InFlight{deadline, std::move(call.onReply), std::move(call.onPartial)});
      s.deadlines.emplace(deadline, req.id);
    }
    batch.clear();
  };

  auto receive = [&] {
    for (int n = 0; n < kReceiveBatch; ++n) {
      zmq::message_t first;
      if (!s.socket.recv(first, zmq::recv_flags::dontwait)) return;
      if (!detail::receiveRest(s.socket, first, frames, options_.limits)) {
        logger().warning("dropped a reply over the size limits");
        continue;
      }
      auto decoded = detail::decodeFrames(frames, views);
      if (!decoded.ok()) {
        logger().warning("dropped a malformed reply: %s", std::string(codec::decodeErrorName(decoded.error)));
        continue;
      }
      if (auto* reply = std::get_if<codec::Reply>(&decoded.message)) {
        Response r;
        r.id = reply->id;
        r.ok = true;
        r.headers = detail::ownHeaders(reply->headers);
        r.body = detail::ownBody(reply->body);
        finish(reply->id, std::move(r));
      } else if (auto* error = std::get_if<codec::Error>(&decoded.message)) {
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

  auto readMonitor = [&] {
    zmq::multipart_t event;
    if (!event.recv(s.monitor, static_cast<int>(zmq::recv_flags::dontwait)) || event.size() < 2) return;
    auto head = event[0].to_string_view();
    if (head.size() < 2) return;
    std::uint16_t code = 0;
    std::memcpy(&code, head.data(), 2);
    std::string endpoint = event[1].to_string();
    std::string why = code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          ? "refused this client's key (it is not in the server's authorized keys)"
                          : "failed the CURVE handshake (is strata.broker_key the server's public key?)";
    s.lastRefusal = endpoint + " " + why;
    if (logger().warning()) logger().warning("%s", s.lastRefusal);
    // Nothing will get through on a refused key; fail what waits now rather than at its deadline.
    std::vector<MessageId> ids;
    for (const auto& [id, _] : s.inFlight) ids.push_back(id);
    for (const auto& id : ids) finish(id, errorResponse(id, ErrorCode::kUnavailable, s.lastRefusal));
  };

  auto expire = [&] {
    auto now = s.clock.now();
    while (!s.deadlines.empty() && s.deadlines.top().first <= now) {
      auto [deadline, id] = s.deadlines.top();
      s.deadlines.pop();
      auto it = s.inFlight.find(id);
      if (it == s.inFlight.end() || it->second.deadline != deadline) continue;
      finish(id, errorResponse(id, ErrorCode::kTimeout, "no answer before the deadline"));
    }
  };

  while (!s.stopping) {
    std::chrono::milliseconds wait{-1};
    if (!s.deadlines.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(s.deadlines.top().first - s.clock.now());
      wait = std::max(left + std::chrono::milliseconds(1), std::chrono::milliseconds(0));
    }
    zmq::poll(items.data(), items.size(), wait);
    if (items[1].revents & ZMQ_POLLIN) s.wakeup.drain();
    if (items[2].revents & ZMQ_POLLIN) readMonitor();
    if (items[0].revents & ZMQ_POLLIN) receive();
    expire();
    sendSubmitted();
  }
  // Whoever still waits is told, so no caller blocks past the client's life.
  sendSubmitted();
  std::vector<MessageId> ids;
  for (const auto& [id, _] : s.inFlight) ids.push_back(id);
  for (const auto& id : ids) finish(id, errorResponse(id, ErrorCode::kUnavailable, "the client is shutting down"));
  zmq_socket_monitor(s.socket.handle(), nullptr, 0);
}

}  // namespace strata::nodes
