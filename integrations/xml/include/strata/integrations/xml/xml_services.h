#pragma once

// The logic of the `xml` plug-in's services, without the plug-in host, so that the unit
// tests call it directly. Every input is a peer's data: a bad one gives a ServiceResult
// with an error, never an exception.

#include <optional>
#include <string>
#include <string_view>

#include <strata/codecs/payload.h>

namespace strata::integrations::xml {

struct ServiceResult {
  enum class Failure { kNone, kMalformed, kTooLarge };
  std::string body;         // the answer when failure is kNone
  std::string contentType;  // its content type
  Failure failure = Failure::kNone;
  std::string error;        // what is wrong, when failure is not kNone
  bool ok() const { return failure == Failure::kNone; }
};

class XmlServices {
 public:
  static constexpr std::string_view kToJson = "xml.to_json";
  static constexpr std::string_view kFromJson = "xml.from_json";
  static constexpr std::string_view kSelect = "xml.select";
  static constexpr std::string_view kRootHeader = "xml-root";
  static constexpr std::string_view kPathHeader = "xml-path";

  explicit XmlServices(codecs::PayloadLimits limits) : limits_(limits) {}

  // xml.to_json: an XML document as JSON (the convention of codecs::xmlCodec()).
  ServiceResult toJson(std::string_view body) const;
  // xml.from_json: JSON as an XML document. With root, the JSON value becomes the
  // content of an element named root; without, the JSON must be an object with one
  // member, whose name is the root element's.
  ServiceResult fromJson(std::string_view body, std::optional<std::string_view> root) const;
  // xml.select: the text of the nodes path (XmlPath's grammar) selects in the XML
  // document body, as a JSON array of strings.
  ServiceResult select(std::string_view body, std::optional<std::string_view> path) const;

  const codecs::PayloadLimits& limits() const { return limits_; }

 private:
  // A failure for an oversized body, before any parser sees it; nullopt when it fits.
  std::optional<ServiceResult> tooLarge(std::string_view body) const;

  codecs::PayloadLimits limits_;
};

}  // namespace strata::integrations::xml
