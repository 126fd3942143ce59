#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include <strata/core/authorized_keys.h>
#include <strata/core/layer_policy.h>
#include <strata/integrations/http/bus_call.h>
#include <strata/integrations/http/token_table.h>

namespace strata::integrations::http {

// Everything the inbound gateway is told, with the defaults of its configuration keys
// (docs: docs/integrations.md). Keys are the part after "strata.plugin.http.".
struct GatewayOptions {
  static constexpr std::size_t kDefaultMaxBody = 1024 * 1024;
  static constexpr std::size_t kMaxMaxBody = 64 * 1024 * 1024;
  static constexpr std::chrono::milliseconds kDefaultCallTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultMaxCallTimeout{60'000};
  static constexpr std::chrono::milliseconds kDefaultRequestTimeout{10'000};
  static constexpr std::chrono::milliseconds kDefaultKeepAliveTimeout{5'000};
  static constexpr int kDefaultMaxKeepAliveRequests = 1000;
  static constexpr int kDefaultMaxThreads = 16;
  static constexpr int kDefaultMaxQueued = 64;
  static constexpr std::size_t kDefaultMaxConnections = 1024;
  static constexpr std::size_t kDefaultMaxHeaderBytes = 16 * 1024;
  static constexpr core::Layer kDefaultServiceLayer = 2;
  static constexpr std::size_t kDefaultMaxStreams = 4096;
  static constexpr std::size_t kDefaultStreamQueueBytes = 1024 * 1024;
  static constexpr std::chrono::milliseconds kDefaultStreamKeepAlive{15'000};
  static constexpr std::chrono::milliseconds kDefaultSessionTtl{3'600'000};
  static constexpr std::size_t kDefaultMaxSessions = 10'000;

  std::string listen;                 // listen: host:port, port 0 for any free port
  std::optional<TokenTable> tokens;   // tokens: the bearer token file
  std::optional<core::Layer> anonymousLayer;  // anonymous_layer: requests without a token
  core::LayerPolicy policy;           // policy: rules as strata.policy.default
  // service_layer.<service>: the layer of the service called (default 2). Returns
  // nullopt for a value that is not a layer.
  std::function<std::optional<core::Layer>(const std::string& service)> serviceLayer =
      [](const std::string&) { return std::optional<core::Layer>(kDefaultServiceLayer); };
  // policy.<service>: the caller layers that service accepts instead of policy's rules
  // ("4,2"), as strata.policy.<service> on a broker; nullopt when unset.
  std::function<std::optional<std::string>(const std::string& service)> serviceCallers =
      [](const std::string&) { return std::optional<std::string>(); };
  std::string tlsCert;                // tls_cert and tls_key: HTTPS when both are set
  std::string tlsKey;
  bool xmlrpc = false;                // xmlrpc: serve /RPC2

  std::size_t maxBody = kDefaultMaxBody;                               // max_body
  std::chrono::milliseconds callTimeout = kDefaultCallTimeout;         // timeout_ms
  std::chrono::milliseconds maxCallTimeout = kDefaultMaxCallTimeout;   // max_timeout_ms
  // request_timeout_ms: the whole time a client may take to send one request's header
  // and body; a connection idle longer than keepalive_timeout_ms + this is closed.
  std::chrono::milliseconds requestTimeout = kDefaultRequestTimeout;
  std::chrono::milliseconds keepAliveTimeout = kDefaultKeepAliveTimeout;  // keepalive_timeout_ms
  int maxKeepAliveRequests = kDefaultMaxKeepAliveRequests;            // max_keepalive_requests
  int maxThreads = kDefaultMaxThreads;                                // max_threads
  int maxQueued = kDefaultMaxQueued;                                  // max_queued
  std::size_t maxConnections = kDefaultMaxConnections;                // max_connections
  std::size_t maxHeaderBytes = kDefaultMaxHeaderBytes;                // max_header_bytes

  // Event streams (GET /v1/watch/...): at most max_streams open, each dropped when its
  // client lets more than stream_queue_bytes wait; a comment every stream_keepalive_ms.
  std::size_t maxStreams = kDefaultMaxStreams;                         // max_streams
  std::size_t streamQueueBytes = kDefaultStreamQueueBytes;             // stream_queue_bytes
  std::chrono::milliseconds streamKeepAlive = kDefaultStreamKeepAlive;  // stream_keepalive_ms
  std::string watchService = "store.watch";                            // watch_service
  // Browser sessions (POST /v1/session): how long one lasts, and how many are kept.
  std::chrono::milliseconds sessionTtl = kDefaultSessionTtl;           // session_ttl_ms
  std::size_t maxSessions = kDefaultMaxSessions;                       // max_sessions
  // ui_dir: a directory whose files GET /ui/<name> serves (a page such as the live
  // example); unset, /ui is not served.
  std::string uiDir;

  bool tls() const { return !tlsCert.empty(); }
};

// Reads the gateway's keys. Throws ConfigError for a malformed value, a missing
// listen key, tls_cert without tls_key (or the reverse), and neither tokens nor
// anonymous_layer set; KeyError for a token file or TLS key that group or others
// may read.
GatewayOptions parseGatewayOptions(const ConfigLookup& config);

}  // namespace strata::integrations::http
