// The XML payload codec: the XML <-> JSON convention in both directions, exact bytes,
// round trips, and hostile documents (XXE, entity bombs, deep nesting, oversize,
// malformed) that must each come back as a clear error value with no effect.

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/codecs/payload.h>

namespace strata::codecs {
namespace {

using Poco::Dynamic::Var;

// The decoded value as compact JSON, which shows its exact shape and member order.
std::string shape(std::string_view xml, const PayloadLimits& limits = {}) {
  auto result = xmlCodec().decode(xml, limits);
  EXPECT_TRUE(result.ok()) << result.error << " for " << xml;
  if (!result.ok()) return "<error>";
  return jsonCodec().encode(result.value);
}

Var json(std::string_view text) {
  auto result = jsonCodec().decode(text);
  EXPECT_TRUE(result.ok()) << result.error;
  return result.value;
}

TEST(XmlCodec, FoundForBothXmlContentTypes) {
  EXPECT_EQ(findPayloadCodec("application/xml"), &xmlCodec());
  EXPECT_EQ(findPayloadCodec("text/xml; charset=UTF-8"), &xmlCodec());
  EXPECT_EQ(xmlCodec().contentType(), kXmlType);
}

TEST(XmlCodec, MapsElementsAttributesRepeatsAndText) {
  struct Case {
    const char* xml;
    const char* json;
  };
  std::vector<Case> cases = {
      {"<a/>", R"({"a":""})"},
      {"<a>text</a>", R"({"a":"text"})"},
      {"<a>  </a>", R"({"a":"  "})"},
      {"<a><b>1</b><c>2</c></a>", R"({"a":{"b":"1","c":"2"}})"},
      {"<a><b>1</b><b>2</b><c/></a>", R"({"a":{"b":["1","2"],"c":""}})"},
      // A name that comes again after another keeps the order in "#content".
      {"<a><b>1</b><c/><b>2</b><b>3</b></a>", R"({"a":{"#content":[{"b":"1"},{"c":""},{"b":"2"},{"b":"3"}]}})"},
      {"<a x=\"1\" y='2'/>", R"({"a":{"@x":"1","@y":"2"}})"},
      {"<a x=\"1\">t</a>", R"({"a":{"@x":"1","#text":"t"}})"},
      {"<a>\n  <b>1</b>\n</a>", R"({"a":{"b":"1"}})"},
      // Mixed content: text and elements in order, whitespace between them kept.
      {"<a>one<b/>two</a>", R"({"a":{"#content":["one",{"b":""},"two"]}})"},
      {"<p id=\"1\">text<b>bold</b> <i>it</i>tail</p>",
       R"({"p":{"@id":"1","#content":["text",{"b":"bold"}," ",{"i":"it"},"tail"]}})"},
      {"<a>\n <b/>\n <c/>\n <b/>\n</a>", R"({"a":{"#content":["\n ",{"b":""},"\n ",{"c":""},"\n ",{"b":""},"\n"]}})"},
      {"<a><![CDATA[<not> & markup]]></a>", R"({"a":"<not> & markup"})"},
      {"<a>&lt;&amp;&gt;&quot;&apos;&#233;&#x41;</a>", "{\"a\":\"<&>\\\"'\xC3\xA9\x41\"}"},
      {"<a><!-- gone --><?pi gone?>x</a>", R"({"a":"x"})"},
      {"<p:a xmlns:p=\"urn:x\"><p:b>1</p:b></p:a>", R"({"p:a":{"@xmlns:p":"urn:x","p:b":"1"}})"},
      {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>", "{\"a\":\"\xC3\xA9\"}"},
  };
  for (const auto& c : cases) EXPECT_EQ(shape(c.xml), c.json) << c.xml;
}

TEST(XmlCodec, EncodesExactBytes) {
  auto value = json(R"({"order":{"@id":"7","#text":"a&b","item":[{"@sku":"x\"1"},"two",3,true,null],"note":{}}})");
  EXPECT_EQ(xmlCodec().encode(value),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<order id=\"7\">a&amp;b<item sku=\"x&quot;1\"/><item>two</item><item>3</item><item>true</item><item/>"
            "<note/></order>");
}

TEST(XmlCodec, RoundTripsXmlThroughJson) {
  for (std::string xml : {
           "<a/>",
           "<order id=\"7\"><customer><name>Ann &amp; Bo</name></customer><items><item sku=\"A\">2</item>"
           "<item sku=\"B\">1</item></items></order>",
           "<a x=\"line&#10;break\ttab\">carriage&#13;return</a>",
           "<a><b><c><d>deep</d></c></b></a>",
           "<x:a xmlns:x=\"urn:a\"><x:b>1</x:b><x:b>2</x:b></x:a>",
           "<p>text<b>bold</b>tail</p>",
           "<p>a <b>b <i>c</i> d</b> e<br/>f</p>",
           "<list><a/><b>1</b><a>2</a><b/></list>",
       }) {
    auto once = xmlCodec().decode(xml);
    ASSERT_TRUE(once.ok()) << once.error;
    auto again = xmlCodec().decode(xmlCodec().encode(once.value));
    ASSERT_TRUE(again.ok()) << again.error;
    EXPECT_EQ(jsonCodec().encode(again.value), jsonCodec().encode(once.value)) << xml;
  }
}

TEST(XmlCodec, KeepsTheOrderOfMixedContent) {
  auto decoded = xmlCodec().decode("<p>text<b>bold</b>tail</p>");
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  EXPECT_EQ(xmlCodec().encode(decoded.value), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><p>text<b>bold</b>tail</p>");
  EXPECT_EQ(xmlCodec().encode(json(R"({"p":{"@x":"1","#content":["a",{"b":["1","2"]},2,{"c":{"@y":"z"}},"&"]}})")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><p x=\"1\">a<b>1</b><b>2</b>2<c y=\"z\"/>&amp;</p>");
}

TEST(XmlCodec, ReadsChildrenAndTextFromEitherForm) {
  for (std::string xml : {"<a><b>1</b><c>x</c><b>2</b></a>", "<a><b>1</b><b>2</b><c>x</c></a>"}) {
    auto root = xmlChildren(xmlCodec().decode(xml).value, "a");
    ASSERT_EQ(root.size(), 1u) << xml;
    auto b = xmlChildren(root[0], "b");
    ASSERT_EQ(b.size(), 2u) << xml;
    EXPECT_EQ(xmlText(b[1]), "2");
    EXPECT_EQ(xmlChildren(root[0], "c").size(), 1u);
    EXPECT_TRUE(xmlChildren(root[0], "d").empty());
  }
  auto mixed = xmlChildren(xmlCodec().decode("<p>text<b>bold</b>tail</p>").value, "p");
  EXPECT_EQ(xmlText(mixed.at(0)), "texttail");
  EXPECT_EQ(xmlText(xmlCodec().decode("<p x=\"1\">t</p>").value.extract<Poco::JSON::Object::Ptr>()->get("p")), "t");
}

TEST(XmlCodec, RoundTripsJsonOfStringsThroughXml) {
  for (std::string text : {R"({"a":{"@k":"v","b":["1","2"],"c":{"d":"x"}}})", R"({"r":"only text"})",
                           R"({"r":{"@a":"1","#text":"t"}})", "{\"r\":\"\u00e9\u4e2d<&>\"}"}) {
    auto decoded = xmlCodec().decode(xmlCodec().encode(json(text)));
    ASSERT_TRUE(decoded.ok()) << decoded.error;
    EXPECT_EQ(jsonCodec().encode(decoded.value), jsonCodec().encode(json(text)));
  }
}

struct Malformed {
  const char* name;
  std::string body;
  const char* error;  // a piece of the expected error text
};

TEST(XmlCodec, RefusesMalformedDocumentsWithClearErrors) {
  std::vector<Malformed> cases = {
      {"empty", "", "not well-formed"},
      {"truncated", "<a><b>", "not well-formed"},
      {"truncated tag", "<a><b", "not well-formed"},
      {"tag mismatch", "<a></b>", "mismatch"},
      {"junk after root", "<a/><b/>", "not well-formed"},
      {"text only", "hello", "not well-formed"},
      {"undefined entity", "<a>&nope;</a>", "ndefined entity"},
      {"bad character reference", "<a>&#0;</a>", "not well-formed"},
      {"duplicate attribute", "<a x=\"1\" x=\"2\"/>", "not well-formed"},
      {"unquoted attribute", "<a x=1/>", "not well-formed"},
      {"bad utf-8", "<a>\xC3\x28</a>", "not well-formed"},
      {"control character", "<a>\x01</a>", "not well-formed"},
  };
  for (const auto& c : cases) {
    auto result = xmlCodec().decode(c.body);
    EXPECT_FALSE(result.ok()) << c.name;
    EXPECT_NE(result.error.find(c.error), std::string::npos) << c.name << ": " << result.error;
    EXPECT_EQ(result.error.rfind("xml: ", 0), 0u) << c.name;
  }
}

constexpr const char* kDoctypeRefused = "documents with a DOCTYPE are refused";

TEST(XmlCodec, RefusesXxeWithoutReadingTheFile) {
  // The file exists and is readable, so only the refusal keeps its text out.
  std::ifstream passwd("/etc/passwd");
  ASSERT_TRUE(passwd.good());
  std::string firstLine;
  std::getline(passwd, firstLine);
  for (std::string xml : {
           "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><a>&xxe;</a>",
           "<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
           "<!DOCTYPE a [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><a/>",
       }) {
    auto result = xmlCodec().decode(xml);
    ASSERT_FALSE(result.ok()) << xml;
    EXPECT_NE(result.error.find(kDoctypeRefused), std::string::npos) << result.error;
    EXPECT_EQ(result.error.find(firstLine), std::string::npos);
    EXPECT_TRUE(result.value.isEmpty());
  }
}

TEST(XmlCodec, RefusesBillionLaughsAndQuadraticBlowup) {
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int level = 1; level <= 9; ++level) {
    std::string previous = level == 1 ? "lol" : "lol" + std::to_string(level - 1);
    laughs += "<!ENTITY lol" + std::to_string(level) + " \"";
    for (int i = 0; i < 10; ++i) laughs += "&" + previous + ";";
    laughs += "\">";
  }
  laughs += "]><lolz>&lol9;</lolz>";
  std::string blowup = "<!DOCTYPE q [<!ENTITY a \"" + std::string(50'000, 'a') + "\">]><q>";
  for (int i = 0; i < 10'000; ++i) blowup += "&a;";
  blowup += "</q>";
  for (const auto& xml : {laughs, blowup}) {
    auto result = xmlCodec().decode(xml);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error.find(kDoctypeRefused), std::string::npos) << result.error;
  }
}

TEST(XmlCodec, RefusesOversizedDocumentBeforeParsing) {
  PayloadLimits limits;
  limits.maxBytes = 32;
  // Not XML at all: the error must be about size, so the parser never ran.
  auto result = xmlCodec().decode(std::string(33, '<'), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("33 bytes exceeds the limit of 32"), std::string::npos) << result.error;
  EXPECT_TRUE(xmlCodec().decode("<a>0123456789012345678901234</a>", limits).ok());
}

std::string nested(std::size_t depth, bool closed) {
  std::string xml;
  for (std::size_t i = 0; i < depth; ++i) xml += "<e>";
  if (closed) {
    for (std::size_t i = 0; i < depth; ++i) xml += "</e>";
  }
  return xml;
}

TEST(XmlCodec, RefusesNestingPastMaxDepthAndAcceptsItExactly) {
  PayloadLimits limits;
  limits.maxDepth = 5;
  EXPECT_TRUE(xmlCodec().decode(nested(5, true), limits).ok());
  auto result = xmlCodec().decode(nested(6, true), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("nesting deeper than 5"), std::string::npos) << result.error;
}

TEST(XmlCodec, StopsAtMaxDepthInAHugeUnclosedDocument) {
  PayloadLimits limits;
  auto result = xmlCodec().decode(nested(limits.maxBytes / 4, false), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("nesting deeper than 64"), std::string::npos) << result.error;
}

// <r> with count children <k0/>..<k<count-1>/> (distinct names), or count <item/>.
std::string wideElement(std::size_t count, bool distinct) {
  std::string xml = "<r>";
  for (std::size_t i = 0; i < count; ++i) xml += distinct ? "<k" + std::to_string(i) + "/>" : std::string("<item/>");
  return xml + "</r>";
}

constexpr const char* kMembersRefused =
    "xml: element <r> has more than 10000 attributes and child elements (PayloadLimits::maxMembers)";

TEST(XmlCodec, RefusesAnElementOfFiftyThousandChildrenWithTheMemberLimit) {
  // 439 KB, within maxBytes; without the cap Poco's ordered Object spent seconds of CPU
  // on it (each insert scans every key).
  for (bool distinct : {true, false}) {
    auto result = xmlCodec().decode(wideElement(50'000, distinct));
    ASSERT_FALSE(result.ok()) << distinct;
    EXPECT_EQ(result.error, kMembersRefused);
  }
}

TEST(XmlCodec, RefusesAnElementOfFiftyThousandAttributesWithTheMemberLimit) {
  std::string xml = "<r";
  for (int i = 0; i < 50'000; ++i) xml += " a" + std::to_string(i) + "=\"\"";
  xml += "/>";
  auto result = xmlCodec().decode(xml);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, kMembersRefused);
}

TEST(XmlCodec, AcceptsAnElementOfExactlyMaxMembersInOrder) {
  ASSERT_EQ(PayloadLimits::kDefaultMaxMembers, 10'000u);
  auto result = xmlCodec().decode(wideElement(10'000, true));
  ASSERT_TRUE(result.ok()) << result.error;
  auto root = result.value.extract<Poco::JSON::Object::Ptr>()->getObject("r");
  ASSERT_EQ(root->size(), 10'000u);
  EXPECT_EQ(root->getNames().front(), "k0");
  EXPECT_EQ(root->getNames().back(), "k9999");
  auto repeated = xmlCodec().decode(wideElement(10'000, false));
  ASSERT_TRUE(repeated.ok()) << repeated.error;
  EXPECT_EQ(repeated.value.extract<Poco::JSON::Object::Ptr>()->getObject("r")->getArray("item")->size(), 10'000u);
}

TEST(XmlCodec, StopsParsingAtTheFirstChildPastTheLimit) {
  // Markup after the 10,001st child would be "not well-formed" if the parser read on.
  std::string xml = wideElement(10'001, true);
  xml.resize(xml.size() - std::string_view("</r>").size());
  xml += "<broken";
  auto result = xmlCodec().decode(xml);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, kMembersRefused);
}

TEST(XmlCodec, CountsAttributesAndChildrenPerElement) {
  PayloadLimits limits;
  limits.maxMembers = 2;
  EXPECT_EQ(shape(R"(<r a="1"><x b="1"><y/></x></r>)", limits), R"({"r":{"@a":"1","x":{"@b":"1","y":""}}})");
  EXPECT_EQ(shape(R"(<r><y/><y c="1" d="2"/></r>)", limits), R"({"r":{"y":["",{"@c":"1","@d":"2"}]}})");
  for (std::string xml : {R"(<r a="1" b="2"><x/></r>)", R"(<r><x/><y/><x/></r>)", R"(<r a="1" b="2" c="3"/>)"}) {
    auto result = xmlCodec().decode(xml, limits);
    ASSERT_FALSE(result.ok()) << xml;
    EXPECT_EQ(result.error, "xml: element <r> has more than 2 attributes and child elements (PayloadLimits::maxMembers)")
        << xml;
  }
  auto inner = xmlCodec().decode(R"(<r><x><y/><y/><y/></x></r>)", limits);
  EXPECT_NE(inner.error.find("element <x> has more than 2"), std::string::npos) << inner.error;
}

TEST(XmlCodec, EncodeRefusesValuesWithNoXmlForm) {
  std::vector<std::string> refused = {
      R"("text")",                       // not an object
      R"({"a":"1","b":"2"})",            // two roots
      R"({})",                           // no root
      R"({"a":["1","2"]})",              // an array root
      R"({"1a":"x"})",                   // not an XML name
      R"({"a":{"b c":"x"}})",            // not an XML name
      R"({"a":{"b":[["x"]]}})",          // array in array
      R"({"a":{"@x":{"y":"1"}}})",       // attribute not a scalar
      R"({"a":{"#text":["x"]}})",        // text not a scalar
      R"({"a":"bell\u0007"})",           // control character
      R"({"@a":"x"})",                   // attribute as root
      R"({"a":{"#content":"x"}})",       // content not an array
      R"({"a":{"#content":["x"],"b":"1"}})",   // content beside an element
      R"({"a":{"#content":["x"],"#text":"y"}})",  // content beside text
      R"({"a":{"#content":[["x"]]}})",   // an array in content
      R"({"a":{"#content":[{"b":"1","c":"2"}]}})",  // an element of two names
      R"({"a":{"#content":[{"@b":"1"}]}})",  // an attribute in content
      R"({"a":{"#content":[{"#text":"1"}]}})",  // text as an element
  };
  for (const auto& text : refused) EXPECT_THROW(xmlCodec().encode(json(text)), std::invalid_argument) << text;
  EXPECT_THROW(xmlCodec().encode(Var(std::string("x"))), std::invalid_argument);
}

}  // namespace
}  // namespace strata::codecs
