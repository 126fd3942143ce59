#include <strata/integrations/common/whole_number.h>

#include <gtest/gtest.h>

#include <strata/core/errors.h>

namespace strata::integrations {
namespace {

TEST(WholeNumberSetting, FallsBackOnlyWhenUnset) {
  EXPECT_EQ(wholeNumberSetting(std::nullopt, "k", 5, 1, 10), 5);
  EXPECT_EQ(wholeNumberSetting(std::string("7"), "k", 5, 1, 10), 7);
}

TEST(WholeNumberSetting, RefusesWithTheKeyTheUserWrote) {
  try {
    wholeNumberSetting(std::string("0"), "strata.plugin.sql.pool", 5, 1, 10);
    FAIL() << "0 is out of range";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "strata.plugin.sql.pool must be a whole number from 1 to 10, not '0'");
  }
}

}  // namespace
}  // namespace strata::integrations
