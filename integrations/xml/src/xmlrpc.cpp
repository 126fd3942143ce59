#include <strata/integrations/xml/xmlrpc.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#include <Poco/JSON/Object.h>

#include <strata/codecs/text.h>

namespace strata::integrations::xml {

namespace {

using Poco::Dynamic::Var;
using ObjectPtr = Poco::JSON::Object::Ptr;
using ArrayPtr = Poco::JSON::Array::Ptr;

constexpr std::string_view kWhitespace = " \t\r\n";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
constexpr std::size_t kMaxDateTime = 64;
// Enough for any double in fixed notation (DBL_MAX has 309 digits before the point).
constexpr std::size_t kDoubleBuffer = 400;
// Deeper values are refused by format (and a value that contains itself stops there).
constexpr std::size_t kMaxFormatDepth = 1000;

// Thrown inside the parser's helpers, caught at the top and returned as the error text.
struct Invalid {
  std::string text;
};

[[noreturn]] void fail(std::string text) { throw Invalid{std::move(text)}; }

bool isObject(const Var& v) { return v.type() == typeid(ObjectPtr) && !v.extract<ObjectPtr>().isNull(); }
bool isArray(const Var& v) { return v.type() == typeid(ArrayPtr) && !v.extract<ArrayPtr>().isNull(); }

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

// An element decoded by the XML codec: a string when it holds only text, else an object.
// A container element that holds nothing but whitespace is empty.
bool isEmptyText(const Var& v) { return v.isString() && trim(v.extract<std::string>()).empty(); }

// The element's object; refuses attributes, stray text and children not in allowed.
// Shares ownership, so it outlives a temporary element.
ObjectPtr children(const Var& element, std::string_view what, std::initializer_list<std::string_view> allowed) {
  if (!isObject(element)) fail("<" + std::string(what) + "> must hold elements, not text");
  ObjectPtr object = element.extract<ObjectPtr>();
  auto check = [&](const std::string& key) {
    if (key.starts_with('@')) fail("<" + std::string(what) + "> must not have attributes ('" + key.substr(1) + "')");
    if (key == codecs::kXmlTextKey) fail("<" + std::string(what) + "> must not hold text beside elements");
    bool known = false;
    for (auto name : allowed) known = known || key == name;
    if (!known) fail("unexpected <" + key + "> in <" + std::string(what) + ">");
  };
  for (const auto& key : object->getNames()) {
    if (key != codecs::kXmlContentKey) {
      check(key);
      continue;
    }
    // Children in document order (names interleaved, or text among them).
    auto content = object->getArray(key);
    for (std::size_t i = 0; content && i < content->size(); ++i) {
      Var piece = content->get(static_cast<unsigned int>(i));
      if (isObject(piece)) {
        check(piece.extract<ObjectPtr>()->getNames().front());
      } else if (!isEmptyText(piece)) {
        fail("<" + std::string(what) + "> must not hold text beside elements");
      }
    }
  }
  return object;
}

// The occurrences of child name, in document order.
std::vector<Var> occurrences(const ObjectPtr& object, const std::string& name) {
  return codecs::xmlChildren(Var(object), name);
}

// The single child name; fails when missing or repeated.
Var single(const ObjectPtr& object, const std::string& name, std::string_view parent) {
  auto found = occurrences(object, name);
  if (found.empty()) fail("<" + std::string(parent) + "> without <" + name + ">");
  if (found.size() > 1) fail("<" + std::string(parent) + "> with more than one <" + name + ">");
  return found.front();
}

std::string text(const Var& element, std::string_view what) {
  if (!element.isString()) fail("<" + std::string(what) + "> must hold text only");
  return element.extract<std::string>();
}

// text without one leading '+', which std::from_chars does not take; "" when a second
// sign follows it.
std::string_view withoutPlus(std::string_view text) {
  if (text.empty() || text.front() != '+') return text;
  text.remove_prefix(1);
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) return {};
  return text;
}

template <typename Int>
Int parseInteger(const Var& element, std::string_view what) {
  std::string content = text(element, what);
  auto raw = trim(content);
  std::string_view digits = withoutPlus(raw);
  Int value{};
  if (digits.empty()) fail("<" + std::string(what) + "> '" + std::string(raw) + "' is not an integer");
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) {
    fail("<" + std::string(what) + "> '" + std::string(raw) + "' is out of range for " +
         std::to_string(sizeof(Int) * 8) + " bits");
  }
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    fail("<" + std::string(what) + "> '" + std::string(raw) + "' is not an integer");
  }
  return value;
}

