#include <strata/integrations/common/whole_number.h>
#include <strata/integrations/http/gateway_options.h>


#include <algorithm>
#include <filesystem>

#include <strata/core/errors.h>
#include <strata/core/private_file.h>
#include <strata/core/service_name.h>

namespace strata::integrations::http {

namespace {

constexpr long long kMaxMillis = 3'600'000;
constexpr long long kMaxThreadsLimit = 1024;
constexpr long long kMaxQueuedLimit = 65536;
constexpr long long kMaxConnectionsLimit = 65536;
constexpr long long kMaxHeaderLimit = 1024 * 1024;
constexpr long long kMinHeaderBytes = 1024;


bool boolKey(const ConfigLookup& config, const std::string& key, bool fallback) {
  auto text = config(key);
  if (!text) return fallback;
  std::string value(*text);
  std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  throw ConfigError("strata.plugin.http." + key + " must be true or false, not '" + *text + "'");
}

std::optional<core::Layer> parseLayer(std::string_view text) {
  if (text.size() != 1 || text[0] < '0' + core::kMinLayer || text[0] > '0' + core::kMaxLayer) return std::nullopt;
  return text[0] - '0';
}

}  // namespace

GatewayOptions parseGatewayOptions(const ConfigLookup& config) {
  GatewayOptions options;
  auto listen = config("listen");
  if (!listen || listen->empty()) throw ConfigError("strata.plugin.http.listen is not set");
  options.listen = *listen;

  if (auto tokens = config("tokens"); tokens && !tokens->empty()) options.tokens = TokenTable::load(*tokens);
  if (auto anonymous = config("anonymous_layer")) {
    options.anonymousLayer = parseLayer(*anonymous);
    if (!options.anonymousLayer) throw ConfigError("strata.plugin.http.anonymous_layer must be a layer 0 to 4");
  }
  if (!options.tokens && !options.anonymousLayer) {
    throw ConfigError("the http gateway needs strata.plugin.http.tokens (a bearer token file) or "
                      "strata.plugin.http.anonymous_layer (the layer of callers without a token)");
  }
  if (auto policy = config("policy")) options.policy.setDefaultRules(*policy);
  // subscribe.<layer>: the subject patterns HTTP callers of that layer may watch on
  // /v1/events, as strata.policy.subscribe.<layer> on a broker.
  for (int layer = core::kMinLayer; layer <= core::kMaxLayer; ++layer) {
    if (auto patterns = config("subscribe." + std::to_string(layer))) options.policy.setSubscribeRights(layer, *patterns);
  }
  options.serviceLayer = [config](const std::string& service) -> std::optional<core::Layer> {
    auto text = config("service_layer." + service);
    if (!text) return GatewayOptions::kDefaultServiceLayer;
    return parseLayer(*text);
  };

  options.serviceCallers = [config](const std::string& service) { return config("policy." + service); };
  options.tlsCert = config("tls_cert").value_or("");
  options.tlsKey = config("tls_key").value_or("");
  if (options.tlsCert.empty() != options.tlsKey.empty()) {
    throw ConfigError("strata.plugin.http.tls_cert and tls_key must be set together");
  }
  if (!options.tlsKey.empty()) core::requirePrivateFile(options.tlsKey, "TLS key file");
  options.xmlrpc = boolKey(config, "xmlrpc", false);

  options.maxBody = static_cast<std::size_t>(configInt(config, "max_body", GatewayOptions::kDefaultMaxBody, 1,
                                                    GatewayOptions::kMaxMaxBody));
  options.callTimeout = std::chrono::milliseconds(
      configInt(config, "timeout_ms", GatewayOptions::kDefaultCallTimeout.count(), 1, kMaxMillis));
  options.maxCallTimeout = std::chrono::milliseconds(
      configInt(config, "max_timeout_ms", GatewayOptions::kDefaultMaxCallTimeout.count(), 1, kMaxMillis));
  options.callTimeout = std::min(options.callTimeout, options.maxCallTimeout);
  options.requestTimeout = std::chrono::milliseconds(
      configInt(config, "request_timeout_ms", GatewayOptions::kDefaultRequestTimeout.count(), 1, kMaxMillis));
  options.keepAliveTimeout = std::chrono::milliseconds(
      configInt(config, "keepalive_timeout_ms", GatewayOptions::kDefaultKeepAliveTimeout.count(), 1, kMaxMillis));
  options.maxKeepAliveRequests = static_cast<int>(
      configInt(config, "max_keepalive_requests", GatewayOptions::kDefaultMaxKeepAliveRequests, 0, kMaxQueuedLimit));
  options.maxThreads =
      static_cast<int>(configInt(config, "max_threads", GatewayOptions::kDefaultMaxThreads, 1, kMaxThreadsLimit));
  options.maxQueued = static_cast<int>(configInt(config, "max_queued", GatewayOptions::kDefaultMaxQueued, 1, kMaxQueuedLimit));
  options.maxConnections = static_cast<std::size_t>(
      configInt(config, "max_connections", GatewayOptions::kDefaultMaxConnections, 1, kMaxConnectionsLimit));
  options.maxHeaderBytes = static_cast<std::size_t>(
      configInt(config, "max_header_bytes", GatewayOptions::kDefaultMaxHeaderBytes, kMinHeaderBytes, kMaxHeaderLimit));
  options.maxStreams = static_cast<std::size_t>(
      configInt(config, "max_streams", GatewayOptions::kDefaultMaxStreams, 1, kMaxConnectionsLimit));
  options.streamQueueBytes = static_cast<std::size_t>(configInt(
      config, "stream_queue_bytes", GatewayOptions::kDefaultStreamQueueBytes, 4096, GatewayOptions::kMaxMaxBody));
  options.streamKeepAlive = std::chrono::milliseconds(
      configInt(config, "stream_keepalive_ms", GatewayOptions::kDefaultStreamKeepAlive.count(), 100, kMaxMillis));
  if (auto service = config("watch_service")) {
    if (!core::isServiceName(*service)) throw ConfigError("strata.plugin.http.watch_service is not a service name");
    options.watchService = *service;
  }
  options.sessionTtl = std::chrono::milliseconds(
      configInt(config, "session_ttl_ms", GatewayOptions::kDefaultSessionTtl.count(), 1000, 24 * kMaxMillis));
  options.maxSessions = static_cast<std::size_t>(
      configInt(config, "max_sessions", GatewayOptions::kDefaultMaxSessions, 1, 1'000'000));
  options.uiDir = config("ui_dir").value_or("");
  if (!options.uiDir.empty() && !std::filesystem::is_directory(options.uiDir)) {
    throw ConfigError("strata.plugin.http.ui_dir " + options.uiDir + " is not a directory");
  }
  return options;
}

long long configInt(const ConfigLookup& config, const std::string& key, long long fallback, long long min,
                    long long max) {
  return wholeNumberSetting(config(key), "strata.plugin.http." + key, fallback, min, max);
}

}  // namespace strata::integrations::http
