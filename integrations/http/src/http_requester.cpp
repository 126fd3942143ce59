#include <strata/integrations/common/peer_verification.h>
#include <strata/integrations/http/http_requester.h>

#include <algorithm>
#include <mutex>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/String.h>

#include <strata/codecs/payload.h>
#include <strata/codecs/text.h>
#include <strata/core/errors.h>
#include <strata/integrations/http/header_text.h>


namespace strata::integrations::http {

namespace {

using codecs::ErrorCode;

constexpr std::size_t kMaxJsonDepth = 8;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kRequestOverhead = 64 * 1024;  // the JSON around "body"
constexpr long long kMaxMillis = 3'600'000;
constexpr long long kMaxBodyLimit = 256LL * 1024 * 1024;
constexpr std::chrono::milliseconds kAnswerMargin{500};  // the most kept back to answer in
constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
// Headers the client itself sets from the URL and the body; a caller's would let the
// request differ from what the allow-list checked (Host) or break the framing.
constexpr std::string_view kReservedHeaders[] = {"host",    "content-length", "transfer-encoding", "connection",
                                                 "upgrade", "te",             "trailer",           "expect",
                                                 "proxy-connection", "keep-alive"};


BusReply refuse(ErrorCode code, std::string text) { return BusReply::failure(code, std::move(text)); }

Poco::Net::Context::Ptr clientContext(const std::string& caFile) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", caFile, Poco::Net::Context::VERIFY_RELAXED,
                             9, caFile.empty());
  context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                            Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
  integrations::verifyWithoutAsking(*context);  // a bad certificate fails the request; stdin is never read
  return context;
}

}  // namespace

RequesterOptions parseRequesterOptions(const ConfigLookup& config) {
  RequesterOptions options;
  auto allow = config("allow");
  if (!allow) throw ConfigError("strata.plugin.http.allow is not set");
  options.allow = UrlAllowList::parse(*allow);
  options.timeout = std::chrono::milliseconds(
      configInt(config, "client_timeout_ms", RequesterOptions::kDefaultTimeout.count(), 1, kMaxMillis));
  options.maxResponseBody = static_cast<std::size_t>(
      configInt(config, "client_max_body", RequesterOptions::kDefaultMaxResponseBody, 1, kMaxBodyLimit));
  options.caFile = config("client_ca").value_or("");
  return options;
}

HttpRequester::HttpRequester(RequesterOptions options) : options_(std::move(options)) {}