double parseDouble(const Var& element) {
  std::string content = text(element, "double");
  auto raw = trim(content);
  std::string_view digits = withoutPlus(raw);
  // from_chars would take "inf" and "nan"; XML-RPC has neither.
  if (digits.empty() || digits.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
    fail("<double> '" + std::string(raw) + "' is not a number");
  }
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || !std::isfinite(value)) {
    fail("<double> '" + std::string(raw) + "' is not a finite number");
  }
  return value;
}

bool parseBoolean(const Var& element) {
  std::string content = text(element, "boolean");
  auto raw = trim(content);
  if (raw == "1") return true;
  if (raw == "0") return false;
  fail("<boolean> must be 0 or 1, not '" + std::string(raw) + "'");
}

// ISO 8601 in XML-RPC's loose form, e.g. 19980717T14:08:55 or 2024-01-31T10:00:00Z;
// checked only for its characters and a date then a 'T'.
bool isDateTime(std::string_view text) {
  return text.size() >= 4 && text.size() <= kMaxDateTime && text.find('T') != std::string_view::npos &&
         text.substr(0, 4).find_first_not_of("0123456789") == std::string_view::npos &&
         text.find_first_not_of("0123456789-:+.TZ") == std::string_view::npos;
}

// Kept as written, without surrounding whitespace.
std::string parseDateTime(const Var& element) {
  std::string content = text(element, "dateTime.iso8601");
  auto raw = trim(content);
  if (!isDateTime(raw)) fail("<dateTime.iso8601> '" + std::string(raw) + "' is not a date and time");
  return std::string(raw);
}

// One member {tag: value}: how a type JSON lacks travels in the JSON shape.
ObjectPtr tagged(std::string_view tag, Var value) {
  ObjectPtr out = new Poco::JSON::Object(true);
  out->set(std::string(tag), std::move(value));
  return out;
}

// The tag of a one-member object whose name is one of the three, else empty.
std::string_view tagOf(const Poco::JSON::Object& object) {
  if (object.size() != 1) return {};
  auto name = object.getNames().front();
  for (auto tag : {kDateTimeTag, kBase64Tag, kStructTag}) {
    if (name == tag) return tag;
  }
  return {};
}

// The base64 text, whitespace removed, checked but not decoded.
std::string parseBase64(const Var& element) {
  std::string out;
  for (char c : text(element, "base64")) {
    if (kWhitespace.find(c) == std::string_view::npos) out.push_back(c);
  }
  if (!codecs::fromBase64(out)) fail("<base64> is not valid base64");
  return out;
}

Var parseValue(const Var& value);

Var parseStruct(const Var& element) {
  ObjectPtr out = new Poco::JSON::Object(true);
  if (isEmptyText(element)) return out;
  auto object = children(element, "struct", {"member"});
  for (const auto& member : occurrences(object, "member")) {
    auto parts = children(member, "member", {"name", "value"});
    std::string name = text(single(parts, "name", "member"), "name");
    if (out->has(name)) fail("<struct> with two members named '" + name + "'");
    out->set(name, parseValue(single(parts, "value", "member")));
  }
  // A struct that would read as a tag is wrapped, so that it stays a struct.
  if (!tagOf(*out).empty()) return tagged(kStructTag, out);
  return out;
}

Var parseArray(const Var& element) {
  ArrayPtr out = new Poco::JSON::Array;
  auto array = children(element, "array", {"data"});
  Var data = single(array, "data", "array");
  if (isEmptyText(data)) return out;
  for (const auto& item : occurrences(children(data, "data", {"value"}), "value")) out->add(parseValue(item));
  return out;
}

