// The application/xml payload codec on Poco::XML's SAX parser (expat), mapping XML to
// and from the JSON shape of <strata/codecs/payload.h>.
//
// The convention (integrations/xml/DOC.md has it with examples):
//   decode  The document is an object with one member: the root element's name, whose
//           value is the root element's value. An element with neither attributes nor
//           child elements is its text, a string ("" when empty). Any other element is
//           an object: each attribute as "@name" (a string), each child element under its
//           name, a name that occurs more than once as an array of the values in document
//           order, and the text as "#text" (all its pieces joined) unless the element has
//           child elements and the text is only whitespace. Names are kept as written,
//           prefixes included ("x:item", "@xmlns:x"); comments and processing
//           instructions are dropped; CDATA is text. Every value is a string.
//   encode  The reverse: an object with exactly one member (the root). Strings, numbers
//           and booleans are text, null (or {} or "") an empty element, "@name" members
//           attributes (scalars only), "#text" text, an array repeated elements of its
//           member's name (not inside another array), other objects child elements.
//   Round trips keep names, attributes, text and the order of elements of one name;
//   they lose the interleaving of different names, comments, whitespace between
//   elements, numbers' and booleans' types, null (becomes ""), and one-element arrays
//   (become the element).
//
// Security: external entities are off, and a document with a DOCTYPE is refused
// outright when the parser reports it, before any declaration in it is read: no DTD means
// no entity of any kind, so XXE, billion laughs and quadratic blowup cannot start. The
// size cap is checked before parsing, the depth and member caps while parsing: an element
// with more than limits.maxMembers attributes plus child elements stops the parse when
// the next one is read (Poco's ordered Object makes each insert scan every key).
#include <strata/codecs/payload.h>

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/DefaultHandler.h>
#include <Poco/SAX/LexicalHandler.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/SAXParser.h>

namespace strata::codecs {

namespace {

constexpr std::string_view kAttributePrefix = "@";
constexpr std::string_view kTextKey = "#text";
// Deeper values are refused by encode (and a value that contains itself stops there).
constexpr std::size_t kMaxEncodeDepth = 1000;

// Thrown from the SAX handler to stop expat at once; caught in decode and turned into
// the error value. Not an exception of Poco's, so it cannot be mistaken for one.
struct Refusal {
  std::string text;
};

bool isWhitespace(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Builds the JSON shape while expat reads; refuses DTDs, nesting past maxDepth, and an
// element with more than maxMembers attributes plus child elements.
class ShapeBuilder final : public Poco::XML::DefaultHandler, public Poco::XML::LexicalHandler {
 public:
  ShapeBuilder(std::size_t maxDepth, std::size_t maxMembers) : maxDepth_(maxDepth), maxMembers_(maxMembers) {}

  Poco::Dynamic::Var result() const { return result_; }

  void startElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString& qname,
                    const Poco::XML::Attributes& attributes) override {
    if (open_.size() >= maxDepth_) throw Refusal{"xml: nesting deeper than " + std::to_string(maxDepth_)};
    if (!open_.empty() && ++open_.back().memberCount > maxMembers_) tooManyMembers(open_.back().name);
    auto attributeCount = static_cast<std::size_t>(attributes.getLength());
    if (attributeCount > maxMembers_) tooManyMembers(qname);
    Open element{qname, {}, {}, false, attributeCount};
    for (int i = 0; i < attributes.getLength(); ++i) {
      object(element)->set(std::string(kAttributePrefix) + attributes.getQName(i), attributes.getValue(i));
    }
    open_.push_back(std::move(element));
  }

  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {
    Open element = std::move(open_.back());
    open_.pop_back();
    Poco::Dynamic::Var value;
    if (element.members.isNull()) {
      value = element.text;
    } else {
      bool keepText = element.hasChildren ? !isWhitespace(element.text) : !element.text.empty();
      if (keepText) element.members->set(std::string(kTextKey), element.text);
      value = element.members;
    }
    if (open_.empty()) {
      Poco::JSON::Object::Ptr root = new Poco::JSON::Object(true);
      root->set(element.name, value);
      result_ = root;
      return;
    }
    Open& parent = open_.back();
    parent.hasChildren = true;
    auto members = object(parent);
    if (!members->has(element.name)) {
      members->set(element.name, value);
      return;
    }
    // A decoded element value is never an array, so an array here is a repeated name.
    Poco::Dynamic::Var existing = members->get(element.name);
    if (existing.type() == typeid(Poco::JSON::Array::Ptr)) {
      Poco::JSON::Array::Ptr repeated = existing.extract<Poco::JSON::Array::Ptr>();
      repeated->add(value);  // the array is shared with members: this adds in place
    } else {
      Poco::JSON::Array::Ptr repeated = new Poco::JSON::Array;
      repeated->add(existing);
      repeated->add(value);
      members->set(element.name, repeated);
    }
  }

  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (!open_.empty()) open_.back().text.append(ch + start, static_cast<std::size_t>(length));
  }

