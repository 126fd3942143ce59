#include <strata/core/zap_server.h>

#include <array>
#include <future>

#include <Poco/Logger.h>
#include <zmq_addon.hpp>

#include <strata/core/errors.h>
#include <strata/core/socket_setup.h>

namespace strata::core {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr std::size_t kCurveKeyBytes = 32;

Poco::Logger& logger() { return Poco::Logger::get("strata.zap"); }

std::string z85Encode(std::string_view binary) {
  std::array<char, PublicKey::kZ85Length + 1> text{};
  zmq_z85_encode(text.data(), reinterpret_cast<const std::uint8_t*>(binary.data()), binary.size());
  return text.data();
}

}  // namespace

ZapDecision decideZap(const AuthorizedKeys& keys, std::string_view domain, std::string_view mechanism,
                      std::string_view clientKeyBinary) {
  if (domain != kZapDomain) return {"400", "unknown ZAP domain", "", ""};
  if (mechanism != "CURVE") return {"400", "only CURVE is accepted", "", ""};
  if (clientKeyBinary.size() != kCurveKeyBytes) return {"400", "malformed CURVE key", "", ""};
  auto key = z85Encode(clientKeyBinary);
  const Identity* identity = keys.lookup(key);
  if (!identity) return {"400", "key not authorized", "", ""};
  return {"200", "OK", std::move(key), identity->name};
}

ZapServer::ZapServer(zmq::context_t& context, std::shared_ptr<const AuthorizedKeys> keys)
    : context_(context), keys_(std::move(keys)) {
  controlEndpoint_ = "inproc://strata.zap.control." + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  std::promise<void> bound;
  auto ready = bound.get_future();
  thread_ = std::thread([this, &bound] {
    zmq::socket_t socket(context_, zmq::socket_type::rep);
    zmq::socket_t control(context_, zmq::socket_type::pair);
    try {
      socket.set(zmq::sockopt::linger, 0);
      control.set(zmq::sockopt::linger, 0);
      socket.bind(kZapEndpoint);
      control.bind(controlEndpoint_);
    } catch (...) {
      bound.set_exception(std::current_exception());
      return;
    }
    bound.set_value();
    run(socket, control);
  });
  try {
    ready.get();
  } catch (const zmq::error_t& e) {
    thread_.join();
    throw SystemError(std::string("cannot bind the ZAP handler: ") + e.what());
  }
  stop_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
  stop_->set(zmq::sockopt::linger, 0);
  stop_->connect(controlEndpoint_);
}

void ZapServer::replaceKeys(std::shared_ptr<const AuthorizedKeys> keys) {
  std::lock_guard lock(keysMutex_);
  keys_ = std::move(keys);
}

std::shared_ptr<const AuthorizedKeys> ZapServer::keys() const {
  std::lock_guard lock(keysMutex_);
  return keys_;
}

ZapCounts ZapServer::counts() const {
  return {accepted_.load(), unknownKey_.load(), full_.load(), malformed_.load()};
}

ZapServer::~ZapServer() {
  try {
    stop_->send(zmq::str_buffer("stop"), zmq::send_flags::none);
  } catch (const zmq::error_t&) {
    // The context is shutting down; the thread's poll ends with ETERM on its own.
  }
  thread_.join();
}

void ZapServer::run(zmq::socket_t& socket, zmq::socket_t& control) {
  std::array<zmq::pollitem_t, 2> items{{{socket.handle(), 0, ZMQ_POLLIN, 0}, {control.handle(), 0, ZMQ_POLLIN, 0}}};
  try {
    while (true) {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
      if (items[1].revents & ZMQ_POLLIN) return;
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      zmq::multipart_t request(socket);
      // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
      ZapDecision decision{"500", "malformed ZAP request", "", ""};
      std::string requestId;
      std::string address;
      if (request.size() >= 6 && request[0].to_string_view() == "1.0") {
        requestId = request[1].to_string();
        address = request[3].to_string();
        std::string_view credential = request.size() >= 7 ? request[6].to_string_view() : std::string_view{};
        decision = decideZap(*keys(), request[2].to_string_view(), request[5].to_string_view(), credential);
      }
      auto max = maxConnections_.load();
      if (decision.statusCode == "200" && max > 0 && openConnections_.load() > max) {
        ++full_;
        logger().warning("handshake refused name=%s address=%s reason=\"strata.max_peers (%z) reached\"",
                         decision.name, address, max);
        decision = {"300", "too many connections", "", ""};
      } else if (decision.statusCode == "200") {
        ++accepted_;
        logger().information("peer authenticated name=%s address=%s", decision.name, address);
      } else {
        ++(decision.statusText == "key not authorized" ? unknownKey_ : malformed_);
        logger().warning("handshake refused address=%s reason=\"%s\"", address, decision.statusText);
      }
      zmq::multipart_t reply;
      reply.addstr("1.0");
      reply.addstr(requestId);
      reply.addstr(decision.statusCode);
      reply.addstr(decision.statusText);
      reply.addstr(decision.userId);
      reply.addstr("");
      reply.send(socket);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM) logger().error("ZAP handler stopped: %s", std::string(e.what()));
  }
}

}  // namespace strata::core
