#include <strata/integrations/http/url_allow_list.h>

#include <algorithm>
#include <cctype>

#include <strata/core/errors.h>

namespace strata::integrations::http {

namespace {

constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;
constexpr unsigned kMaxPort = 65535;
constexpr std::string_view kSchemeEnd = "://";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool isHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// Decodes the %XX escapes of text into out; false for a bad escape.
bool percentDecode(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    if (!isHex(text[i + 1]) || !isHex(text[i + 2])) return false;
    out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
    i += 2;
  }
  return true;
}

UrlParseResult refuse(std::string text) { return {std::nullopt, std::move(text)}; }

// A host name (letters, digits, '-', '.') or an IPv4 address; bracketed IPv6 is apart.
bool isHostName(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
  });
}

bool isIpv6Literal(std::string_view host) {
  if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
  auto inner = host.substr(1, host.size() - 2);
  return std::all_of(inner.begin(), inner.end(), [](char c) { return isHex(c) || c == ':' || c == '.'; });
}

}  // namespace

std::string ParsedUrl::text() const { return scheme + "://" + host + ":" + std::to_string(port) + target(); }

UrlParseResult parseUrl(std::string_view text) {
  if (text.size() > UrlAllowList::kMaxUrlLength) return refuse("the URL is longer than " + std::to_string(UrlAllowList::kMaxUrlLength) + " bytes");
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return refuse("the URL holds a space, a control or a non-ASCII byte");
    if (c == '\\') return refuse("the URL holds a backslash");
  }
  if (text.find('#') != std::string_view::npos) return refuse("the URL has a fragment ('#')");
  auto schemeEnd = text.find(kSchemeEnd);
  if (schemeEnd == std::string_view::npos) return refuse("not an absolute http:// or https:// URL");
  ParsedUrl url;
  url.scheme = lower(text.substr(0, schemeEnd));
  if (url.scheme != "http" && url.scheme != "https") return refuse("scheme '" + url.scheme + "' is not http or https");
  auto rest = text.substr(schemeEnd + kSchemeEnd.size());
  auto authorityEnd = rest.find_first_of("/?");
  auto authority = rest.substr(0, authorityEnd);
  rest = authorityEnd == std::string_view::npos ? std::string_view{} : rest.substr(authorityEnd);
  if (authority.find('@') != std::string_view::npos) return refuse("user info ('@') is not allowed in a URL");
  if (authority.find('%') != std::string_view::npos) return refuse("percent escapes are not allowed in the host");

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return refuse("unterminated IPv6 address");
    host = authority.substr(0, close + 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return refuse("junk after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return refuse("empty port");
    }
    if (!isIpv6Literal(host)) return refuse("malformed IPv6 address");
  } else {
    if (auto colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return refuse("empty port");
    }
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (!isHostName(host)) return refuse("malformed or missing host");
  }
  url.host = lower(host);
  if (port.empty()) {
    url.port = url.scheme == "https" ? kHttpsPort : kHttpPort;
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return refuse("malformed port");
    }
    unsigned value = static_cast<unsigned>(std::stoul(std::string(port)));
    if (value == 0 || value > kMaxPort) return refuse("port out of range");
    url.port = static_cast<std::uint16_t>(value);
  }

  auto queryStart = rest.find('?');
  std::string_view path = rest.substr(0, queryStart);
  if (queryStart != std::string_view::npos) url.query = std::string(rest.substr(queryStart + 1));
  url.path = path.empty() ? "/" : std::string(path);
  std::string decoded;
  for (auto part : {std::string_view(url.path), std::string_view(url.query)}) {
    if (!percentDecode(part, decoded)) return refuse("malformed percent escape");
  }
  // Path parameters: servers such as Tomcat cut ";..." off a segment before resolving
  // it, so "/api/public/..;/admin" passes a prefix compare and reaches /admin.
  if (url.path.find(';') != std::string::npos) return refuse("';' (path parameters) is not allowed in the path");
  // Segments that servers may resolve or split differently than a prefix compare does.
  std::string_view remaining = url.path;
  remaining.remove_prefix(1);
  while (true) {
    auto slash = remaining.find('/');
    percentDecode(remaining.substr(0, slash), decoded);
    if (decoded == "." || decoded == "..") return refuse("'.' and '..' path segments are not allowed");
    if (decoded.find_first_of(std::string_view("/\\\0;", 4)) != std::string::npos) {
      return refuse("encoded '/', '\\', ';' or NUL in the path");
    }
    if (slash == std::string_view::npos) break;
    remaining.remove_prefix(slash + 1);
  }
  return {std::move(url), {}};
}

UrlAllowList UrlAllowList::parse(std::string_view list) {
  UrlAllowList out;
  std::string text(list);
  std::replace(text.begin(), text.end(), ',', ' ');
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    std::size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) ++i;
    if (i == start) continue;
    auto item = std::string_view(text).substr(start, i - start);
    auto parsed = parseUrl(item);
    if (!parsed.url) throw ConfigError("allow-list prefix '" + std::string(item) + "': " + parsed.error);
    if (!parsed.url->query.empty()) throw ConfigError("allow-list prefix '" + std::string(item) + "' has a query");
    out.prefixes_.push_back(std::move(*parsed.url));
  }
  if (out.prefixes_.empty()) throw ConfigError("the allow-list of URL prefixes is empty");
  return out;
}

bool UrlAllowList::allows(const ParsedUrl& url) const {
  return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const ParsedUrl& prefix) {
    if (prefix.scheme != url.scheme || prefix.host != url.host || prefix.port != url.port) return false;
    if (!url.path.starts_with(prefix.path)) return false;
    if (prefix.path.back() == '/' || url.path.size() == prefix.path.size()) return true;
    return url.path[prefix.path.size()] == '/';
  });
}

}  // namespace strata::integrations::http
