// The `http` plug-in: the inbound gateway when strata.plugin.http.listen is set, the
// http.request service when strata.plugin.http.allow is set (docs: docs/integrations.md).
#include <memory>

#include <strata/core/message_id.h>
#include <strata/plugin.h>

#include <strata/integrations/http/error_status.h>
#include <strata/integrations/http/gateway.h>
#include <strata/integrations/http/http_requester.h>
#include <strata/integrations/http/outside_call.h>

namespace {

namespace http = strata::integrations::http;
namespace plugin = strata::plugin;

constexpr const char* kRequestService = "http.request";

class HttpPlugin : public plugin::Plugin {
 public:
  explicit HttpPlugin(plugin::Host& host) : host_(host) {
    http::ConfigLookup config = [&host](const std::string& key) { return host.config(key); };
    if (!config("listen") && !config("allow")) {
      throw std::invalid_argument("set strata.plugin.http.listen (the gateway), strata.plugin.http.allow "
                                  "(the http.request service) or both");
    }
    if (config("allow")) {
      requester_ = std::make_unique<http::HttpRequester>(http::parseRequesterOptions(config));
      host.addService(kRequestService, [this](const plugin::Request& request, plugin::Reply& reply) {
        auto answer = requester_->handle(request.body(), request.timeLeft());
        if (!answer.ok()) {
          reply.error(static_cast<strata_error>(*answer.error), answer.errorText);
          return;
        }
        for (const auto& [key, value] : answer.headers) reply.header(key, value);
        reply.frame(answer.body);
      });
      host.info("http.request serves " + std::to_string(requester_->prefixCount()) + " allowed URL prefixes");
    }
    if (config("listen")) {
      gateway_ = std::make_unique<http::Gateway>(
          http::parseGatewayOptions(config), [this](const http::BusRequest& request) { return call(request); },
          [&host](const std::string& text) { host.info(text); },
          busStreams());
    }
  }

  ~HttpPlugin() override {
    if (gateway_) gateway_->stop();
  }

 private:
  // Every gateway call is made for an outside client: through the brokers, never to a
  // process-only service (outside_call.h).
  http::BusReply call(const http::BusRequest& request) const {
    return busReplyOf(host_.call(request.service, std::string_view(request.body), http::outsideCallOptions(request)));
  }

  // A watch for an event stream: answered in parts, without a thread waiting.
  bool stream(const http::BusRequest& request, http::BusAnswer onPartial, http::BusAnswer onFinal) const {
    auto rc = host_.callStream(
        request.service, request.body, http::outsideCallOptions(request),
        [onPartial = std::move(onPartial)](plugin::Response&& r) { onPartial(busReplyOf(std::move(r))); },
        [onFinal = std::move(onFinal)](plugin::Response&& r) { onFinal(busReplyOf(std::move(r))); });
    return rc == STRATA_OK;
  }

  http::BusStreams busStreams() {
    http::BusStreams streams;
    streams.watch = [this](const http::BusRequest& request, http::BusAnswer onPartial, http::BusAnswer onFinal) {
      return stream(request, std::move(onPartial), std::move(onFinal));
    };
    if (!host_.hasEvents()) return streams;
    streams.subscribe = [this](const std::string& pattern, http::BusEventHandler handler) {
      http::BusSubscription out;
      try {
        out.number = host_.subscribe(pattern, [handler = std::move(handler)](const plugin::EventView& e) {
          handler(busEventOf(e));
        });
      } catch (const std::invalid_argument&) {
        out.refusal = http::BusReply::failure(strata::codecs::ErrorCode::kForbidden,
                                              "the brokers refused the subscription to '" + pattern + "'");
      }
      return out;
    };
    streams.unsubscribe = [this](std::uint64_t number) { host_.unsubscribe(number); };
    return streams;
  }

  static http::BusEvent busEventOf(const plugin::EventView& e) {
    http::BusEvent out;
    auto id = strata::core::MessageId::fromBytes(
        std::string_view(reinterpret_cast<const char*>(e.id()), strata::core::MessageId::kSize));
    out.id = id ? id->hex() : std::string();
    out.subject = e.subject();
    out.publisherName = e.publisherName();
    out.publisherLayer = e.publisherLayer();
    out.body = e.body();
    for (const auto& h : e.headers()) {
      out.headers.emplace_back(std::string(h.key.data, h.key.size), std::string(h.value.data, h.value.size));
    }
    return out;
  }

  static http::BusReply busReplyOf(plugin::Response&& response) {
    http::BusReply reply;
    if (!response.ok()) {
      reply.error = http::errorCodeFromNumber(static_cast<std::uint16_t>(response.error));
      reply.errorText = response.errorText;
      return reply;
    }
    reply.headers = std::move(response.headers);
    reply.body = response.body();
    return reply;
  }

  plugin::Host& host_;
  std::unique_ptr<http::HttpRequester> requester_;
  std::unique_ptr<http::Gateway> gateway_;
};

}  // namespace

STRATA_PLUGIN(HttpPlugin, "http", "1.0.0", "HTTP(S) gateway into the bus and the http.request service", "listen",
              "tokens", "anonymous_layer", "policy", "service_layer.*", "tls_cert", "tls_key", "xmlrpc", "max_body",
              "timeout_ms", "max_timeout_ms", "request_timeout_ms", "keepalive_timeout_ms", "max_keepalive_requests",
              "max_threads", "max_queued", "max_connections", "max_header_bytes", "allow", "client_timeout_ms",
              "client_max_body", "client_ca", "max_streams", "stream_queue_bytes", "stream_keepalive_ms",
              "watch_service", "session_ttl_ms", "max_sessions", "ui_dir", "subscribe.*", "policy.*")