  void startDTD(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {
    throw Refusal{"xml: documents with a DOCTYPE are refused (no DTDs, no entities)"};
  }
  void endDTD() override {}
  void startEntity(const Poco::XML::XMLString&) override {}
  void endEntity(const Poco::XML::XMLString&) override {}
  void startCDATA() override {}
  void endCDATA() override {}
  void comment(const Poco::XML::XMLChar[], int, int) override {}

 private:
  struct Open {
    std::string name;
    Poco::JSON::Object::Ptr members;  // null until an attribute or child element appears
    std::string text;
    bool hasChildren;
    std::size_t memberCount;  // attributes plus child elements read so far
  };

  [[noreturn]] void tooManyMembers(const std::string& name) const {
    throw Refusal{"xml: element <" + name + "> has more than " + std::to_string(maxMembers_) +
                  " attributes and child elements (PayloadLimits::maxMembers)"};
  }

  static Poco::JSON::Object::Ptr object(Open& element) {
    if (element.members.isNull()) element.members = new Poco::JSON::Object(true);
    return element.members;
  }

  std::size_t maxDepth_;
  std::size_t maxMembers_;
  std::vector<Open> open_;
  Poco::Dynamic::Var result_;
};

// An XML 1.0 Name, restricted to ASCII for the first and following characters except
// that any non-ASCII UTF-8 byte is allowed (the parser of the reader checks the rest).
bool isXmlName(std::string_view name) {
  if (name.empty()) return false;
  auto startChar = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
  };
  if (!startChar(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (!startChar(byte) && !(byte >= '0' && byte <= '9') && byte != '-' && byte != '.') return false;
  }
  return true;
}

// Text as XML character data: escapes markup, keeps CR, LF and tab from being
// normalised away, refuses the control characters XML 1.0 cannot carry and bad UTF-8.
void appendEscaped(std::string_view text, std::string& out, bool attribute) {
  constexpr unsigned char kFirstPrintable = 0x20;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      case '\r': out += "&#13;"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      default:
        if (byte < kFirstPrintable) throw std::invalid_argument("xml: control character in text has no XML 1.0 form");
        if (byte >= 0x80) {
          std::size_t length = (byte & 0xE0) == 0xC0 ? 2 : (byte & 0xF0) == 0xE0 ? 3 : (byte & 0xF8) == 0xF0 ? 4 : 0;
          if (length == 0 || length > text.size() - i) throw std::invalid_argument("xml: text is not valid UTF-8");
          for (std::size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
              throw std::invalid_argument("xml: text is not valid UTF-8");
            }
          }
          out.append(text.substr(i, length));
          i += length;
          continue;
        }
        out.push_back(c);
    }
    ++i;
  }
}

bool isObject(const Poco::Dynamic::Var& value) { return value.type() == typeid(Poco::JSON::Object::Ptr); }
bool isArray(const Poco::Dynamic::Var& value) { return value.type() == typeid(Poco::JSON::Array::Ptr); }

// The text of a scalar; throws for objects, arrays and types JSON does not have.
std::string scalarText(const Poco::Dynamic::Var& value) {
  if (value.isEmpty()) return {};
  if (value.isBoolean()) return value.extract<bool>() ? "true" : "false";
  if (value.isInteger()) return value.convert<std::string>();
  if (value.isNumeric()) {
    double number = value.convert<double>();
    if (!std::isfinite(number)) throw std::invalid_argument("xml: NaN and infinities have no form");
    std::array<char, 32> buffer{};
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
    if (ec != std::errc{}) throw std::invalid_argument("xml: cannot write a number");
    return std::string(buffer.data(), end);
  }
  if (value.isString()) return value.extract<std::string>();
  throw std::invalid_argument(std::string("xml: a value of type ") + value.type().name() + " has no XML form");
}

void writeElement(const std::string& name, const Poco::Dynamic::Var& value, std::string& out, std::size_t depth);

