#include "gateway_request_handler.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <sstream>

#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <strata/codecs/payload.h>
#include <strata/core/layer_policy.h>
#include <strata/core/service_name.h>
#include <strata/core/subject.h>
#include <strata/integrations/http/error_status.h>
#include <strata/integrations/http/header_text.h>
#include <strata/integrations/http/xmlrpc_bridge.h>

#include "watch_relay.h"

namespace strata::integrations::http {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;

constexpr std::string_view kDefaultReplyType = "application/octet-stream";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kXmlType = "text/xml";
constexpr std::string_view kBearerPrefix = "bearer ";
constexpr std::string_view kAnonymousName = "anonymous";
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kMaxTimeoutDigits = 9;
constexpr std::size_t kMaxLengthDigits = 18;  // fits Poco::Int64
// How long a browser waits before it reconnects a stream that ended (SSE "retry:").
constexpr int kStreamRetryMs = 1000;
constexpr std::size_t kMaxFileName = 128;
constexpr std::uintmax_t kMaxFileBytes = 4 * 1024 * 1024;

// The files /ui serves, by their extension; others are not served.
std::string_view contentTypeOf(std::string_view name) {
  auto dot = name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "json") return "application/json";
  return {};
}

std::size_t countHeader(const HTTPServerRequest& request, const std::string& name) {
  return static_cast<std::size_t>(std::count_if(request.begin(), request.end(), [&](const auto& field) {
    return Poco::icompare(field.first, name) == 0;
  }));
}

// Marks the connection busy for the watchdog while a handler runs.
class BusyScope {
 public:
  BusyScope(ConnectionWatch* watch, std::string peer) : watch_(watch), peer_(std::move(peer)) {
    if (watch_ != nullptr) watch_->beginRequest(peer_);
  }
  ~BusyScope() {
    if (watch_ != nullptr) watch_->endRequest(peer_);
  }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  ConnectionWatch* watch_;
  std::string peer_;
};

}  // namespace

GatewayRequestHandler::Answer GatewayRequestHandler::error(int status, std::string_view code, std::string_view message,
                                                           bool close) {
  Answer answer;
  answer.status = status;
  answer.contentType = kJsonType;
  answer.body = errorBody(code, message);
  answer.close = close;
  return answer;
}

void GatewayRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                          Poco::Net::HTTPServerResponse& response) {
  BusyScope busy(context_.watch, request.clientAddress().toString());
  Answer answer;
  try {
    answer = route(request);
  } catch (const std::exception& e) {
    // The connection broke or timed out while reading: nothing useful can be sent.
    answer = error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "the request could not be read", true);
  }
  if (stream_) return;  // startStream answers, off this thread
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(answer.status));
  // Every value below is ours or was checked with isHeaderValue: Poco writes CR and LF
  // as they are (response splitting).
  response.setContentType(answer.contentType);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Cache-Control", "no-store");
  for (const auto& [key, value] : answer.headers) response.set(key, value);
  if (answer.close) response.setKeepAlive(false);
  response.setContentLength64(static_cast<Poco::Int64>(answer.body.size()));
  try {
    response.sendBuffer(answer.body.data(), answer.body.size());
  } catch (const Poco::Exception&) {
    // The client went away; HTTPServerConnection closes the connection.
  }
}

