#include <strata/integrations/http/gateway.h>

#include <mutex>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>

#include <strata/core/errors.h>
#include <strata/core/tls_server.h>

#include "connection_gate.h"
#include "connection_watch.h"
#include "event_fanout.h"
#include "gateway_request_handler.h"
#include "guarded_connection.h"
#include "session_table.h"
#include "stream_hub.h"

namespace strata::integrations::http {

namespace {

constexpr int kBacklog = 128;
constexpr int kMinThreads = 1;
constexpr int kThreadIdleSeconds = 60;

Poco::Timespan timespan(std::chrono::milliseconds ms) { return Poco::Timespan(ms.count() * 1000); }

Poco::Net::Context::Ptr serverContext(const GatewayOptions& options) {
  return core::tlsServerContext(options.tlsCert, options.tlsKey, "strata.plugin.http.tls_cert/tls_key");
}

}  // namespace

struct Gateway::State {
  GatewayContext context;
  ConnectionWatch watch;
  StreamHub hub;
  SessionTable sessions;
  EventFanout events;
  GuardedConnection::Shared shared;
  Poco::ThreadPool pool;
  Poco::Net::TCPServerDispatcher* dispatcher = nullptr;  // reference counted by Poco
  std::unique_ptr<ConnectionGate> gate;
  Poco::Net::SocketAddress address;
  std::string url;
  bool stopped = false;

  State(GatewayOptions options, BusCall call, LogFunction log, BusStreams streams)
      : context{std::move(options), std::move(call), std::move(log), nullptr, std::move(streams.watch)},
        watch(context.options.keepAliveTimeout + context.options.requestTimeout),
        hub(hubOptions(context.options)),
        sessions(context.options.sessionTtl, context.options.maxSessions),
        events(std::move(streams.subscribe), std::move(streams.unsubscribe), EventFanout::Options{}),
        pool(kMinThreads, context.options.maxThreads, kThreadIdleSeconds) {
    context.watch = &watch;
    context.hub = &hub;
    context.sessions = &sessions;
    if (events.available()) context.events = &events;
  }

  static StreamHub::Options hubOptions(const GatewayOptions& o) {
    StreamHub::Options out;
    out.maxStreams = o.maxStreams;
    out.maxQueuedBytes = o.streamQueueBytes;
    out.keepAlive = o.streamKeepAlive;
    return out;
  }
};

Gateway::Gateway(GatewayOptions options, BusCall call, LogFunction log, BusStreams streams)
    : state_(std::make_unique<State>(std::move(options), std::move(call), std::move(log), std::move(streams))) {
  auto& s = *state_;
  const auto& o = s.context.options;

  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setTimeout(timespan(o.requestTimeout));
  params->setKeepAlive(o.maxKeepAliveRequests > 0);
  params->setKeepAliveTimeout(timespan(o.keepAliveTimeout));
  params->setMaxKeepAliveRequests(o.maxKeepAliveRequests);
  params->setMaxThreads(o.maxThreads);
  params->setMaxQueued(o.maxQueued);
  s.shared.params = params;
  s.shared.handlers = new GatewayHandlerFactory(s.context);
  s.shared.watch = &s.watch;
  if (o.tls()) s.shared.tls = serverContext(o);

  Poco::Net::SocketAddress bindAddress;
  try {
    bindAddress = Poco::Net::SocketAddress(o.listen);
  } catch (const Poco::Exception& e) {
    throw ConfigError("strata.plugin.http.listen '" + o.listen + "': " + e.displayText());
  }
  Poco::Net::ServerSocket listener;
  try {
    listener.bind(bindAddress, true);
    listener.listen(kBacklog);
  } catch (const Poco::Exception& e) {
    throw SystemError("http gateway cannot listen on " + o.listen + ": " + e.displayText());
  }
  s.address = listener.address();
  s.url = std::string(o.tls() ? "https" : "http") + "://" + s.address.toString();

  s.dispatcher = new Poco::Net::TCPServerDispatcher(new GuardedConnectionFactory(s.shared), s.pool, params);
  ConnectionGate::Options gateOptions;
  gateOptions.waitForHeader = !o.tls();
  gateOptions.headerTimeout = o.requestTimeout;
  gateOptions.maxHeaderBytes = o.maxHeaderBytes;
  gateOptions.maxPending = o.maxConnections;
  gateOptions.keepAliveTimeout = o.keepAliveTimeout;
  gateOptions.maxBody = o.maxBody;
  auto* dispatcher = s.dispatcher;
  s.gate = std::make_unique<ConnectionGate>(
      listener, gateOptions, [dispatcher](const Poco::Net::StreamSocket& socket) { dispatcher->enqueue(socket); },
      [&watch = s.watch] { watch.sweep(); });
  // Plain-HTTP workers hand keep-alive connections back to the gate from now on.
  if (!o.tls()) s.shared.gate = s.gate.get();
  if (s.context.log) s.context.log("http gateway listening on " + s.url);
}

Gateway::~Gateway() { stop(); }

Poco::Net::SocketAddress Gateway::address() const { return state_->address; }
std::string Gateway::url() const { return state_->url; }
std::size_t Gateway::streams() const { return state_->hub.size(); }

void Gateway::stop() {
  auto& s = *state_;
  if (s.stopped) return;
  s.stopped = true;
  s.gate->stop();
  s.dispatcher->stop();
  s.watch.shutdownAll();
  s.hub.stop();
  s.events.stop();
  // Handlers in a bus call finish within their call's timeout.
  s.pool.joinAll();
  s.dispatcher->release();
  s.dispatcher = nullptr;
}

}  // namespace strata::integrations::http
