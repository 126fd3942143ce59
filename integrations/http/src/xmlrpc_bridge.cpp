#include <strata/integrations/http/xmlrpc_bridge.h>

#include <algorithm>

#include <Poco/JSON/Object.h>
#include <Poco/String.h>

#include <strata/codecs/payload.h>
#include <strata/codecs/text.h>
#include <strata/core/service_name.h>
#include <strata/integrations/xml/xmlrpc.h>

namespace strata::integrations::http {

namespace {

constexpr std::string_view kTextType = "text/plain";

// Text an XML-RPC <string> can carry: UTF-8 without the controls XML 1.0 lacks.
bool isXmlText(std::string_view text) {
  bool controls = std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 && c != '\t' && c != '\n' && c != '\r';
  });
  return !controls && codecs::isUtf8(text);
}

// The bytes of a parsed <base64> value ({"$base64": text}), or nullopt for any other value.
std::optional<std::string> base64Bytes(const Poco::Dynamic::Var& value) {
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) return std::nullopt;
  const auto& object = value.extract<Poco::JSON::Object::Ptr>();
  if (object.isNull() || object->size() != 1 || !object->has(std::string(xml::kBase64Tag))) return std::nullopt;
  auto text = object->get(std::string(xml::kBase64Tag));
  if (!text.isString()) return std::nullopt;
  return codecs::fromBase64(text.extract<std::string>());
}

Poco::Dynamic::Var taggedBase64(std::string_view bytes) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
  out->set(std::string(xml::kBase64Tag), codecs::toBase64(bytes));
  return out;
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
  if (!core::isServiceName(call.method)) {
    return {std::nullopt, "method name '" + call.method + "' is not a bus service name"};
  }
  BusRequest request;
  request.service = call.method;
  const auto& params = *call.params;
  if (params.size() == 1 && params.get(0).isString()) {
    request.body = params.get(0).extract<std::string>();
    request.headers.emplace_back(codecs::kContentTypeHeader, kTextType);
  } else if (auto bytes = params.size() == 1 ? base64Bytes(params.get(0)) : std::nullopt) {
    request.body = std::move(*bytes);
    request.headers.emplace_back(codecs::kContentTypeHeader, kOctetStreamType);
  } else {
    // Parsed values always have a JSON form: the parser made them.
    request.body = codecs::jsonCodec().encode(params.size() == 1 ? params.get(0) : Poco::Dynamic::Var(call.params));
    request.headers.emplace_back(codecs::kContentTypeHeader, codecs::kJsonType);
  }
  request.headers.emplace_back(kXmlRpcParamsHeader, std::to_string(params.size()));
  return {std::move(request), {}};
}

std::string xmlRpcResponseFor(const BusReply& reply) {
  if (!reply.ok()) return fault(*reply.error, reply.errorText);
  std::string type;
  for (const auto& [key, value] : reply.headers) {
    if (Poco::icompare(key, std::string(codecs::kContentTypeHeader)) == 0) type = codecs::mediaType(value);
  }
  try {
    if (type == codecs::kJsonType) {
      codecs::PayloadLimits limits;
      limits.maxBytes = reply.body.size();  // the reply is here already; its shape is still capped
      auto decoded = codecs::jsonCodec().decode(reply.body, limits);
      if (!decoded.ok()) throw std::invalid_argument(decoded.error);
      return xml::formatMethodResponse(decoded.value);
    }
    if (type == kOctetStreamType || !isXmlText(reply.body)) {
      return xml::formatMethodResponse(taggedBase64(reply.body));
    }
    return xml::formatMethodResponse(Poco::Dynamic::Var(reply.body));
  } catch (const std::exception& e) {
    return fault(codecs::ErrorCode::kInternal, std::string("the service's reply has no XML-RPC form: ") + e.what());
  }
}

}  // namespace strata::integrations::http