GatewayRequestHandler::Answer GatewayRequestHandler::route(Poco::Net::HTTPServerRequest& request) {
  std::string_view uri = request.getURI();
  std::string_view path = uri.substr(0, uri.find('?'));
  const auto& method = request.getMethod();
  auto refuseMethod = [](std::string allow) {
    auto answer = error(HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "use " + allow, true);
    answer.headers.emplace_back("Allow", std::move(allow));
    return answer;
  };
  if (path.starts_with(kWatchPath)) {
    if (method != Poco::Net::HTTPRequest::HTTP_GET) return refuseMethod("GET");
    return watch(request, path.substr(kWatchPath.size()));
  }
  if (path == kEventsPath) {
    if (method != Poco::Net::HTTPRequest::HTTP_GET) return refuseMethod("GET");
    return events(request);
  }
  if (path == kSessionPath) {
    if (method == Poco::Net::HTTPRequest::HTTP_POST) return openSession(request);
    if (method == Poco::Net::HTTPRequest::HTTP_DELETE) return closeSession(request);
    return refuseMethod("POST, DELETE");
  }
  if (!context_.options.uiDir.empty() && (path == kUiPath.substr(0, kUiPath.size() - 1) || path.starts_with(kUiPath))) {
    if (method != Poco::Net::HTTPRequest::HTTP_GET && method != Poco::Net::HTTPRequest::HTTP_HEAD) {
      return refuseMethod("GET, HEAD");
    }
    auto name = path.size() > kUiPath.size() ? path.substr(kUiPath.size()) : std::string_view("index.html");
    return serveFile(request, name);
  }
  bool xmlrpc = context_.options.xmlrpc && path == kXmlRpcPath;
  bool service = path.starts_with(kServicesPath);
  if (!xmlrpc && !service) return error(HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such route", true);
  if (method != Poco::Net::HTTPRequest::HTTP_POST) return refuseMethod("POST");
  if (xmlrpc) return callXmlRpc(request);
  auto name = path.substr(kServicesPath.size());
  if (!core::isServiceName(name)) {
    return error(HTTPResponse::HTTP_NOT_FOUND, "not_found", "not a service name", true);
  }
  return callService(request, std::string(name));
}

std::optional<GatewayRequestHandler::Answer> GatewayRequestHandler::admit(Poco::Net::HTTPServerRequest& request,
                                                                         Principal& principal) const {
  if (auto refusal = checkFraming(request, true)) return refusal;
  return authenticate(request, principal, false);
}

std::optional<GatewayRequestHandler::Answer> GatewayRequestHandler::checkFraming(
    Poco::Net::HTTPServerRequest& request, bool bodyAllowed) const {
  // Framing: exactly one way to find the end of the body, or two parsers may disagree
  // (request smuggling).
  for (const auto& [key, value] : request) {
    if (!isHeaderName(key) || !isHeaderValue(value)) {
      return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "a request header holds a forbidden byte", true);
    }
  }
  auto lengths = countHeader(request, HTTPServerRequest::CONTENT_LENGTH);
  auto encodings = countHeader(request, HTTPServerRequest::TRANSFER_ENCODING);
  if (lengths > 1 || encodings > 1 || (lengths == 1 && encodings == 1)) {
    return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "conflicting Content-Length / Transfer-Encoding", true);
  }
  if (lengths == 1) {
    const auto& length = request.get(HTTPServerRequest::CONTENT_LENGTH);
    if (length.empty() || length.size() > kMaxLengthDigits ||
        !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "Content-Length must be a whole number", true);
    }
  }
  if (!bodyAllowed) {
    if (encodings > 0 || (lengths == 1 && request.getContentLength64() != 0)) {
      return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "this request takes no body", true);
    }
    return std::nullopt;
  }
  if (encodings == 1 && !request.getChunkedTransferEncoding()) {
    return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "only chunked transfer encoding is accepted", true);
  }
  if (lengths == 0 && encodings == 0) {
    return error(HTTPResponse::HTTP_LENGTH_REQUIRED, "length_required", "send Content-Length or chunked", true);
  }
  return std::nullopt;
}

std::optional<GatewayRequestHandler::Answer> GatewayRequestHandler::authenticate(
    Poco::Net::HTTPServerRequest& request, Principal& principal, bool sessionAllowed) const {
  if (request.has(HTTPServerRequest::AUTHORIZATION)) {
    if (context_.options.tokens) {
      const auto& credentials = request.get(HTTPServerRequest::AUTHORIZATION);
      if (credentials.size() > kBearerPrefix.size() &&
          Poco::icompare(credentials.substr(0, kBearerPrefix.size()), std::string(kBearerPrefix)) == 0) {
        if (auto found = context_.options.tokens->find(std::string_view(credentials).substr(kBearerPrefix.size()))) {
          principal = *found;
          return std::nullopt;
        }
      }
    }
  } else {
    std::optional<std::string> session;
    if (sessionAllowed && context_.sessions != nullptr) {
      Poco::Net::NameValueCollection cookies;
      request.getCookies(cookies);
      if (cookies.has(std::string(SessionTable::kCookie))) session = cookies.get(std::string(SessionTable::kCookie));
    }
    if (session) {
      // A cookie that no longer opens anything is refused, not taken for anonymous: the
      // page learns its session ended.
      if (auto found = context_.sessions->find(*session)) {
        principal = *found;
        return std::nullopt;
      }
    } else if (context_.options.anonymousLayer) {
      principal = Principal{std::string(kAnonymousName), *context_.options.anonymousLayer};
      return std::nullopt;
    }
  }
  auto answer = error(HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "a valid bearer token is required", true);
  answer.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"strata\"");
  return answer;
}

