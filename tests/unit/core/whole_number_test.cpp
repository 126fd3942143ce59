// The one rule for whole-number settings, shared by the bus configuration, the plug-in
// SDK and the integrations.

#include <strata/core/whole_number.h>

#include <limits>

#include <gtest/gtest.h>

namespace strata::core {
namespace {

TEST(WholeNumber, ReadsDecimalsWithinTheRange) {
  EXPECT_EQ(parseWholeNumber("0", 0, 10), 0);
  EXPECT_EQ(parseWholeNumber("10", 0, 10), 10);
  EXPECT_EQ(parseWholeNumber("+7", 0, 10), 7);
  EXPECT_EQ(parseWholeNumber("-3", -5, 5), -3);
}

TEST(WholeNumber, RefusesAnythingElse) {
  for (const char* text : {"", " 1", "1 ", "1.5", "0x10", "1e3", "ten", "+", "-", "++1", "+-1", "--1", "11", "-1",
                           "99999999999999999999"}) {
    EXPECT_FALSE(parseWholeNumber(text, 0, 10)) << "'" << text << "'";
  }
}

TEST(WholeNumber, KeepsTheFullRangeOfItsType) {
  constexpr auto kMin = std::numeric_limits<long long>::min();
  constexpr auto kMax = std::numeric_limits<long long>::max();
  EXPECT_EQ(parseWholeNumber("9223372036854775807", kMin, kMax), kMax);
  EXPECT_EQ(parseWholeNumber("-9223372036854775808", kMin, kMax), kMin);
  EXPECT_FALSE(parseWholeNumber("9223372036854775808", kMin, kMax));
}

TEST(WholeNumber, NamesTheKeyTheRangeAndTheText) {
  EXPECT_EQ(wholeNumberProblem("strata.plugin.sql.pool", "many", 1, 64),
            "strata.plugin.sql.pool must be a whole number from 1 to 64, not 'many'");
}

}  // namespace
}  // namespace strata::core
