// The application/json payload codec on Poco::JSON.
//
// decode: a body over limits.maxBytes is refused unread; then one linear scan (no
// allocation) refuses nesting deeper than limits.maxDepth before Poco's parser, which is
// recursive, ever sees the text; the parser's own depth cap is set too, as a second
// guard. Integers past 64 bits are refused (Poco would wrap them), as is "\u0000" in a
// string (Poco's null-byte option, kept off). Objects keep their members in document order;
// an object with more than limits.maxMembers members stops the parse when the next key is
// read (Poco's ordered Object makes each insert scan every key: quadratic without the cap).
//
// encode: written here rather than by Poco::JSON::Stringifier so that what has no JSON
// form is refused instead of written badly: NaN and infinities, text that is not UTF-8,
// a Var of a type JSON does not have, nesting deeper than kMaxEncodeDepth (a cycle).
#include <strata/codecs/payload.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <strata/codecs/text.h>

namespace strata::codecs {

namespace {

// Deeper values are refused by encode: far beyond any decoded value, and it stops a
// value that contains itself.
constexpr std::size_t kMaxEncodeDepth = 1000;
constexpr std::string_view kJsonWhitespace = " \t\r\n";

// The deepest nesting of objects and arrays in text, counted outside strings; stops
// counting once past limit. Malformed text is left for the parser to refuse.
std::size_t scanDepth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool inString = false;
  bool escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    switch (c) {
      case '"': inString = true; break;
      case '{':
      case '[':
        if (++depth > deepest) deepest = depth;
        if (deepest > limit) return deepest;
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return deepest;
}

// The first integer literal outside strings that is past 64 bits (below INT64_MIN or
// above UINT64_MAX), or "" when there is none. Poco 1.11's parser does not refuse those:
// it wraps 18446744073709551617 to 1 and clamps -9223372036854775809 to INT64_MIN.
std::string_view integerOutOfRange(std::string_view text) {
  bool inString = false;
  bool escaped = false;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      inString = true;
      ++i;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      ++i;
      continue;
    }
    auto end = text.find_first_not_of("0123456789+-.eE", i);
    std::string_view token = text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    i += token.size();
    if (token.find_first_of(".eE") != std::string_view::npos) continue;  // a double
    std::errc ec{};
    if (token.front() == '-') {
      std::int64_t value = 0;
      ec = std::from_chars(token.data(), token.data() + token.size(), value).ec;
    } else {
      std::uint64_t value = 0;
      ec = std::from_chars(token.data(), token.data() + token.size(), value).ec;
    }
    if (ec == std::errc::result_out_of_range) return token;
  }
  return {};
}

// Thrown from CountingHandler to stop the parser at once; caught in decode and turned into
// the error value. Not an exception of Poco's, so it cannot be mistaken for a parse error.
struct Refusal {
  std::string text;
};

// Poco's ordered-object handler that refuses an object's member past maxMembers before it
// is inserted. A key always belongs to the innermost open object (an array holds no keys),
// so one count per open object is enough.
class CountingHandler final : public Poco::JSON::ParseHandler {
 public:
  explicit CountingHandler(std::size_t maxMembers) : Poco::JSON::ParseHandler(true), maxMembers_(maxMembers) {}

  void startObject() override {
    members_.push_back(0);
    Poco::JSON::ParseHandler::startObject();
  }

  void endObject() override {
    members_.pop_back();
    Poco::JSON::ParseHandler::endObject();
  }

  void key(const std::string& name) override {
    if (++members_.back() > maxMembers_) {
      throw Refusal{"json: an object has more than " + std::to_string(maxMembers_) +
                    " members (PayloadLimits::maxMembers)"};
    }
    Poco::JSON::ParseHandler::key(name);
  }

 private:
  std::size_t maxMembers_;
  std::vector<std::size_t> members_;  // members read so far, one per open object
};


void writeDouble(double value, std::string& out) {
  if (!std::isfinite(value)) throw std::invalid_argument("json: NaN and infinities have no JSON form");
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc{}) throw std::invalid_argument("json: cannot write a number");
  std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
  out += text;
  // "1" would read back as an integer; keep it a double.
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

void writeValue(const Poco::Dynamic::Var& value, std::string& out, std::size_t depth);

void writeObject(const Poco::JSON::Object& object, std::string& out, std::size_t depth) {
  out.push_back('{');
  bool first = true;
  for (const auto& name : object.getNames()) {
    if (!first) out.push_back(',');
    first = false;
    writeJsonString(name, out);
    out.push_back(':');
    writeValue(object.get(name), out, depth + 1);
  }
  out.push_back('}');
}