GatewayRequestHandler::Answer GatewayRequestHandler::openSession(Poco::Net::HTTPServerRequest& request) {
  if (auto refusal = checkFraming(request, false)) return *refusal;
  if (!request.has(HTTPServerRequest::AUTHORIZATION)) {
    auto answer = error(HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "a session is opened with a bearer token", true);
    answer.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"strata\"");
    return answer;
  }
  Principal principal;
  if (auto refusal = authenticate(request, principal, false)) return *refusal;
  auto id = context_.sessions->open(principal);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(context_.sessions->ttl()).count();
  Answer answer;
  answer.contentType = kJsonType;
  Poco::JSON::Object body;
  body.set("principal", principal.name);
  body.set("layer", principal.layer);
  body.set("expires_in", seconds);
  std::ostringstream out;
  body.stringify(out);
  answer.body = out.str();
  answer.headers.emplace_back("Set-Cookie", std::string(SessionTable::kCookie) + "=" + id +
                                                "; Path=/v1/; Max-Age=" + std::to_string(seconds) +
                                                "; HttpOnly; SameSite=Strict" +
                                                (context_.options.tls() ? "; Secure" : ""));
  return answer;
}

GatewayRequestHandler::Answer GatewayRequestHandler::closeSession(Poco::Net::HTTPServerRequest& request) {
  if (auto refusal = checkFraming(request, false)) return *refusal;
  Poco::Net::NameValueCollection cookies;
  request.getCookies(cookies);
  if (cookies.has(std::string(SessionTable::kCookie))) {
    context_.sessions->close(cookies.get(std::string(SessionTable::kCookie)));
  }
  Answer answer;
  answer.status = HTTPResponse::HTTP_NO_CONTENT;
  answer.contentType = kJsonType;
  answer.headers.emplace_back("Set-Cookie", std::string(SessionTable::kCookie) +
                                                "=; Path=/v1/; Max-Age=0; HttpOnly; SameSite=Strict" +
                                                (context_.options.tls() ? "; Secure" : ""));
  return answer;
}

GatewayRequestHandler::Answer GatewayRequestHandler::watch(Poco::Net::HTTPServerRequest& request,
                                                           std::string_view target) {
  if (auto refusal = checkFraming(request, false)) return *refusal;
  Principal principal;
  if (auto refusal = authenticate(request, principal, true)) return *refusal;
  if (!context_.stream || context_.hub == nullptr) {
    return error(HTTPResponse::HTTP_NOT_IMPLEMENTED, "unavailable", "this gateway serves no watches", true);
  }
  const auto& service = context_.options.watchService;
  if (auto refusal = refusalFor(principal, service)) {
    return error(httpStatusFor(*refusal->error), codecs::errorCodeName(*refusal->error), refusal->errorText, true);
  }
  WatchRelay::Target watched;
  std::string decoded;
  try {
    auto slash = target.find('/');
    Poco::URI::decode(std::string(target.substr(0, slash)), watched.collection);
    if (slash != std::string_view::npos) Poco::URI::decode(std::string(target.substr(slash + 1)), watched.prefix);
  } catch (const Poco::Exception&) {
    return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "the path is not well percent-encoded", true);
  }
  if (watched.collection.empty()) {
    return error(HTTPResponse::HTTP_NOT_FOUND, "not_found", "name a collection: /v1/watch/<collection>[/<prefix>]",
                 true);
  }
  // Last-Event-ID (a browser resuming) wins over ?after= (the page's own first ask).
  std::string after;
  if (request.has("Last-Event-ID")) {
    after = request.get("Last-Event-ID");
  } else {
    Poco::URI uri(request.getURI());
    for (const auto& [key, value] : uri.getQueryParameters()) {
      if (key == "after") after = value;
    }
  }
  if (!after.empty()) {
    auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), watched.after);
    if (ec != std::errc() || end != after.data() + after.size() || watched.after < 0) {
      return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "Last-Event-ID and after must be a revision", true);
    }
  }
  if (context_.hub->size() >= context_.options.maxStreams) {
    return error(HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "unavailable", "too many event streams are open", true);
  }
  watched.headers.emplace_back(kPrincipalHeader, principal.name);
  watched.headers.emplace_back(kPrincipalLayerHeader, std::to_string(principal.layer));
  StreamStart start;
  start.head = streamHead();
  start.begin = [call = context_.stream, watched = std::move(watched)](std::shared_ptr<Stream> out) {
    std::make_shared<WatchRelay>(call, std::move(out), watched, WatchRelay::Options{})->start();
  };
  stream_ = std::move(start);
  return {};
}

std::string GatewayRequestHandler::streamHead() {
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n") +
         "retry: " + std::to_string(kStreamRetryMs) + "\n\n";
}

