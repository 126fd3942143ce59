#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <strata/integrations/http/bus_call.h>
#include <strata/integrations/http/url_allow_list.h>

namespace strata::integrations::http {

struct RequesterOptions {
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  static constexpr std::size_t kDefaultMaxResponseBody = 1024 * 1024;
  static constexpr std::size_t kDefaultMaxRequestBody = 1024 * 1024;

  UrlAllowList allow;                                    // allow
  std::chrono::milliseconds timeout = kDefaultTimeout;   // client_timeout_ms: connect to last byte
  std::size_t maxResponseBody = kDefaultMaxResponseBody; // client_max_body
  std::size_t maxRequestBody = kDefaultMaxRequestBody;   // the "body" field of a request
  std::string caFile;                                    // client_ca: PEM CAs for https (default: the system's)
};

// Reads the http.request keys (allow, client_timeout_ms, client_max_body, client_ca).
// Throws ConfigError.
RequesterOptions parseRequesterOptions(const ConfigLookup& config);

// The http.request service: makes one HTTP(S) request to a URL on the allow-list.
//   request body  {"method": "GET", "url": "...", "headers": {"k": "v"}, "body": "..."}
//   reply body    {"status": 200, "reason": "OK", "headers": {"k": "v"}, "body": "..."}
// (application/json; "body_base64" instead of "body" when the body is not UTF-8).
// Errors: malformed (bad JSON, method, URL or header), forbidden (URL off the list; no
// connection is made), timeout, too_large (the response body passes client_max_body;
// reading stops there), unavailable (connection refused, TLS failure). Redirects are
// returned as they are, never followed. Thread-safe.
class HttpRequester {
 public:
  explicit HttpRequester(RequesterOptions options);

  // timeLeft: what is left of the caller's deadline (0: none known). The request to the
  // upstream gets at most client_timeout_ms, and gives up early enough that the timeout
  // answer reaches the caller before its deadline.
  BusReply handle(std::string_view body, std::chrono::milliseconds timeLeft = {}) const;
  std::size_t prefixCount() const { return options_.allow.prefixes().size(); }

 private:
  RequesterOptions options_;
};

}  // namespace strata::integrations::http
