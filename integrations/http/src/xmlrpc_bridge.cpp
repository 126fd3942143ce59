#include <strata/integrations/http/xmlrpc_bridge.h>

#include <sstream>

#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <strata/codecs/payload.h>
#include <strata/integrations/xml/xmlrpc.h>

namespace strata::integrations::http {

namespace {

constexpr std::string_view kTextType = "text/plain";
constexpr std::size_t kMaxJsonDepth = 64;

bool isJsonType(std::string_view contentType) {
  auto semicolon = contentType.find(';');
  return Poco::icompare(Poco::trim(std::string(contentType.substr(0, semicolon))), std::string(codecs::kJsonType)) == 0;
}

std::string fault(codecs::ErrorCode code, const std::string& text) {
  return xml::formatFault(static_cast<int>(code), text);
}

}  // namespace

XmlRpcRequest busRequestFromXmlRpc(std::string_view xml, std::size_t maxBytes) {
  codecs::PayloadLimits limits;
  limits.maxBytes = maxBytes;
  auto parsed = xml::parseMethodCall(xml, limits);
  if (!parsed.call) return {std::nullopt, parsed.error};
  const auto& call = *parsed.call;
  if (!isServiceName(call.method)) {
    return {std::nullopt, "method name '" + call.method + "' is not a bus service name"};
  }
  BusRequest request;
  request.service = call.method;
  if (call.params->size() == 1 && call.params->get(0).isString()) {
    request.body = call.params->get(0).extract<std::string>();
    request.headers.emplace_back(codecs::kContentTypeHeader, kTextType);
  } else {
    std::ostringstream out;
    call.params->stringify(out);
    request.body = out.str();
    request.headers.emplace_back(codecs::kContentTypeHeader, codecs::kJsonType);
  }
  return {std::move(request), {}};
}

std::string xmlRpcResponseFor(const BusReply& reply) {
  if (!reply.ok()) return fault(*reply.error, reply.errorText);
  bool json = false;
  for (const auto& [key, value] : reply.headers) {
    if (Poco::icompare(key, std::string(codecs::kContentTypeHeader)) == 0) json = isJsonType(value);
  }
  try {
    if (!json) return xml::formatMethodResponse(Poco::Dynamic::Var(reply.body));
    Poco::JSON::Parser parser;
    parser.setDepth(kMaxJsonDepth);
    return xml::formatMethodResponse(parser.parse(reply.body));
  } catch (const std::exception& e) {
    return fault(codecs::ErrorCode::kInternal, std::string("the service's reply has no XML-RPC form: ") + e.what());
  }
}

}  // namespace strata::integrations::http