GatewayRequestHandler::Answer GatewayRequestHandler::events(Poco::Net::HTTPServerRequest& request) {
  if (auto refusal = checkFraming(request, false)) return *refusal;
  Principal principal;
  if (auto refusal = authenticate(request, principal, true)) return *refusal;
  if (context_.events == nullptr || context_.hub == nullptr) {
    return error(HTTPResponse::HTTP_NOT_IMPLEMENTED, "unavailable", "this gateway serves no events", true);
  }
  std::string pattern;
  std::size_t patterns = 0;
  for (const auto& [key, value] : Poco::URI(request.getURI()).getQueryParameters()) {
    if (key != "subject") continue;
    pattern = value;
    ++patterns;
  }
  if (patterns != 1 || !core::isValidPattern(pattern)) {
    return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed",
                 "give one subject pattern: /v1/events?subject=orders.* ('*' one token, a final '>' the rest)", true);
  }
  if (!context_.options.policy.maySubscribe(principal.layer, pattern)) {
    return error(HTTPResponse::HTTP_FORBIDDEN, "forbidden",
                 "layer " + std::to_string(principal.layer) + " may not subscribe to '" + pattern + "'", true);
  }
  if (context_.hub->size() >= context_.options.maxStreams) {
    return error(HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "unavailable", "too many event streams are open", true);
  }
  // Subscribed on the bus before the answer, so a refusal by the brokers is a status.
  if (auto refusal = context_.events->prepare(pattern)) {
    return error(httpStatusFor(*refusal->error), codecs::errorCodeName(*refusal->error), refusal->errorText, true);
  }
  auto lastEventId = request.get("Last-Event-ID", "");
  auto stream = std::make_shared<std::atomic<const Stream*>>(nullptr);
  StreamStart start;
  start.head = streamHead();
  start.begin = [events = context_.events, pattern, lastEventId, stream](std::shared_ptr<Stream> out) {
    *stream = out.get();
    events->attach(pattern, out, lastEventId);
  };
  start.onClose = [events = context_.events, pattern, stream] { events->detach(pattern, *stream); };
  stream_ = std::move(start);
  return {};
}

bool GatewayRequestHandler::startStream(const Poco::Net::StreamSocket& socket, bool tls) {
  if (!stream_ || context_.hub == nullptr) return false;
  auto out = context_.hub->adopt(socket, tls, std::move(stream_->head), std::move(stream_->onClose));
  if (!out) return false;
  stream_->begin(std::move(out));
  return true;
}

GatewayRequestHandler::Answer GatewayRequestHandler::serveFile(Poco::Net::HTTPServerRequest& request,
                                                               std::string_view name) {
  if (auto refusal = checkFraming(request, false)) return *refusal;
  bool plain = !name.empty() && name.size() <= kMaxFileName && name.front() != '.' &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
               });
  auto type = plain ? contentTypeOf(name) : std::string_view();
  auto path = std::filesystem::path(context_.options.uiDir) / std::string(name);
  std::error_code ec;
  if (type.empty() || !std::filesystem::is_regular_file(path, ec) ||
      std::filesystem::file_size(path, ec) > kMaxFileBytes) {
    return error(HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such page", true);
  }
  std::ifstream in(path, std::ios::binary);
  Answer answer;
  answer.contentType = type;
  answer.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return error(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal", "unreadable", true);
  // The page may talk to this gateway only, and be framed by no other site.
  answer.headers.emplace_back("Content-Security-Policy",
                              "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  answer.headers.emplace_back("Referrer-Policy", "no-referrer");
  return answer;
}

std::optional<GatewayRequestHandler::Answer> GatewayRequestHandler::readBody(Poco::Net::HTTPServerRequest& request,
                                                                            std::string& body) const {
  const auto maxBody = context_.options.maxBody;
  if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(maxBody)) {
    return error(HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                 "the body is larger than " + std::to_string(maxBody) + " bytes", true);
  }
  auto deadline = std::chrono::steady_clock::now() + context_.options.requestTimeout;
  auto& in = request.stream();
  std::string chunk(kReadChunk, '\0');
  // peek() makes at most one read from the socket, so the deadline is checked between
  // the reads of a client that sends its body a byte at a time.
  while (in.peek() != std::char_traits<char>::eof()) {
    auto n = in.readsome(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    body.append(chunk.data(), static_cast<std::size_t>(n));
    if (body.size() > maxBody) {
      return error(HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                   "the body is larger than " + std::to_string(maxBody) + " bytes", true);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return error(HTTPResponse::HTTP_REQUEST_TIMEOUT, "request_timeout", "the body came too slowly", true);
    }
  }
  if (in.bad()) return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "the body could not be read", true);
  return std::nullopt;
}

std::optional<GatewayRequestHandler::Answer> GatewayRequestHandler::readTimeout(
    Poco::Net::HTTPServerRequest& request, std::chrono::milliseconds& timeout) const {
  timeout = context_.options.callTimeout;
  if (!request.has(std::string(kTimeoutHeader))) return std::nullopt;
  const auto& text = request.get(std::string(kTimeoutHeader));
  long long ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || end != text.data() + text.size() || text.size() > kMaxTimeoutDigits || ms <= 0) {
    return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed",
                 std::string(kTimeoutHeader) + " must be a positive whole number of milliseconds", true);
  }
  timeout = std::min(std::chrono::milliseconds(ms), context_.options.maxCallTimeout);
  return std::nullopt;
}