void writeChildren(const std::string& name, const Poco::Dynamic::Var& value, std::string& out, std::size_t depth) {
  if (!isArray(value)) {
    writeElement(name, value, out, depth);
    return;
  }
  auto array = value.extract<Poco::JSON::Array::Ptr>();
  if (array.isNull()) return;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto& item = array->get(static_cast<unsigned int>(i));
    if (isArray(item)) throw std::invalid_argument("xml: an array inside an array has no XML form ('" + name + "')");
    writeElement(name, item, out, depth);
  }
}

void writeElement(const std::string& name, const Poco::Dynamic::Var& value, std::string& out, std::size_t depth) {
  if (depth > kMaxEncodeDepth) throw std::invalid_argument("xml: value nested too deep (or containing itself)");
  if (!isXmlName(name)) throw std::invalid_argument("xml: '" + name + "' is not an XML name");
  out += '<';
  out += name;
  if (!isObject(value) || value.extract<Poco::JSON::Object::Ptr>().isNull()) {
    std::string text = scalarText(value);
    if (text.empty()) {
      out += "/>";
      return;
    }
    out += '>';
    appendEscaped(text, out, false);
    out += "</" + name + ">";
    return;
  }
  const auto& object = *value.extract<Poco::JSON::Object::Ptr>();
  auto names = object.getNames();
  std::string body;
  for (const auto& key : names) {
    const auto& member = object.get(key);
    if (key.starts_with(kAttributePrefix)) {
      std::string attribute = key.substr(kAttributePrefix.size());
      if (!isXmlName(attribute)) throw std::invalid_argument("xml: '" + attribute + "' is not an attribute name");
      if (isObject(member) || isArray(member)) {
        throw std::invalid_argument("xml: attribute '" + attribute + "' must be a scalar");
      }
      out += ' ' + attribute + "=\"";
      appendEscaped(scalarText(member), out, true);
      out += '"';
    } else if (key == kTextKey) {
      if (isObject(member) || isArray(member)) throw std::invalid_argument("xml: '#text' must be a scalar");
      appendEscaped(scalarText(member), body, false);
    }
  }
  for (const auto& key : names) {
    if (key.starts_with(kAttributePrefix) || key == kTextKey) continue;
    writeChildren(key, object.get(key), body, depth + 1);
  }
  if (body.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  out += body;
  out += "</" + name + ">";
}

class XmlCodec final : public PayloadCodec {
 public:
  std::string_view contentType() const override { return kXmlType; }

  PayloadResult decode(std::string_view bytes, const PayloadLimits& limits) const override {
    if (bytes.size() > limits.maxBytes) {
      return PayloadResult::failure("xml: body of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                                    std::to_string(limits.maxBytes));
    }
    ShapeBuilder builder(limits.maxDepth, limits.maxMembers);
    try {
      Poco::XML::SAXParser parser;
      parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, false);
      parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
      parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
      parser.setContentHandler(&builder);
      parser.setProperty(Poco::XML::XMLReader::PROPERTY_LEXICAL_HANDLER,
                         static_cast<Poco::XML::LexicalHandler*>(&builder));
      parser.parseMemoryNP(bytes.data(), bytes.size());
    } catch (const Refusal& refusal) {
      return PayloadResult::failure(refusal.text);
    } catch (const Poco::Exception& e) {
      return PayloadResult::failure("xml: not well-formed: " + e.message());
    } catch (const std::exception& e) {
      return PayloadResult::failure(std::string("xml: not well-formed: ") + e.what());
    }
    return {builder.result(), {}};
  }

  std::string encode(const Poco::Dynamic::Var& value) const override {
    if (!isObject(value) || value.extract<Poco::JSON::Object::Ptr>().isNull()) {
      throw std::invalid_argument("xml: the value must be an object with one member, the root element");
    }
    const auto& root = *value.extract<Poco::JSON::Object::Ptr>();
    if (root.size() != 1) {
      throw std::invalid_argument("xml: the value must be an object with one member (the root element), not " +
                                  std::to_string(root.size()));
    }
    auto name = root.getNames().front();
    const auto& body = root.get(name);
    if (isArray(body)) throw std::invalid_argument("xml: the root element cannot be an array");
    if (name.starts_with(kAttributePrefix) || name == kTextKey) {
      throw std::invalid_argument("xml: '" + name + "' cannot be the root element");
    }
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    writeElement(name, body, out, 0);
    return out;
  }
};

}  // namespace

const PayloadCodec& xmlCodec() {
  static const XmlCodec codec;
  return codec;
}

}  // namespace strata::codecs
