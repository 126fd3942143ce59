#pragma once

#include <memory>
#include <string>

#include <Poco/Net/SocketAddress.h>

#include <strata/integrations/http/bus_call.h>
#include <strata/integrations/http/gateway_options.h>

namespace strata::integrations::http {

// The inbound HTTP(S) gateway: POST /v1/services/<name> calls a bus service with the
// request body, /RPC2 speaks XML-RPC when enabled, GET /v1/watch/<collection> and GET
// /v1/events stream a store's objects and bus events as Server-Sent Events, and /ui
// serves a directory's pages. Connections are accepted by one
// thread that hands a plain-HTTP connection to the worker threads only once its whole
// request header has arrived, so slow (slowloris) clients hold no worker; a watchdog
// closes any connection that takes longer than requestTimeout to send a request.
class Gateway {
 public:
  // Throws ConfigError for a listen address that does not parse, SystemError when
  // it cannot bind, and ConfigError when the TLS certificate or key cannot be used.
  // streams serves GET /v1/watch/... and GET /v1/events; a route whose part is unset
  // answers 501.
  Gateway(GatewayOptions options, BusCall call, LogFunction log, BusStreams streams = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The bound address (the real port when listen asked for port 0).
  Poco::Net::SocketAddress address() const;
  // http://host:port or https://host:port, as logged at start.
  std::string url() const;

  // Event streams open now.
  std::size_t streams() const;

  // Stops accepting, closes every connection and waits for the worker threads.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace strata::integrations::http
