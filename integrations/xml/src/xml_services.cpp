#include <strata/integrations/xml/xml_services.h>

#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/integrations/xml/xml_path.h>

namespace strata::integrations::xml {

namespace {

ServiceResult malformed(std::string text) {
  ServiceResult result;
  result.failure = ServiceResult::Failure::kMalformed;
  result.error = std::move(text);
  return result;
}

ServiceResult answer(std::string body, std::string_view contentType) {
  ServiceResult result;
  result.body = std::move(body);
  result.contentType = std::string(contentType);
  return result;
}

}  // namespace

std::optional<ServiceResult> XmlServices::tooLarge(std::string_view body) const {
  if (body.size() <= limits_.maxBytes) return std::nullopt;
  ServiceResult result;
  result.failure = ServiceResult::Failure::kTooLarge;
  result.error = "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                 std::to_string(limits_.maxBytes);
  return result;
}

ServiceResult XmlServices::toJson(std::string_view body) const {
  if (auto refused = tooLarge(body)) return *refused;
  auto decoded = codecs::xmlCodec().decode(body, limits_);
  if (!decoded.ok()) return malformed(decoded.error);
  return answer(codecs::jsonCodec().encode(decoded.value), codecs::kJsonType);
}

ServiceResult XmlServices::fromJson(std::string_view body, std::optional<std::string_view> root) const {
  if (auto refused = tooLarge(body)) return *refused;
  auto decoded = codecs::jsonCodec().decode(body, limits_);
  if (!decoded.ok()) return malformed(decoded.error);
  Poco::Dynamic::Var value = decoded.value;
  if (root) {
    Poco::JSON::Object::Ptr wrapped = new Poco::JSON::Object(true);
    wrapped->set(std::string(*root), value);
    value = wrapped;
  }
  try {
    return answer(codecs::xmlCodec().encode(value), codecs::kXmlType);
  } catch (const std::invalid_argument& e) {
    return malformed(e.what());
  }
}

ServiceResult XmlServices::select(std::string_view body, std::optional<std::string_view> pathText) const {
  if (!pathText) return malformed("xml.select needs the path in header '" + std::string(kPathHeader) + "'");
  std::string error;
  auto path = XmlPath::parse(*pathText, &error);
  if (!path) return malformed(error);
  if (auto refused = tooLarge(body)) return *refused;
  auto decoded = codecs::xmlCodec().decode(body, limits_);
  if (!decoded.ok()) return malformed(decoded.error);
  Poco::JSON::Array::Ptr texts = new Poco::JSON::Array;
  for (auto& text : path->select(decoded.value)) texts->add(std::move(text));
  return answer(codecs::jsonCodec().encode(texts), codecs::kJsonType);
}

}  // namespace strata::integrations::xml
