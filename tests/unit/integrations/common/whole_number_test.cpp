#include <strata/integrations/common/whole_number.h>

#include <gtest/gtest.h>

namespace strata::integrations {
namespace {

TEST(WholeNumber, ReadsDecimalsWithinTheRange) {
  EXPECT_EQ(parseWholeNumber("0", 0, 10), 0);
  EXPECT_EQ(parseWholeNumber("10", 0, 10), 10);
  EXPECT_EQ(parseWholeNumber("+7", 0, 10), 7);
  EXPECT_EQ(parseWholeNumber("-3", -5, 5), -3);
}

TEST(WholeNumber, RefusesAnythingElse) {
  for (const char* text : {"", " 1", "1 ", "1.5", "0x10", "1e3", "ten", "+", "-", "++1", "11", "-1",
                           "99999999999999999999"}) {
    EXPECT_FALSE(parseWholeNumber(text, 0, 10)) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace strata::integrations
