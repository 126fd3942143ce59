#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <Poco/Dynamic/Var.h>

namespace strata::codecs {

// Payload codecs turn a message body of one content type into a JSON-shaped value
// (Poco::Dynamic::Var holding Poco::JSON::Object::Ptr, Poco::JSON::Array::Ptr, strings,
// numbers, booleans or empty for null) and back. A request says which with its
// content-type header; integration nodes work on the decoded value.
inline constexpr std::string_view kContentTypeHeader = "content-type";
inline constexpr std::string_view kJsonType = "application/json";
inline constexpr std::string_view kXmlType = "application/xml";
inline constexpr std::string_view kMailType = "message/rfc822";

// Checked before and while parsing: a body over maxBytes is refused unread.
struct PayloadLimits {
  static constexpr std::size_t kDefaultMaxBytes = 1024 * 1024;
  static constexpr std::size_t kDefaultMaxDepth = 64;
  std::size_t maxBytes = kDefaultMaxBytes;
  std::size_t maxDepth = kDefaultMaxDepth;  // nesting of objects, arrays or elements
};

// What a malformed or oversized payload gives: a value, not an exception (it is a peer's
// data, not our bug).
struct PayloadResult {
  Poco::Dynamic::Var value;
  std::string error;  // empty when value is good
  bool ok() const { return error.empty(); }
  static PayloadResult failure(std::string text) { return {{}, std::move(text)}; }
};

class PayloadCodec {
 public:
  virtual ~PayloadCodec() = default;
  // The canonical content type, e.g. "application/json".
  virtual std::string_view contentType() const = 0;
  virtual PayloadResult decode(std::string_view bytes, const PayloadLimits& limits = {}) const = 0;
  // Throws std::invalid_argument when value has no form in this content type.
  virtual std::string encode(const Poco::Dynamic::Var& value) const = 0;
};

const PayloadCodec& jsonCodec();
const PayloadCodec& xmlCodec();
const PayloadCodec& mailCodec();

// The codec for a content-type header value ("application/json; charset=utf-8" finds
// the JSON codec; case and parameters do not matter; text/xml and application/xml are
// both XML), or nullptr when none handles it.
const PayloadCodec* findPayloadCodec(std::string_view contentType);

}  // namespace strata::codecs
