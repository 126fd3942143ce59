#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::integrations::http {

// An absolute http(s) URL in the one normal form the allow-list compares and the client
// connects to, so the check and the request can never read the URL differently.
struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal keeps its brackets
  std::uint16_t port = 0;
  std::string path;    // starts with '/'
  std::string query;   // without the '?', may be empty

  std::string target() const { return query.empty() ? path : path + "?" + query; }
  std::string text() const;  // scheme://host:port/path?query
};

struct UrlParseResult {
  std::optional<ParsedUrl> url;
  std::string error;  // why the text was refused, when url is empty
};

// Refuses what could make two parsers disagree: user info ('@'), schemes other than http
// and https, fragments, '.' and '..' path segments (also percent-encoded), ';' in the
// path (path parameters, as in "/api/..;/admin"; also encoded), encoded '/', '\' and NUL,
// bad percent escapes, spaces, control and non-ASCII bytes, and a missing or
// out-of-range port number. A ';' in the query is data and stays.
UrlParseResult parseUrl(std::string_view text);

// URL prefixes a caller may reach: same scheme, host and port, and a path that starts
// with the prefix's path (a prefix path without a trailing '/' matches itself and what is
// below it, never "/apix" for "/api").
class UrlAllowList {
 public:
  static constexpr std::size_t kMaxUrlLength = 8192;

  // A comma- or space-separated list. Throws ConfigError for a malformed prefix,
  // one with a query, or an empty list.
  static UrlAllowList parse(std::string_view list);

  bool allows(const ParsedUrl& url) const;
  const std::vector<ParsedUrl>& prefixes() const { return prefixes_; }

 private:
  std::vector<ParsedUrl> prefixes_;
};

}  // namespace strata::integrations::http
