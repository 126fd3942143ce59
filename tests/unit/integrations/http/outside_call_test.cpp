#include <gtest/gtest.h>

#include <strata/integrations/http/outside_call.h>

namespace strata::integrations::http {
namespace {

TEST(GatewayOutsideCall, MarksEveryGatewayCallAsFromOutsideWithItsHeadersAndTimeout) {
  BusRequest request;
  request.service = "echo";
  request.body = "hi";
  request.headers = {{"content-type", "text/plain"}, {std::string(kPrincipalHeader), "alice"}};
  request.timeout = std::chrono::milliseconds(1234);
  auto options = outsideCallOptions(request);
  EXPECT_TRUE(options.fromOutside);
  EXPECT_EQ(options.headers, request.headers);
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(1234));
  EXPECT_FALSE(options.id.has_value());
}

}  // namespace
}  // namespace strata::integrations::http
