#pragma once

// XML-RPC (http://xmlrpc.com/spec.md) to and from the JSON shape of the payload codecs.
//
// Value mapping, both ways: the typed JSON shape (see docs/integrations.md). Every
// XML-RPC type comes back as itself, so a JSON service can read and answer any of them:
//   <int>/<i4>            <-> Poco::Int32, a JSON integer (outside 32 bits refused when parsing)
//   <i8>                  <-> Poco::Int64 (an extension; written only for integers outside 32 bits)
//   <boolean>0|1</boolean> <-> bool
//   <string>, untyped <value>text</value> <-> std::string
//   <double>              <-> double, a JSON number with '.' or an exponent (NaN, infinities refused)
//   <dateTime.iso8601>    <-> {"$dateTime.iso8601": "19980717T14:08:55"} (the text as written)
//   <base64>              <-> {"$base64": "AP8="} (the base64 text, whitespace removed, checked)
//   <struct>              <-> Poco::JSON::Object::Ptr, members in order; a struct of one member
//                             named like a tag above travels as {"$struct": {...}}
//   <array>               <-> Poco::JSON::Array::Ptr
//   <nil/>                <-> empty Var (JSON null)
//
// Parsing goes through codecs::xmlCodec(): the size cap is checked before the parser
// runs, nesting is capped while it runs, a document with a DOCTYPE is refused (so no
// entities, external or internal), and every malformed input is an error value, never
// an exception.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>

#include <strata/codecs/payload.h>

namespace strata::integrations::xml {

// The one-member objects that carry a type JSON lacks.
inline constexpr std::string_view kDateTimeTag = "$dateTime.iso8601";
inline constexpr std::string_view kBase64Tag = "$base64";
inline constexpr std::string_view kStructTag = "$struct";

// The longest method name accepted.
inline constexpr std::size_t kMaxMethodName = 256;

struct MethodCall {
  std::string method;              // [A-Za-z0-9_.:/]+, at most kMaxMethodName
  Poco::JSON::Array::Ptr params;   // never null; empty when the call has no <params>
};

struct MethodCallResult {
  std::optional<MethodCall> call;  // set when the document is a well-formed call
  std::string error;               // set (and call empty) when it is not
};

// Parses a <methodCall>. Never throws for bad input: a malformed, oversized, too deep or
// DOCTYPE-bearing document, a missing or bad <methodName>, or a bad value gives error.
MethodCallResult parseMethodCall(std::string_view xml, const codecs::PayloadLimits& limits = {});

// <?xml version="1.0"?><methodResponse><params><param><value>...</value></param></params></methodResponse>
// Throws std::invalid_argument when value has no XML-RPC form (NaN, a non-JSON type,
// text that is not UTF-8 or holds characters XML 1.0 cannot carry).
std::string formatMethodResponse(const Poco::Dynamic::Var& value);

// <methodResponse><fault><value><struct> with faultCode (int) and faultString (string).
// Characters XML cannot carry in text are replaced by U+FFFD; never throws for text.
std::string formatFault(int code, const std::string& text);

// A parsed <methodResponse>: either a value or a fault, or an error when malformed.
struct MethodResponse {
  Poco::Dynamic::Var value;   // the single <param>'s value when not a fault
  bool fault = false;
  int faultCode = 0;
  std::string faultString;
  std::string error;          // non-empty when the document is not a valid response
  bool ok() const { return error.empty(); }
};

// Parses a <methodResponse> (a client's side; used by tests). Never throws for bad input.
MethodResponse parseMethodResponse(std::string_view xml, const codecs::PayloadLimits& limits = {});

}  // namespace strata::integrations::xml