// One <value>: untyped text is a string; otherwise exactly one typed child.
Var parseValue(const Var& value) {
  if (value.isString()) return value.extract<std::string>();
  if (!isObject(value)) fail("malformed <value>");
  const auto& object = *value.extract<ObjectPtr>();
  auto names = object.getNames();
  for (const auto& key : names) {
    if (key.starts_with('@')) fail("<value> must not have attributes ('" + key.substr(1) + "')");
    if (key == codecs::kXmlTextKey) fail("<value> must not hold text beside a typed value");
    if (key == codecs::kXmlContentKey) {
      if (!trim(codecs::xmlText(value)).empty()) fail("<value> must not hold text beside a typed value");
      fail("<value> must hold exactly one typed value, not several");
    }
  }
  if (names.size() != 1) fail("<value> must hold exactly one typed value, not " + std::to_string(names.size()));
  const std::string& type = names.front();
  Var typed = object.get(type);
  if (isArray(typed)) fail("<value> must hold exactly one typed value, not several <" + type + ">");
  if (type == "int" || type == "i4") return parseInteger<std::int32_t>(typed, type);
  if (type == "i8") return parseInteger<std::int64_t>(typed, type);
  if (type == "boolean") return parseBoolean(typed);
  if (type == "string") return text(typed, "string");
  if (type == "double") return parseDouble(typed);
  if (type == "dateTime.iso8601") return tagged(kDateTimeTag, parseDateTime(typed));
  if (type == "base64") return tagged(kBase64Tag, parseBase64(typed));
  if (type == "struct") return parseStruct(typed);
  if (type == "array") return parseArray(typed);
  if (type == "nil") {
    if (!isEmptyText(typed)) fail("<nil/> must be empty");
    return Var();
  }
  fail("unknown value type <" + type + ">");
}

bool isMethodNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '/';
}

// The root element's content, after decoding through the XML codec; fails when the
// document is bad or its root is not `root`.
Var rootContent(std::string_view xml, const codecs::PayloadLimits& limits, const std::string& root) {
  auto decoded = codecs::xmlCodec().decode(xml, limits);
  if (!decoded.ok()) fail(decoded.error);
  const auto& document = *decoded.value.extract<ObjectPtr>();
  if (!document.has(root)) fail("the root element must be <" + root + ">, not <" + document.getNames().front() + ">");
  return document.get(root);
}

// Appends text as XML character data. Characters XML 1.0 cannot carry (controls other
// than tab, LF, CR; bad UTF-8) throw std::invalid_argument, or become U+FFFD when
// replace is set.
void appendText(std::string_view text, std::string& out, bool replace) {
  auto bad = [&](const char* why) {
    if (!replace) throw std::invalid_argument(std::string("xmlrpc: ") + why);
    out += kReplacement;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    auto byte = static_cast<unsigned char>(c);
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '\r') {
      out += "&#13;";  // a raw CR would be read back as LF
    } else if (byte < 0x20 && c != '\n' && c != '\t') {
      bad("a control character has no XML 1.0 form");
    } else if (byte >= 0x80) {
      std::size_t length = (byte & 0xE0) == 0xC0 ? 2 : (byte & 0xF0) == 0xE0 ? 3 : (byte & 0xF8) == 0xF0 ? 4 : 0;
      bool good = length != 0 && length <= text.size() - i;
      for (std::size_t k = 1; good && k < length; ++k) good = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      if (!good) {
        bad("text is not valid UTF-8");
      } else {
        out.append(text.substr(i, length));
        i += length;
        continue;
      }
    } else {
      out.push_back(c);
    }
    ++i;
  }
}

void formatValue(const Var& value, std::string& out, std::size_t depth);

void formatMembers(const Poco::JSON::Object& object, std::string& out, std::size_t depth) {
  out += "<struct>";
  for (const auto& name : object.getNames()) {
    out += "<member><name>";
    appendText(name, out, false);
    out += "</name>";
    formatValue(object.get(name), out, depth + 1);
    out += "</member>";
  }
  out += "</struct>";
}

