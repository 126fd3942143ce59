// The application/xml payload codec on Poco::XML's SAX parser (expat), mapping XML to
// and from the JSON shape of <strata/codecs/payload.h>.
//
// The convention (docs/integrations.md has it with examples):
//   decode  The document is an object with one member: the root element's name, whose
//           value is the root element's value. An element with neither attributes nor
//           child elements is its text, a string ("" when empty). Any other element is
//           an object: each attribute as "@name" (a string), then either
//           - its child elements under their names, a name that occurs more than once as
//             an array of the values in document order, and the text as "#text" when the
//             element has no child elements (whitespace between child elements dropped);
//           - or, when text that is not whitespace sits beside child elements (mixed
//             content), or a name comes again after another (<a/><b/><a/>), "#content":
//             an array of the pieces in document order, each text a string (whitespace
//             too) and each child element a one-member object {name: value}.
//           Names are kept as written, prefixes included ("x:item", "@xmlns:x");
//           comments and processing instructions are dropped; CDATA is text. Every
//           value is a string.
//   encode  The reverse: an object with exactly one member (the root). Strings, numbers
//           and booleans are text, null (or {} or "") an empty element, "@name" members
//           attributes (scalars only), "#text" text, "#content" the element's pieces in
//           order, an array repeated elements of its member's name (not inside another
//           array), other objects child elements.
//   Round trips keep names, attributes, text, and the order of elements and text, so the
//   canonical form (C14N) of a document without comments or processing instructions
//   comes back, except for whitespace between the child elements of an element in the
//   first form; they lose comments, numbers' and booleans' types, null (becomes ""),
//   and one-element arrays (become the element).
//
// Security: external entities are off, and a document with a DOCTYPE is refused
// outright when the parser reports it, before any declaration in it is read: no DTD means
// no entity of any kind, so XXE, billion laughs and quadratic blowup cannot start. The
// size cap is checked before parsing, the depth and member caps while parsing: an element
// with more than limits.maxMembers attributes plus child elements stops the parse when
// the next one is read (Poco's ordered Object makes each insert scan every key).
#include <strata/codecs/payload.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_set>
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
constexpr std::string_view kTextKey = kXmlTextKey;
constexpr std::string_view kContentKey = kXmlContentKey;
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
    if (!open_.empty()) {
      Open& parent = open_.back();
      if (++parent.memberCount > maxMembers_) tooManyMembers(parent.name);
      parent.endText();
    }
    auto attributeCount = static_cast<std::size_t>(attributes.getLength());
    if (attributeCount > maxMembers_) tooManyMembers(qname);
    Open element;
    element.name = qname;
    element.memberCount = attributeCount;
    if (attributeCount > 0) element.attributes = new Poco::JSON::Object(true);
    for (int i = 0; i < attributes.getLength(); ++i) {
      element.attributes->set(std::string(kAttributePrefix) + attributes.getQName(i), attributes.getValue(i));
    }
    open_.push_back(std::move(element));
  }

  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {
    Open element = std::move(open_.back());
    open_.pop_back();
    element.endText();
    Poco::Dynamic::Var value = element.value();
    if (open_.empty()) {
      Poco::JSON::Object::Ptr root = new Poco::JSON::Object(true);
      root->set(element.name, value);
      result_ = root;
      return;
    }
    open_.back().children.emplace_back(std::move(element.name), std::move(value));
  }

  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (!open_.empty()) open_.back().pending.append(ch + start, static_cast<std::size_t>(length));
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
  // An element being read: its attributes, its children in order, and its text pieces,
  // each with the number of children before it.
  struct Open {
    std::string name;
    Poco::JSON::Object::Ptr attributes;  // null when it has none
    std::vector<std::pair<std::string, Poco::Dynamic::Var>> children;
    std::vector<std::pair<std::size_t, std::string>> texts;
    std::string pending;      // text since the last child started or ended
    std::size_t memberCount;  // attributes plus child elements read so far

    void endText() {
      if (pending.empty()) return;
      texts.emplace_back(children.size(), std::move(pending));
      pending.clear();
    }

    std::string joinedText() const {
      std::string text;
      for (const auto& [position, piece] : texts) text += piece;
      return text;
    }

    // Mixed content, or a name that comes again after another: only "#content" keeps the order.
    bool needsContent() const {
      if (children.empty()) return false;
      for (const auto& [position, text] : texts) {
        if (!isWhitespace(text)) return true;
      }
      std::unordered_set<std::string_view> before;  // names of the runs before the current one
      for (std::size_t i = 1; i < children.size(); ++i) {
        if (children[i].first == children[i - 1].first) continue;
        before.insert(children[i - 1].first);
        if (before.contains(children[i].first)) return true;
      }
      return false;
    }

    Poco::Dynamic::Var value() {
      if (children.empty() && attributes.isNull()) return joinedText();
      Poco::JSON::Object::Ptr out = attributes.isNull() ? Poco::JSON::Object::Ptr(new Poco::JSON::Object(true)) : attributes;
      if (needsContent()) {
        Poco::JSON::Array::Ptr content = new Poco::JSON::Array;
        std::size_t nextText = 0;
        for (std::size_t i = 0; i <= children.size(); ++i) {
          while (nextText < texts.size() && texts[nextText].first == i) content->add(texts[nextText++].second);
          if (i == children.size()) break;
          Poco::JSON::Object::Ptr child = new Poco::JSON::Object(true);
          child->set(children[i].first, children[i].second);
          content->add(child);
        }
        out->set(std::string(kContentKey), content);
        return out;
      }
      for (auto& [childName, childValue] : children) addChild(*out, childName, childValue);
      if (children.empty()) {
        auto text = joinedText();
        if (!text.empty()) out->set(std::string(kTextKey), text);
      }
      return out;
    }

    // A child under its name; a name seen before makes (or grows) an array, in order.
    static void addChild(Poco::JSON::Object& members, const std::string& childName, const Poco::Dynamic::Var& childValue) {
      if (!members.has(childName)) {
        members.set(childName, childValue);
        return;
      }
      // A decoded element value is never an array, so an array here is a repeated name.
      Poco::Dynamic::Var existing = members.get(childName);
      if (existing.type() == typeid(Poco::JSON::Array::Ptr)) {
        Poco::JSON::Array::Ptr repeated = existing.extract<Poco::JSON::Array::Ptr>();
        repeated->add(childValue);  // the array is shared with members: this adds in place
        return;
      }
      Poco::JSON::Array::Ptr repeated = new Poco::JSON::Array;
      repeated->add(existing);
      repeated->add(childValue);
      members.set(childName, repeated);
    }
  };

  [[noreturn]] void tooManyMembers(const std::string& name) const {
    throw Refusal{"xml: element <" + name + "> has more than " + std::to_string(maxMembers_) +
                  " attributes and child elements (PayloadLimits::maxMembers)"};
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
void writeContent(const std::string& name, const Poco::Dynamic::Var& content, std::string& out, std::size_t depth);

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

// "#content": text (scalars) and one-member objects {name: value}, written in order.
void writeContent(const std::string& name, const Poco::Dynamic::Var& content, std::string& out, std::size_t depth) {
  if (!isArray(content) || content.extract<Poco::JSON::Array::Ptr>().isNull()) {
    throw std::invalid_argument("xml: '#content' of <" + name + "> must be an array");
  }
  const auto& pieces = *content.extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& piece = pieces.get(static_cast<unsigned int>(i));
    if (isArray(piece)) throw std::invalid_argument("xml: an array in '#content' of <" + name + "> has no XML form");
    if (!isObject(piece)) {
      appendEscaped(scalarText(piece), out, false);
      continue;
    }
    const auto& child = *piece.extract<Poco::JSON::Object::Ptr>();
    if (child.size() != 1) {
      throw std::invalid_argument("xml: each element in '#content' of <" + name + "> is an object of one member");
    }
    auto childName = child.getNames().front();
    if (childName.starts_with(kAttributePrefix) || childName.starts_with('#')) {
      throw std::invalid_argument("xml: '" + childName + "' in '#content' of <" + name + "> is not an element name");
    }
    writeChildren(childName, child.get(childName), out, depth + 1);
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
    } else if (key == kContentKey) {
      if (names.size() != static_cast<std::size_t>(std::count_if(names.begin(), names.end(), [](const std::string& n) {
            return n.starts_with(kAttributePrefix) || n == kContentKey;
          }))) {
        throw std::invalid_argument("xml: '#content' holds all of <" + name + ">'s text and elements; no other members");
      }
      writeContent(name, member, body, depth);
    }
  }
  for (const auto& key : names) {
    if (key.starts_with(kAttributePrefix) || key == kTextKey || key == kContentKey) continue;
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

std::vector<Poco::Dynamic::Var> xmlChildren(const Poco::Dynamic::Var& element, std::string_view name) {
  std::vector<Poco::Dynamic::Var> out;
  if (!isObject(element) || element.extract<Poco::JSON::Object::Ptr>().isNull()) return out;
  const auto& object = *element.extract<Poco::JSON::Object::Ptr>();
  auto appendOccurrences = [&out](const Poco::Dynamic::Var& member) {
    if (!isArray(member)) {
      out.push_back(member);
      return;
    }
    const auto& array = *member.extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < array.size(); ++i) out.push_back(array.get(static_cast<unsigned int>(i)));
  };
  std::string key(name);
  if (!object.has(std::string(kContentKey))) {
    if (object.has(key)) appendOccurrences(object.get(key));
    return out;
  }
  auto content = object.get(std::string(kContentKey));
  if (!isArray(content)) return out;
  const auto& pieces = *content.extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& piece = pieces.get(static_cast<unsigned int>(i));
    if (!isObject(piece)) continue;
    const auto& child = *piece.extract<Poco::JSON::Object::Ptr>();
    if (child.has(key)) appendOccurrences(child.get(key));
  }
  return out;
}

std::string xmlText(const Poco::Dynamic::Var& element) {
  if (element.isString()) return element.extract<std::string>();
  if (!isObject(element) || element.extract<Poco::JSON::Object::Ptr>().isNull()) return {};
  const auto& object = *element.extract<Poco::JSON::Object::Ptr>();
  if (object.has(std::string(kTextKey))) return object.get(std::string(kTextKey)).convert<std::string>();
  std::string out;
  if (!object.has(std::string(kContentKey))) return out;
  auto content = object.get(std::string(kContentKey));
  if (!isArray(content)) return out;
  const auto& pieces = *content.extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& piece = pieces.get(static_cast<unsigned int>(i));
    if (!isObject(piece) && !isArray(piece) && !piece.isEmpty()) out += piece.convert<std::string>();
  }
  return out;
}

}  // namespace strata::codecs
