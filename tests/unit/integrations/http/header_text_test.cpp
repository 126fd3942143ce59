#include <gtest/gtest.h>

#include <strata/integrations/http/header_text.h>

namespace strata::integrations::http {
namespace {

TEST(HeaderText, AcceptsTokenNamesAndVisibleValues) {
  EXPECT_TRUE(isHeaderName("Content-Type"));
  EXPECT_TRUE(isHeaderName("x-a.b_c~1"));
  EXPECT_TRUE(isHeaderValue("text/plain; charset=utf-8"));
  EXPECT_TRUE(isHeaderValue("a\tb"));
  EXPECT_TRUE(isHeaderValue(""));
}

TEST(HeaderText, RefusesCrLfNulAndSeparators) {
  EXPECT_FALSE(isHeaderName(""));
  EXPECT_FALSE(isHeaderName("X-A: b"));
  EXPECT_FALSE(isHeaderName("X\r\nSet-Cookie"));
  EXPECT_FALSE(isHeaderName(std::string_view("X\0A", 3)));
  EXPECT_FALSE(isHeaderValue("text/plain\r\nSet-Cookie: a=b"));
  EXPECT_FALSE(isHeaderValue("a\nb"));
  EXPECT_FALSE(isHeaderValue("a\rb"));
  EXPECT_FALSE(isHeaderValue(std::string_view("a\0b", 3)));
  EXPECT_FALSE(isHeaderValue("caf\xc3\xa9"));
}

}  // namespace
}  // namespace strata::integrations::http