std::optional<BusReply> GatewayRequestHandler::refusalFor(const Principal& principal, const std::string& service) const {
  auto serviceLayer = context_.options.serviceLayer(service);
  if (!serviceLayer) {
    if (context_.log) context_.log("strata.plugin.http.service_layer." + service + " is not a layer 0 to 4");
    return BusReply::failure(codecs::ErrorCode::kInternal, "the service's layer is misconfigured");
  }
  bool allowed = false;
  if (auto callers = context_.options.serviceCallers(service)) {
    try {
      core::LayerPolicy own;
      own.setServiceCallers(service, *callers);
      allowed = own.allows(principal.layer, *serviceLayer, service);
    } catch (const std::exception& e) {
      if (context_.log) context_.log("strata.plugin.http.policy." + service + ": " + e.what());
      return BusReply::failure(codecs::ErrorCode::kInternal, "the service's policy is misconfigured");
    }
  } else {
    allowed = context_.options.policy.allows(principal.layer, *serviceLayer, service);
  }
  if (!allowed) {
    return BusReply::failure(codecs::ErrorCode::kForbidden, core::mayNotCall(principal.layer, service));
  }
  return std::nullopt;
}

BusReply GatewayRequestHandler::callAs(const Principal& principal, BusRequest call) const {
  if (auto refusal = refusalFor(principal, call.service)) return *refusal;
  call.headers.emplace_back(kPrincipalHeader, principal.name);
  call.headers.emplace_back(kPrincipalLayerHeader, std::to_string(principal.layer));
  return context_.call(call);
}

GatewayRequestHandler::Answer GatewayRequestHandler::callService(Poco::Net::HTTPServerRequest& request,
                                                                 const std::string& service) {
  Principal principal;
  if (auto refusal = admit(request, principal)) return *refusal;

  BusRequest call;
  call.service = service;
  if (auto refusal = readTimeout(request, call.timeout)) return *refusal;
  if (auto refusal = readBody(request, call.body)) return *refusal;
  if (request.has(HTTPServerRequest::CONTENT_TYPE)) {
    call.headers.emplace_back(codecs::kContentTypeHeader, request.getContentType());
  }

  auto reply = callAs(principal, std::move(call));
  if (!reply.ok()) return error(httpStatusFor(*reply.error), codecs::errorCodeName(*reply.error), reply.errorText);
  Answer answer;
  answer.status = HTTPResponse::HTTP_OK;
  answer.contentType = kDefaultReplyType;
  for (const auto& [key, value] : reply.headers) {
    if (Poco::icompare(key, std::string(codecs::kContentTypeHeader)) != 0) continue;
    if (isHeaderValue(value) && !value.empty()) {
      answer.contentType = value;
    } else if (context_.log) {
      context_.log("service '" + service + "' replied with a content-type that cannot be sent; using the default");
    }
  }
  answer.body = std::move(reply.body);
  return answer;
}

GatewayRequestHandler::Answer GatewayRequestHandler::callXmlRpc(Poco::Net::HTTPServerRequest& request) {
  Principal principal;
  if (auto refusal = admit(request, principal)) return *refusal;
  std::chrono::milliseconds timeout{0};
  if (auto refusal = readTimeout(request, timeout)) return *refusal;
  std::string body;
  if (auto refusal = readBody(request, body)) return *refusal;
  // From here every answer is 200 with a methodResponse, faults included (XML-RPC's way).
  Answer answer;
  answer.contentType = kXmlType;
  auto parsed = busRequestFromXmlRpc(body, context_.options.maxBody);
  if (!parsed.request) {
    answer.body = xmlRpcResponseFor(BusReply::failure(codecs::ErrorCode::kMalformed, parsed.error));
    return answer;
  }
  parsed.request->timeout = timeout;
  answer.body = xmlRpcResponseFor(callAs(principal, std::move(*parsed.request)));
  return answer;
}

}  // namespace strata::integrations::http
