// XmlServices: the three services of the `xml` plug-in on good and hostile bodies.

#include <string>

#include <gtest/gtest.h>

#include <strata/integrations/xml/xml_services.h>

namespace strata::integrations::xml {
namespace {

using Failure = ServiceResult::Failure;

XmlServices services(std::size_t maxBytes = codecs::PayloadLimits::kDefaultMaxBytes,
                     std::size_t maxDepth = codecs::PayloadLimits::kDefaultMaxDepth) {
  codecs::PayloadLimits limits;
  limits.maxBytes = maxBytes;
  limits.maxDepth = maxDepth;
  return XmlServices(limits);
}

TEST(XmlServices, ToJsonAnswersTheShapeAsJson) {
  auto result = services().toJson("<order id=\"1\"><item>a</item><item>b</item></order>");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.contentType, "application/json");
  EXPECT_EQ(result.body, R"({"order":{"@id":"1","item":["a","b"]}})");
}

TEST(XmlServices, FromJsonTakesTheRootFromTheSingleKeyOrTheHeader) {
  auto fromKey = services().fromJson(R"({"note":{"@to":"Bo","#text":"hi"}})", std::nullopt);
  ASSERT_TRUE(fromKey.ok()) << fromKey.error;
  EXPECT_EQ(fromKey.contentType, "application/xml");
  EXPECT_EQ(fromKey.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><note to=\"Bo\">hi</note>");
  auto fromHeader = services().fromJson(R"({"a":1,"b":[true,false]})", "r");
  ASSERT_TRUE(fromHeader.ok()) << fromHeader.error;
  EXPECT_EQ(fromHeader.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><r><a>1</a><b>true</b><b>false</b></r>");
}

TEST(XmlServices, FromJsonRefusesWhatHasNoXmlForm) {
  auto twoKeys = services().fromJson(R"({"a":1,"b":2})", std::nullopt);
  EXPECT_EQ(twoKeys.failure, Failure::kMalformed);
  EXPECT_NE(twoKeys.error.find("one member"), std::string::npos) << twoKeys.error;
  auto badRoot = services().fromJson(R"("x")", "not a name");
  EXPECT_EQ(badRoot.failure, Failure::kMalformed);
  EXPECT_NE(badRoot.error.find("not an XML name"), std::string::npos) << badRoot.error;
  EXPECT_EQ(services().fromJson("{", std::nullopt).failure, Failure::kMalformed);
  EXPECT_EQ(services().fromJson("[1]", "r").failure, Failure::kMalformed);
}

TEST(XmlServices, SelectAnswersTextsAsAJsonArray) {
  auto result = services().select("<o><i sku=\"A\"/><i sku=\"B&amp;C\"/></o>", "/o/i/@sku");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.contentType, "application/json");
  EXPECT_EQ(result.body, R"(["A","B&C"])");
  EXPECT_EQ(services().select("<o/>", "/o/none").body, "[]");
}

TEST(XmlServices, SelectRefusesAMissingOrBadPathBeforeParsing) {
  auto missing = services().select("<o/>", std::nullopt);
  EXPECT_EQ(missing.failure, Failure::kMalformed);
  EXPECT_NE(missing.error.find("xml-path"), std::string::npos) << missing.error;
  auto bad = services().select("not even xml", "//o");
  EXPECT_EQ(bad.failure, Failure::kMalformed);
  EXPECT_NE(bad.error.find("path '//o'"), std::string::npos) << bad.error;
}

TEST(XmlServices, RefusesOversizedBodiesAsTooLarge) {
  auto small = services(16);
  std::string big = "<a>" + std::string(20, 'x') + "</a>";
  EXPECT_EQ(small.toJson(big).failure, Failure::kTooLarge);
  EXPECT_EQ(small.select(big, "/a").failure, Failure::kTooLarge);
  auto json = small.fromJson(R"({"a":")" + std::string(20, 'x') + "\"}", std::nullopt);
  EXPECT_EQ(json.failure, Failure::kTooLarge);
  EXPECT_NE(json.error.find("exceeds the limit of 16"), std::string::npos) << json.error;
}

TEST(XmlServices, RefusesHostileDocumentsAsMalformed) {
  auto xxe = services().toJson("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>");
  EXPECT_EQ(xxe.failure, Failure::kMalformed);
  EXPECT_NE(xxe.error.find("DOCTYPE"), std::string::npos) << xxe.error;
  auto deep = services(1024, 3).toJson("<a><b><c><d/></c></b></a>");
  EXPECT_EQ(deep.failure, Failure::kMalformed);
  EXPECT_NE(deep.error.find("nesting deeper than 3"), std::string::npos) << deep.error;
  auto deepJson = services(1024, 3).fromJson(R"({"a":{"b":{"c":{"d":1}}}})", std::nullopt);
  EXPECT_EQ(deepJson.failure, Failure::kMalformed);
  EXPECT_EQ(services().toJson("<a>").failure, Failure::kMalformed);
}

}  // namespace
}  // namespace strata::integrations::xml
