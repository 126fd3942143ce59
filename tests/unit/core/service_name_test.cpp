// The one rule for service names, which the codec, broker, nodes, plug-in host and gateway
// all apply: a name one part takes is never refused by another.

#include <strata/core/service_name.h>

#include <string>

#include <gtest/gtest.h>

namespace strata::core {
namespace {

using namespace std::string_literals;

TEST(ServiceName, TakesLettersDigitsDotsUnderscoresAndHyphens) {
  for (const char* good : {"echo", "sql.query", "Reports-2024_v1", "strata.ping", "0"}) {
    EXPECT_TRUE(isServiceName(good)) << good;
  }
  EXPECT_TRUE(isServiceName(std::string(kMaxServiceName, 'x')));
}

TEST(ServiceName, RefusesEverythingElse) {
  for (std::string bad : {""s, std::string(kMaxServiceName + 1, 'x'), "a:b"s, "a/b"s, "a b"s, "caf\xC3\xA9"s,
                          "a\0b"s, "a\tb"s, "a\nb"s, "a*b"s, "a#b"s, "a>"s}) {
    EXPECT_FALSE(isServiceName(bad)) << bad;
  }
}

TEST(ServiceName, SaysWhyAnApplicationCannotOfferAName) {
  EXPECT_EQ(serviceNameProblem("orders.get"), std::nullopt);
  EXPECT_EQ(serviceNameProblem("a:b"), "service name 'a:b' must be 1 to 255 letters, digits, '.', '_' or '-'");
  EXPECT_EQ(serviceNameProblem("strata.ping"),
            "service name 'strata.ping' is reserved: names starting 'strata.' are the bus's own");
  auto huge = serviceNameProblem(std::string(100'000, 'x') + ":");
  ASSERT_TRUE(huge);
  EXPECT_LT(huge->size(), 200u);  // a hostile name is not echoed whole
}

}  // namespace
}  // namespace strata::core