std::string tagText(const Var& value, std::string_view tag) {
  if (!value.isString()) throw std::invalid_argument("xmlrpc: " + std::string(tag) + " must be a string");
  return value.extract<std::string>();
}

// An object: a tagged value (dateTime, base64, a wrapped struct) or a struct.
void formatStruct(const Poco::JSON::Object& object, std::string& out, std::size_t depth) {
  auto tag = tagOf(object);
  if (tag.empty()) return formatMembers(object, out, depth);
  Var inner = object.get(std::string(tag));
  if (tag == kStructTag) {
    if (inner.type() == typeid(ObjectPtr) && !inner.extract<ObjectPtr>().isNull()) {
      return formatMembers(*inner.extract<ObjectPtr>(), out, depth + 1);
    }
    if (inner.type() == typeid(Poco::JSON::Object)) {
      return formatMembers(inner.extract<Poco::JSON::Object>(), out, depth + 1);
    }
    throw std::invalid_argument("xmlrpc: " + std::string(kStructTag) + " must be an object");
  }
  std::string written = tagText(inner, tag);
  if (tag == kDateTimeTag) {
    if (!isDateTime(written)) throw std::invalid_argument("xmlrpc: '" + written + "' is not a date and time");
    out += "<dateTime.iso8601>" + written + "</dateTime.iso8601>";
    return;
  }
  if (!codecs::fromBase64(written)) {
    throw std::invalid_argument("xmlrpc: " + std::string(kBase64Tag) + " is not valid base64");
  }
  out += "<base64>";
  for (char c : written) {
    if (kWhitespace.find(c) == std::string_view::npos) out.push_back(c);
  }
  out += "</base64>";
}

void formatArray(const Poco::JSON::Array& array, std::string& out, std::size_t depth) {
  out += "<array><data>";
  for (std::size_t i = 0; i < array.size(); ++i) formatValue(array.get(static_cast<unsigned int>(i)), out, depth + 1);
  out += "</data></array>";
}

void formatInteger(const Var& value, std::string& out) {
  std::int64_t number = 0;
  if (value.isSigned()) {
    number = value.convert<std::int64_t>();
  } else {
    auto unsignedNumber = value.convert<std::uint64_t>();
    if (unsignedNumber > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw std::invalid_argument("xmlrpc: " + std::to_string(unsignedNumber) + " does not fit in 64 bits signed");
    }
    number = static_cast<std::int64_t>(unsignedNumber);
  }
  bool fits32 = number >= std::numeric_limits<std::int32_t>::min() && number <= std::numeric_limits<std::int32_t>::max();
  out += fits32 ? "<int>" : "<i8>";
  out += std::to_string(number);
  out += fits32 ? "</int>" : "</i8>";
}

void formatDouble(double number, std::string& out) {
  if (!std::isfinite(number)) throw std::invalid_argument("xmlrpc: NaN and infinities have no XML-RPC form");
  // The spec allows decimal point notation only: the shortest fixed form that reads back.
  std::array<char, kDoubleBuffer> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number, std::chars_format::fixed);
  if (ec != std::errc{}) throw std::invalid_argument("xmlrpc: cannot write a double");
  out += "<double>";
  out.append(buffer.data(), end);
  out += "</double>";
}

void formatValue(const Var& value, std::string& out, std::size_t depth) {
  if (depth > kMaxFormatDepth) throw std::invalid_argument("xmlrpc: value nested too deep (or containing itself)");
  out += "<value>";
  const auto& type = value.type();
  if (value.isEmpty() || (type == typeid(ObjectPtr) && value.extract<ObjectPtr>().isNull()) ||
      (type == typeid(ArrayPtr) && value.extract<ArrayPtr>().isNull())) {
    out += "<nil/>";
  } else if (type == typeid(ObjectPtr)) {
    formatStruct(*value.extract<ObjectPtr>(), out, depth);
  } else if (type == typeid(Poco::JSON::Object)) {
    formatStruct(value.extract<Poco::JSON::Object>(), out, depth);
  } else if (type == typeid(ArrayPtr)) {
    formatArray(*value.extract<ArrayPtr>(), out, depth);
  } else if (type == typeid(Poco::JSON::Array)) {
    formatArray(value.extract<Poco::JSON::Array>(), out, depth);
  } else if (value.isBoolean()) {
    out += value.extract<bool>() ? "<boolean>1</boolean>" : "<boolean>0</boolean>";
  } else if (value.isInteger()) {
    formatInteger(value, out);
  } else if (value.isNumeric()) {
    formatDouble(value.convert<double>(), out);
  } else if (value.isString()) {
    out += "<string>";
    appendText(value.extract<std::string>(), out, false);
    out += "</string>";
  } else {
    throw std::invalid_argument(std::string("xmlrpc: a value of type ") + type.name() + " has no XML-RPC form");
  }
  out += "</value>";
}

