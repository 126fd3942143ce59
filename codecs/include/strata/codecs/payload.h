#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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
// Who a gateway calls for: the name and layer of its outside caller (an HTTP client).
// A service that acts on a caller's rights (the store) takes the principal's layer when
// it lies further out than the calling node's, never to gain rights.
inline constexpr std::string_view kPrincipalHeader = "strata-principal";
inline constexpr std::string_view kPrincipalLayerHeader = "strata-principal-layer";

// Checked before and while parsing: a body over maxBytes is refused unread; the parse
// stops at the first object or element past maxDepth or maxMembers.
//
// maxMembers bounds the work of one body, not only its shape: Poco 1.11's Object with
// preserved key order (what decode gives) scans every existing key on each insert, so one
// object of n keys costs n*n/2 comparisons (90,000 keys in 978 KB took 15 s of CPU). With
// the cap, the cost of a whole body is at most maxBytes/keySize * maxMembers/2 (0.1 s for
// one 10,000-key object; about 1 s for 1 MB made only of such objects).
struct PayloadLimits {
  static constexpr std::size_t kDefaultMaxBytes = 1024 * 1024;
  static constexpr std::size_t kDefaultMaxDepth = 64;
  static constexpr std::size_t kDefaultMaxMembers = 10'000;
  std::size_t maxBytes = kDefaultMaxBytes;
  std::size_t maxDepth = kDefaultMaxDepth;  // nesting of objects, arrays or elements
  // Members of one JSON object (each key as written, a repeated key counted each time),
  // and attributes plus child elements of one XML element (a repeated name counted each
  // time). Mail does not use it: its headers go into an unordered Object (linear; 90,000
  // header fields decode in 0.04 s) and a message's size is capped by maxBytes.
  std::size_t maxMembers = kDefaultMaxMembers;
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

// Reading the XML codec's JSON shape (docs/integrations.md): an element is a string (text
// only) or an object of "@attribute" members, child elements grouped by name, and "#text";
// an element whose text and elements interleave holds them, in order, in "#content".
inline constexpr std::string_view kXmlTextKey = "#text";
inline constexpr std::string_view kXmlContentKey = "#content";

// The values of an element's children named name, in document order, from either form.
std::vector<Poco::Dynamic::Var> xmlChildren(const Poco::Dynamic::Var& element, std::string_view name);

// An element's own text: every piece of text directly in it, joined.
std::string xmlText(const Poco::Dynamic::Var& element);

// The media type of a content-type header value: parameters dropped, spaces trimmed,
// lower case ("Application/JSON; charset=utf-8" gives "application/json").
std::string mediaType(std::string_view contentType);

// The codec for a content-type header value ("application/json; charset=utf-8" finds
// the JSON codec; case and parameters do not matter; text/xml and application/xml are
// both XML), or nullptr when none handles it.
const PayloadCodec* findPayloadCodec(std::string_view contentType);

// Appends text to out as a JSON string, quotes included; UTF-8 stays as it is, control
// characters are escaped. Throws std::invalid_argument when text is not valid UTF-8.
void writeJsonString(std::string_view text, std::string& out);

}  // namespace strata::codecs