BusReply HttpRequester::handle(std::string_view body, std::chrono::milliseconds timeLeft) const {
  if (body.size() > options_.maxRequestBody + kRequestOverhead) {
    return refuse(ErrorCode::kTooLarge, "the request is larger than " + std::to_string(options_.maxRequestBody) + " bytes");
  }
  Poco::JSON::Object::Ptr spec;
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(kMaxJsonDepth);
    spec = parser.parse(std::string(body)).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return refuse(ErrorCode::kMalformed, "the request must be a JSON object {\"method\", \"url\", \"headers\", \"body\"}");
  }
  if (!spec) return refuse(ErrorCode::kMalformed, "the request must be a JSON object");
  for (const auto& name : spec->getNames()) {
    if (name != "method" && name != "url" && name != "headers" && name != "body") {
      return refuse(ErrorCode::kMalformed, "unknown field '" + name + "'");
    }
  }
  auto stringField = [&](const std::string& key, const std::string& fallback) -> std::optional<std::string> {
    if (!spec->has(key)) return fallback;
    auto value = spec->get(key);
    if (!value.isString()) return std::nullopt;
    return value.extract<std::string>();
  };
  auto method = stringField("method", "GET");
  auto urlText = stringField("url", "");
  auto requestBody = stringField("body", "");
  if (!method || !urlText || !requestBody) return refuse(ErrorCode::kMalformed, "method, url and body must be strings");
  if (std::find(std::begin(kMethods), std::end(kMethods), *method) == std::end(kMethods)) {
    return refuse(ErrorCode::kMalformed, "method must be one of GET HEAD POST PUT PATCH DELETE OPTIONS");
  }
  if (requestBody->size() > options_.maxRequestBody) return refuse(ErrorCode::kTooLarge, "the body is too large");
  auto parsed = parseUrl(*urlText);
  if (!parsed.url) return refuse(ErrorCode::kMalformed, "url: " + parsed.error);
  const auto& url = *parsed.url;
  if (!options_.allow.allows(url)) return refuse(ErrorCode::kForbidden, "url " + url.text() + " is not on the allow-list");

  Poco::Net::HTTPRequest request(*method, url.target(), Poco::Net::HTTPMessage::HTTP_1_1);
  request.setHost(url.host, url.port);
  if (spec->has("headers")) {
    auto headers = spec->getObject("headers");
    if (!headers) return refuse(ErrorCode::kMalformed, "headers must be an object of strings");
    for (const auto& name : headers->getNames()) {
      auto value = headers->get(name);
      if (!value.isString()) return refuse(ErrorCode::kMalformed, "header '" + name + "' must be a string");
      auto text = value.extract<std::string>();
      if (!isHeaderName(name) || !isHeaderValue(text)) {
        return refuse(ErrorCode::kMalformed, "header names and values may not hold CR, LF or other control bytes");
      }
      auto lowered = Poco::toLower(name);
      if (std::find(std::begin(kReservedHeaders), std::end(kReservedHeaders), lowered) != std::end(kReservedHeaders)) {
        return refuse(ErrorCode::kMalformed, "header '" + name + "' is set by the client itself");
      }
      request.add(name, text);
    }
  }
  if (!requestBody->empty() || *method == "POST" || *method == "PUT" || *method == "PATCH") {
    request.setContentLength64(static_cast<Poco::Int64>(requestBody->size()));
  }

  // Time to answer the caller in: a tenth of what it has left, at most kAnswerMargin.
  auto limit = options_.timeout;
  if (timeLeft.count() > 0) {
    auto margin = std::min(kAnswerMargin, timeLeft / 10);
    if (timeLeft - margin < std::chrono::milliseconds(1)) {
      return refuse(ErrorCode::kTimeout, "no time left for a request to " + url.text());
    }
    limit = std::min(limit, timeLeft - margin);
  }
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + limit;
  Poco::Timespan timeout(limit.count() * 1000);
  try {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (url.scheme == "https") {
      session = std::make_unique<Poco::Net::HTTPSClientSession>(url.host, url.port, clientContext(options_.caFile));
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(url.host, url.port);
    }
    session->setTimeout(timeout, timeout, timeout);
    session->setKeepAlive(false);
    auto& out = session->sendRequest(request);
    out.write(requestBody->data(), static_cast<std::streamsize>(requestBody->size()));
    Poco::Net::HTTPResponse response;
    auto& in = session->receiveResponse(response);
    if (response.hasContentLength() &&
        response.getContentLength64() > static_cast<Poco::Int64>(options_.maxResponseBody)) {
      return refuse(ErrorCode::kTooLarge, "the response body is larger than " +
                                              std::to_string(options_.maxResponseBody) + " bytes");
    }
    std::string received;
    std::string chunk(kReadChunk, '\0');
    while (*method != "HEAD" && in.peek() != std::char_traits<char>::eof()) {
      auto n = in.readsome(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      received.append(chunk.data(), static_cast<std::size_t>(n));
      if (received.size() > options_.maxResponseBody) {
        return refuse(ErrorCode::kTooLarge, "the response body is larger than " +
                                                std::to_string(options_.maxResponseBody) + " bytes");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return refuse(ErrorCode::kTimeout, "the response took longer than " + std::to_string(limit.count()) + " ms");
      }
    }
    if (in.bad()) return refuse(ErrorCode::kUnavailable, "the response was cut off");

    Poco::JSON::Object result;
    result.set("status", static_cast<int>(response.getStatus()));
    result.set("reason", response.getReason());
    Poco::JSON::Object::Ptr headers = new Poco::JSON::Object;
    for (const auto& [key, value] : response) {
      auto name = Poco::toLower(key);
      headers->set(name, headers->has(name) ? headers->getValue<std::string>(name) + ", " + value : value);
    }
    result.set("headers", headers);
    if (codecs::isUtf8(received)) {
      result.set("body", received);
    } else {
      result.set("body_base64", codecs::toBase64(received));
    }
    std::ostringstream text;
    result.stringify(text);
    BusReply reply;
    reply.headers.emplace_back(codecs::kContentTypeHeader, codecs::kJsonType);
    reply.body = text.str();
    return reply;
  } catch (const Poco::TimeoutException&) {
    return refuse(ErrorCode::kTimeout, "no answer from " + url.text() + " within " + std::to_string(limit.count()) + " ms");
  } catch (const Poco::Net::SSLException& e) {
    return refuse(ErrorCode::kUnavailable, "TLS with " + url.text() + " failed: " + e.displayText());
  } catch (const Poco::Exception& e) {
    return refuse(ErrorCode::kUnavailable, "request to " + url.text() + " failed: " + e.displayText());
  }
}

}  // namespace strata::integrations::http
