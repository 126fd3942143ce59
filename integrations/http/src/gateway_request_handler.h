#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <strata/integrations/http/bus_call.h>
#include <strata/integrations/http/gateway_options.h>
#include <strata/integrations/http/token_table.h>

#include "connection_watch.h"
#include "event_fanout.h"
#include "session_table.h"
#include "stream_hub.h"

namespace strata::integrations::http {

// What every request handler shares; owned by the Gateway, outlives all handlers.
struct GatewayContext {
  GatewayOptions options;
  BusCall call;
  LogFunction log;
  ConnectionWatch* watch = nullptr;
  BusStreamCall stream;  // null: no watch streams
  StreamHub* hub = nullptr;
  SessionTable* sessions = nullptr;
  EventFanout* events = nullptr;  // null: no event streams
};

// One HTTP request: routing, framing checks, authentication, the layer policy, then the
// bus call and its answer (docs: docs/integrations.md).
class GatewayRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  static constexpr std::string_view kServicesPath = "/v1/services/";
  static constexpr std::string_view kXmlRpcPath = "/RPC2";
  static constexpr std::string_view kTimeoutHeader = "X-Strata-Timeout-Ms";
  static constexpr std::string_view kWatchPath = "/v1/watch/";
  static constexpr std::string_view kSessionPath = "/v1/session";
  static constexpr std::string_view kEventsPath = "/v1/events";
  static constexpr std::string_view kUiPath = "/ui/";

  explicit GatewayRequestHandler(const GatewayContext& context) : context_(context) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

  // True when the request opened an event stream: nothing was sent, and the connection
  // goes to startStream() instead of serving another request.
  bool streaming() const { return stream_.has_value(); }
  // Hands the connection (its request read, nothing sent) to the stream hub, which
  // answers it from then on. False when the hub is full or stopped: close it then.
  bool startStream(const Poco::Net::StreamSocket& socket, bool tls);

 private:
  struct Answer {
    int status = 200;
    std::string contentType;
    std::string body;
    bool close = false;  // the request body was not read: the connection cannot go on
    std::vector<std::pair<std::string, std::string>> headers;
  };
  static Answer error(int status, std::string_view code, std::string_view message, bool close = false);

  // What a stream route leaves for startStream: the response head and what to run once
  // the hub has the connection.
  struct StreamStart {
    std::string head;
    std::function<void(std::shared_ptr<Stream>)> begin;
    std::function<void()> onClose;  // on the hub's thread, when the stream ends
  };

  Answer route(Poco::Net::HTTPServerRequest& request);
  // Checks framing and headers and authenticates; sets principal or returns the refusal.
  std::optional<Answer> admit(Poco::Net::HTTPServerRequest& request, Principal& principal) const;
  // No header may hold a forbidden byte, and exactly one way to find the body's end.
  std::optional<Answer> checkFraming(Poco::Net::HTTPServerRequest& request, bool bodyAllowed) const;
  // The bearer token, else (with sessionAllowed) the session cookie, else anonymous_layer.
  std::optional<Answer> authenticate(Poco::Net::HTTPServerRequest& request, Principal& principal,
                                     bool sessionAllowed) const;
  Answer openSession(Poco::Net::HTTPServerRequest& request);
  Answer closeSession(Poco::Net::HTTPServerRequest& request);
  Answer watch(Poco::Net::HTTPServerRequest& request, std::string_view target);
  Answer events(Poco::Net::HTTPServerRequest& request);
  // The response head every event stream starts with.
  static std::string streamHead();
  Answer serveFile(Poco::Net::HTTPServerRequest& request, std::string_view name);
  // Whether principal may call service by the gateway's policy: nullopt, or the refusal.
  std::optional<BusReply> refusalFor(const Principal& principal, const std::string& service) const;
  // Reads the body within max_body and request_timeout_ms, or returns the refusal.
  std::optional<Answer> readBody(Poco::Net::HTTPServerRequest& request, std::string& body) const;
  Answer callService(Poco::Net::HTTPServerRequest& request, const std::string& service);
  Answer callXmlRpc(Poco::Net::HTTPServerRequest& request);
  // The call's timeout from X-Strata-Timeout-Ms (capped), or the refusal.
  std::optional<Answer> readTimeout(Poco::Net::HTTPServerRequest& request, std::chrono::milliseconds& timeout) const;
  // The bus call with the principal stamped on if the layer policy allows it; forbidden
  // (or internal, for a misconfigured service layer) otherwise.
  BusReply callAs(const Principal& principal, BusRequest request) const;

  const GatewayContext& context_;
  std::optional<StreamStart> stream_;
};

class GatewayHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit GatewayHandlerFactory(const GatewayContext& context) : context_(context) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new GatewayRequestHandler(context_);
  }

 private:
  const GatewayContext& context_;
};

}  // namespace strata::integrations::http
