// XmlPath: the grammar it accepts and refuses, and what it selects from a document.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/codecs/payload.h>
#include <strata/integrations/xml/xml_path.h>

namespace strata::integrations::xml {
namespace {

const char* kOrder =
    "<order id=\"o-1\"><customer><name>Ann</name></customer>"
    "<items><item sku=\"A\">first</item><item sku=\"B\"><qty>2</qty>second</item><item>third</item></items>"
    "<items><item sku=\"C\">other</item></items></order>";

std::vector<std::string> select(const std::string& path, const std::string& xml = kOrder) {
  std::string error;
  auto parsed = XmlPath::parse(path, &error);
  EXPECT_TRUE(parsed.has_value()) << error;
  auto document = codecs::xmlCodec().decode(xml);
  EXPECT_TRUE(document.ok()) << document.error;
  if (!parsed || !document.ok()) return {"<error>"};
  return parsed->select(document.value);
}

using Texts = std::vector<std::string>;

TEST(XmlPath, SelectsElementsTextAttributesAndIndexes) {
  EXPECT_EQ(select("/order/customer/name"), (Texts{"Ann"}));
  EXPECT_EQ(select("/order/@id"), (Texts{"o-1"}));
  EXPECT_EQ(select("/order/items/item"), (Texts{"first", "second", "third", "other"}));
  EXPECT_EQ(select("/order/items/item[2]/@sku"), (Texts{"B"}));
  EXPECT_EQ(select("/order/items[1]/item[2]/qty"), (Texts{"2"}));
  EXPECT_EQ(select("/order/items/item/@sku"), (Texts{"A", "B", "C"}));  // the third has none
  EXPECT_EQ(select("/order/items[2]/item[1]"), (Texts{"other"}));
}

TEST(XmlPath, SelectsNothingWhenNothingMatches) {
  EXPECT_EQ(select("/order/items/item[9]"), Texts{});
  EXPECT_EQ(select("/other"), Texts{});
  EXPECT_EQ(select("/order/customer/name/@x"), Texts{});
  EXPECT_EQ(select("/order/customer/name/deeper"), Texts{});
}

TEST(XmlPath, GivesAnElementsOwnTextOnly) {
  EXPECT_EQ(select("/order/customer"), (Texts{""}));
  EXPECT_EQ(select("/a", "<a>x<b>inner</b>y</a>"), (Texts{"xy"}));
}

TEST(XmlPath, RefusesPathsOutsideTheGrammar) {
  std::vector<std::string> refused = {
      "",          "order",       "/",           "//item",          "/order//item", "/order/*",
      "/order/..", "/order/.",    "/a[0]",       "/a[01]",          "/a[-1]",       "/a[1",
      "/a[]",      "/a[x]",       "/a[last()]",  "/a[@id='1']",     "/a/@",         "/@id",
      "/a/@id/b",  "/a/text()",   "/1a",         "/a b",            "/a/@1x",       "/a[2000000]",
      "/a|/b",     "/a/",         std::string(XmlPath::kMaxLength + 1, 'a'),
  };
  std::string deep;
  for (std::size_t i = 0; i <= XmlPath::kMaxSteps; ++i) deep += "/a";
  refused.push_back(deep);
  for (const auto& path : refused) {
    std::string error;
    EXPECT_FALSE(XmlPath::parse(path, &error).has_value()) << path;
    EXPECT_EQ(error.rfind("path '", 0), 0u) << path << ": " << error;
  }
}

}  // namespace
}  // namespace strata::integrations::xml