void writeArray(const Poco::JSON::Array& array, std::string& out, std::size_t depth) {
  out.push_back('[');
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (i > 0) out.push_back(',');
    writeValue(array.get(static_cast<unsigned int>(i)), out, depth + 1);
  }
  out.push_back(']');
}

// Writes value when it holds a T or a T::Ptr (a null Ptr is JSON null); false when it
// holds neither.
template <class T>
bool writeContainer(const Poco::Dynamic::Var& value, std::string& out, std::size_t depth,
                    void (*write)(const T&, std::string&, std::size_t)) {
  if (value.type() == typeid(typename T::Ptr)) {
    auto pointer = value.extract<typename T::Ptr>();
    if (pointer.isNull()) {
      out += "null";
    } else {
      write(*pointer, out, depth);
    }
    return true;
  }
  if (value.type() == typeid(T)) {
    write(value.extract<T>(), out, depth);
    return true;
  }
  return false;
}

void writeValue(const Poco::Dynamic::Var& value, std::string& out, std::size_t depth) {
  if (depth > kMaxEncodeDepth) throw std::invalid_argument("json: value nested too deep (or containing itself)");
  if (value.isEmpty()) {
    out += "null";
  } else if (writeContainer<Poco::JSON::Object>(value, out, depth, writeObject) ||
             writeContainer<Poco::JSON::Array>(value, out, depth, writeArray)) {
    // written
  } else if (value.isBoolean()) {
    out += value.extract<bool>() ? "true" : "false";
  } else if (value.isInteger()) {
    out += value.convert<std::string>();
  } else if (value.isNumeric()) {
    writeDouble(value.convert<double>(), out);
  } else if (value.isString()) {
    writeJsonString(value.extract<std::string>(), out);
  } else {
    throw std::invalid_argument(std::string("json: a value of type ") + value.type().name() + " has no JSON form");
  }
}

class JsonCodec final : public PayloadCodec {
 public:
  std::string_view contentType() const override { return kJsonType; }

  PayloadResult decode(std::string_view bytes, const PayloadLimits& limits) const override {
    if (bytes.size() > limits.maxBytes) {
      return PayloadResult::failure("json: body of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                                    std::to_string(limits.maxBytes));
    }
    if (scanDepth(bytes, limits.maxDepth) > limits.maxDepth) {
      return PayloadResult::failure("json: nesting deeper than " + std::to_string(limits.maxDepth));
    }
    if (!isUtf8(bytes)) return PayloadResult::failure("json: not valid UTF-8");
    if (auto integer = integerOutOfRange(bytes); !integer.empty()) {
      return PayloadResult::failure("json: integer " + std::string(integer) + " is outside 64 bits");
    }
    try {
      // Poco 1.11's parser takes only an object or an array at the top; JSON also
      // allows a scalar there, so a scalar is parsed as the one item of an array.
      auto first = bytes.find_first_not_of(kJsonWhitespace);
      bool scalar = first != std::string_view::npos && bytes[first] != '{' && bytes[first] != '[';
      Poco::JSON::Parser parser(new CountingHandler(limits.maxMembers));
      parser.setAllowComments(false);
      parser.setAllowNullByte(false);
      // Poco counts one more level than the scan (the document itself), and the wrapper.
      parser.setDepth(limits.maxDepth + (scalar ? 2 : 1));
      if (!scalar) return {parser.parse(std::string(bytes)), {}};
      auto wrapper = parser.parse("[" + std::string(bytes) + "]").extract<Poco::JSON::Array::Ptr>();
      // "1,2" would give two items: one value was asked for.
      if (wrapper->size() != 1) return PayloadResult::failure("json: not well-formed: more than one value");
      return {wrapper->get(0), {}};
    } catch (const Refusal& refusal) {
      return PayloadResult::failure(refusal.text);
    } catch (const Poco::Exception& e) {
      return PayloadResult::failure("json: not well-formed: " + e.message());
    } catch (const std::exception& e) {
      return PayloadResult::failure(std::string("json: not well-formed: ") + e.what());
    }
  }

  std::string encode(const Poco::Dynamic::Var& value) const override {
    std::string out;
    writeValue(value, out, 0);
    return out;
  }
};

}  // namespace

void writeJsonString(std::string_view text, std::string& out) {
  if (!isUtf8(text)) throw std::invalid_argument("json: a string is not valid UTF-8");
  constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                      '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  out.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 0x0F]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

const PayloadCodec& jsonCodec() {
  static const JsonCodec codec;
  return codec;
}

}  // namespace strata::codecs