constexpr std::string_view kDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

}  // namespace

MethodCallResult parseMethodCall(std::string_view xml, const codecs::PayloadLimits& limits) {
  try {
    auto call = children(rootContent(xml, limits, "methodCall"), "methodCall", {"methodName", "params"});
    std::string method = text(single(call, "methodName", "methodCall"), "methodName");
    if (method.empty()) fail("<methodName> is empty");
    if (method.size() > kMaxMethodName) fail("<methodName> is longer than " + std::to_string(kMaxMethodName));
    for (char c : method) {
      if (!isMethodNameChar(c)) fail("<methodName> '" + method + "' has characters outside [A-Za-z0-9_.:/]");
    }
    ArrayPtr params = new Poco::JSON::Array;
    auto paramsElements = occurrences(call, "params");
    if (paramsElements.size() > 1) fail("<methodCall> with more than one <params>");
    if (!paramsElements.empty() && !isEmptyText(paramsElements.front())) {
      for (const auto& param : occurrences(children(paramsElements.front(), "params", {"param"}), "param")) {
        params->add(parseValue(single(children(param, "param", {"value"}), "value", "param")));
      }
    }
    return {MethodCall{std::move(method), params}, {}};
  } catch (const Invalid& invalid) {
    return {std::nullopt, "xmlrpc: " + invalid.text};
  }
}

std::string formatMethodResponse(const Poco::Dynamic::Var& value) {
  std::string out(kDeclaration);
  out += "<methodResponse><params><param>";
  formatValue(value, out, 0);
  out += "</param></params></methodResponse>";
  return out;
}

std::string formatFault(int code, const std::string& text) {
  std::string out(kDeclaration);
  out += "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>";
  out += std::to_string(code);
  out += "</int></value></member><member><name>faultString</name><value><string>";
  appendText(text, out, true);
  out += "</string></value></member></struct></value></fault></methodResponse>";
  return out;
}

MethodResponse parseMethodResponse(std::string_view xml, const codecs::PayloadLimits& limits) {
  MethodResponse response;
  try {
    auto root = children(rootContent(xml, limits, "methodResponse"), "methodResponse", {"params", "fault"});
    if (root->has("fault")) {
      if (root->has("params")) fail("<methodResponse> with both <params> and <fault>");
      Var fault = parseValue(single(children(single(root, "fault", "methodResponse"), "fault", {"value"}), "value",
                                    "fault"));
      if (!isObject(fault)) fail("<fault> must hold a <struct>");
      const auto& members = *fault.extract<ObjectPtr>();
      Var code = members.get("faultCode");
      Var faultText = members.get("faultString");
      if (code.type() != typeid(std::int32_t) || !faultText.isString()) {
        fail("<fault> needs an int faultCode and a string faultString");
      }
      response.fault = true;
      response.faultCode = code.extract<std::int32_t>();
      response.faultString = faultText.extract<std::string>();
      return response;
    }
    auto params = children(single(root, "params", "methodResponse"), "params", {"param"});
    response.value = parseValue(single(children(single(params, "param", "params"), "param", {"value"}), "value",
                                       "param"));
  } catch (const Invalid& invalid) {
    response = MethodResponse{};
    response.error = "xmlrpc: " + invalid.text;
  }
  return response;
}

}  // namespace strata::integrations::xml
