#include "gateway_request_handler.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <istream>

#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/String.h>

#include <strata/codecs/payload.h>
#include <strata/integrations/http/error_status.h>
#include <strata/integrations/http/header_text.h>
#include <strata/integrations/http/xmlrpc_bridge.h>

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
  response.setStatus(static_cast<HTTPResponse::HTTPStatus>(answer.status));
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
  bool xmlrpc = context_.options.xmlrpc && path == kXmlRpcPath;
  bool service = path.starts_with(kServicesPath);
  if (!xmlrpc && !service) return error(HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such route", true);
  if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
    auto answer = error(HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "use POST", true);
    answer.headers.emplace_back("Allow", "POST");
    return answer;
  }
  if (xmlrpc) return callXmlRpc(request);
  auto name = path.substr(kServicesPath.size());
  if (!isServiceName(name)) {
    return error(HTTPResponse::HTTP_NOT_FOUND, "not_found", "not a service name", true);
  }
  return callService(request, std::string(name));
}

std::optional<GatewayRequestHandler::Answer> GatewayRequestHandler::admit(Poco::Net::HTTPServerRequest& request,
                                                                         Principal& principal) const {
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
  if (encodings == 1 && !request.getChunkedTransferEncoding()) {
    return error(HTTPResponse::HTTP_BAD_REQUEST, "malformed", "only chunked transfer encoding is accepted", true);
  }
  if (lengths == 0 && encodings == 0) {
    return error(HTTPResponse::HTTP_LENGTH_REQUIRED, "length_required", "send Content-Length or chunked", true);
  }

  if (!request.has(HTTPServerRequest::AUTHORIZATION)) {
    if (context_.options.anonymousLayer) {
      principal = Principal{std::string(kAnonymousName), *context_.options.anonymousLayer};
      return std::nullopt;
    }
  } else if (context_.options.tokens) {
    const auto& credentials = request.get(HTTPServerRequest::AUTHORIZATION);
    if (credentials.size() > kBearerPrefix.size() &&
        Poco::icompare(credentials.substr(0, kBearerPrefix.size()), std::string(kBearerPrefix)) == 0) {
      if (auto found = context_.options.tokens->find(std::string_view(credentials).substr(kBearerPrefix.size()))) {
        principal = *found;
        return std::nullopt;
      }
    }
  }
  auto answer = error(HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "a valid bearer token is required", true);
  answer.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"strata\"");
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

BusReply GatewayRequestHandler::callAs(const Principal& principal, BusRequest call) const {
  auto serviceLayer = context_.options.serviceLayer(call.service);
  if (!serviceLayer) {
    if (context_.log) context_.log("strata.plugin.http.service_layer." + call.service + " is not a layer 0 to 4");
    return BusReply::failure(codecs::ErrorCode::kInternal, "the service's layer is misconfigured");
  }
  if (!context_.options.policy.allows(principal.layer, *serviceLayer, call.service)) {
    return BusReply::failure(codecs::ErrorCode::kForbidden, "layer " + std::to_string(principal.layer) +
                                                                " may not call '" + call.service + "'");
  }
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
