#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/integrations/http/error_status.h>

namespace strata::integrations::http {
namespace {

using codecs::ErrorCode;

TEST(ErrorStatus, MapsEveryBusErrorToItsDocumentedStatus) {
  EXPECT_EQ(httpStatusFor(ErrorCode::kUnknownService), 404);
  EXPECT_EQ(httpStatusFor(ErrorCode::kTimeout), 504);
  EXPECT_EQ(httpStatusFor(ErrorCode::kForbidden), 403);
  EXPECT_EQ(httpStatusFor(ErrorCode::kTooLarge), 413);
  EXPECT_EQ(httpStatusFor(ErrorCode::kMalformed), 400);
  EXPECT_EQ(httpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(httpStatusFor(ErrorCode::kInternal), 500);
}

TEST(ErrorStatus, TakesUnknownErrorNumbersForInternal) {
  EXPECT_EQ(errorCodeFromNumber(2), ErrorCode::kTimeout);
  EXPECT_EQ(errorCodeFromNumber(0), ErrorCode::kInternal);
  EXPECT_EQ(errorCodeFromNumber(99), ErrorCode::kInternal);
}

TEST(ErrorStatus, WritesAnErrorBodyAsJsonWithItsTextEscaped) {
  auto body = errorBody("malformed", "quote \" and\r\nnew line");
  auto object = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(object->getValue<std::string>("error"), "malformed");
  EXPECT_EQ(object->getValue<std::string>("message"), "quote \" and\r\nnew line");
  EXPECT_EQ(body.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace strata::integrations::http
