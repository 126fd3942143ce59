// The JSON payload codec: values in both directions, exact bytes, and a table of hostile
// or malformed bodies that must each come back as a clear error value.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/DateTime.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/codecs/payload.h>

namespace strata::codecs {
namespace {

using Poco::Dynamic::Var;

Var decodeOk(std::string_view text, const PayloadLimits& limits = {}) {
  auto result = jsonCodec().decode(text, limits);
  EXPECT_TRUE(result.ok()) << result.error << " for " << text;
  return result.value;
}

TEST(JsonCodec, FoundByContentTypeWithParameters) {
  EXPECT_EQ(findPayloadCodec("Application/JSON; charset=utf-8"), &jsonCodec());
  EXPECT_EQ(jsonCodec().contentType(), kJsonType);
}

TEST(JsonCodec, DecodesObjectsArraysAndScalars) {
  auto value = decodeOk(R"({"s":"x\u00e9","i":-3,"d":1.5,"t":true,"n":null,"a":[1,"2"]})");
  auto object = value.extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(object->getValue<std::string>("s"), "x\xC3\xA9");
  EXPECT_EQ(object->getValue<int>("i"), -3);
  EXPECT_DOUBLE_EQ(object->getValue<double>("d"), 1.5);
  EXPECT_TRUE(object->getValue<bool>("t"));
  EXPECT_TRUE(object->isNull("n"));
  EXPECT_EQ(object->getArray("a")->size(), 2u);
}

TEST(JsonCodec, EncodesExactBytesInMemberOrder) {
  auto value = decodeOk(R"( { "z" : 1, "a" : [true, null, 2.5, "q\"\\\n\u0001"], "m" : {} } )");
  EXPECT_EQ(jsonCodec().encode(value), R"({"z":1,"a":[true,null,2.5,"q\"\\\n\u0001"],"m":{}})");
}

TEST(JsonCodec, RoundTripsDecodeEncodeDecode) {
  for (std::string text : {R"({"a":{"b":[1,2,{"c":"d"}]},"e":-1.25e-7})", R"([[],[[]],{}])", R"("just text")",
                           R"(12345678901234)", R"(null)", R"({"big":9223372036854775807})"}) {
    auto first = decodeOk(text);
    auto encoded = jsonCodec().encode(first);
    EXPECT_EQ(jsonCodec().encode(decodeOk(encoded)), encoded) << text;
  }
}

TEST(JsonCodec, KeepsWholeDoublesDoubles) {
  EXPECT_EQ(jsonCodec().encode(Var(2.0)), "2.0");
  EXPECT_TRUE(decodeOk(jsonCodec().encode(Var(2.0))).isNumeric());
  EXPECT_FALSE(decodeOk(jsonCodec().encode(Var(2.0))).isInteger());
}

struct Malformed {
  const char* name;
  std::string body;
  const char* error;  // a piece of the expected error text
};

TEST(JsonCodec, RefusesMalformedBodiesWithClearErrors) {
  std::vector<Malformed> cases = {
      {"empty", "", "not well-formed"},
      {"truncated object", R"({"a":)", "not well-formed"},
      {"truncated string", R"(["abc)", "not well-formed"},
      {"trailing garbage", "{} x", "not well-formed"},
      {"single quotes", "{'a':1}", "not well-formed"},
      {"comment", "/* c */ {}", "not well-formed"},
      {"bare word", "nope", "not well-formed"},
      {"missing comma", "[1 2]", "not well-formed"},
      {"unclosed array", "[1,2", "not well-formed"},
      {"bad utf-8", "[\"\xC3\x28\"]", "UTF-8"},
      {"overlong utf-8", "[\"\xC0\xAF\"]", "UTF-8"},
      {"two scalars", "1,2", "more than one value"},
      {"scalar breaking out of its wrapper", "1],[2", "not well-formed"},
      {"nul byte", std::string("[\"a\0b\"]", 7), "not well-formed"},
  };
  for (const auto& c : cases) {
    auto result = jsonCodec().decode(c.body);
    EXPECT_FALSE(result.ok()) << c.name;
    EXPECT_NE(result.error.find(c.error), std::string::npos) << c.name << ": " << result.error;
    EXPECT_EQ(result.error.rfind("json: ", 0), 0u) << c.name;
  }
}

TEST(JsonCodec, RefusesIntegersPast64BitsInsteadOfWrappingThem) {
  // Poco 1.11 alone turns 18446744073709551617 into 1.
  for (std::string text : {"18446744073709551617", "[18446744073709551616]", R"({"a":-9223372036854775809})",
                           "[1,99999999999999999999999]"}) {
    auto result = jsonCodec().decode(text);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_NE(result.error.find("is outside 64 bits"), std::string::npos) << result.error;
  }
  EXPECT_EQ(jsonCodec().encode(decodeOk("[18446744073709551615,-9223372036854775808]")),
            "[18446744073709551615,-9223372036854775808]");
  EXPECT_EQ(jsonCodec().encode(decodeOk(R"(["99999999999999999999999",1e30])")), R"(["99999999999999999999999",1e+30])");
}

TEST(JsonCodec, RefusesAnEscapedNulInAString) {
  auto result = jsonCodec().decode(R"(["a\u0000b"])");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("Null bytes"), std::string::npos) << result.error;
}

TEST(JsonCodec, RefusesOversizedBodyBeforeParsing) {
  PayloadLimits limits;
  limits.maxBytes = 16;
  // Not JSON at all: the error must be about size, so the parser never ran.
  auto result = jsonCodec().decode(std::string(17, '{'), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("17 bytes exceeds the limit of 16"), std::string::npos) << result.error;
  EXPECT_TRUE(jsonCodec().decode(std::string(R"(["0123456789ab"])"), limits).ok());
}

TEST(JsonCodec, RefusesNestingPastMaxDepthAndAcceptsItExactly) {
  PayloadLimits limits;
  limits.maxDepth = 8;
  EXPECT_TRUE(jsonCodec().decode(std::string(8, '[') + std::string(8, ']'), limits).ok());
  auto result = jsonCodec().decode(std::string(9, '[') + std::string(9, ']'), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("nesting deeper than 8"), std::string::npos) << result.error;
  auto mixed = jsonCodec().decode(R"({"a":[{"b":[{"c":[{"d":[{"e":1}]}]}]}]})", limits);
  EXPECT_NE(mixed.error.find("nesting"), std::string::npos) << mixed.error;
}

TEST(JsonCodec, RefusesHugeUnclosedNestingWithoutRecursing) {
  // Half a mebibyte of '[' would overflow a recursive parser's stack.
  PayloadLimits limits;
  auto result = jsonCodec().decode(std::string(limits.maxBytes / 2, '['), limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("nesting deeper than 64"), std::string::npos) << result.error;
}

TEST(JsonCodec, BracketsInsideStringsDoNotCountAsNesting) {
  PayloadLimits limits;
  limits.maxDepth = 2;
  auto value = decodeOk(R"([{"k":"[[[[{{{{\"[[["}])", limits);
  EXPECT_EQ(value.extract<Poco::JSON::Array::Ptr>()->getObject(0)->getValue<std::string>("k"), "[[[[{{{{\"[[[");
}

// An object of count distinct keys "k0".."k<count-1>", each with the value 1.
std::string wideObject(std::size_t count) {
  std::string text = "{";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) text += ',';
    text += "\"k" + std::to_string(i) + "\":1";
  }
  return text + "}";
}

constexpr const char* kMembersRefused = "json: an object has more than 10000 members (PayloadLimits::maxMembers)";

TEST(JsonCodec, RefusesAnObjectOfFiftyThousandKeysWithTheMemberLimit) {
  // 539 KB, within maxBytes; without the cap Poco's ordered Object spent seconds of CPU
  // on it (each insert scans every key).
  auto result = jsonCodec().decode(wideObject(50'000));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, kMembersRefused);
}

TEST(JsonCodec, AcceptsAnObjectOfExactlyMaxMembersInOrder) {
  ASSERT_EQ(PayloadLimits::kDefaultMaxMembers, 10'000u);
  auto object = decodeOk(wideObject(10'000)).extract<Poco::JSON::Object::Ptr>();
  ASSERT_EQ(object->size(), 10'000u);
  auto names = object->getNames();
  EXPECT_EQ(names.front(), "k0");
  EXPECT_EQ(names[1], "k1");
  EXPECT_EQ(names.back(), "k9999");
}

TEST(JsonCodec, StopsParsingAtTheFirstMemberPastTheLimit) {
  // Garbage after the 10,001st key would be "not well-formed" if the parser read on.
  std::string text = wideObject(10'001);
  text.back() = ',';
  text += "!garbage";
  auto result = jsonCodec().decode(text);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, kMembersRefused);
}

TEST(JsonCodec, CountsMembersPerObjectWithRepeatedKeysEachTime) {
  PayloadLimits limits;
  limits.maxMembers = 2;
  // Each object on its own: nested objects, objects in arrays and arrays do not add up.
  decodeOk(R"({"a":{"x":1,"y":2},"b":[{"p":1,"q":2},{"p":1,"q":2},3,4,5]})", limits);
  decodeOk(R"([{"a":1,"b":2},{"a":1,"b":2}])", limits);
  for (std::string text : {R"({"a":1,"b":2,"c":3})", R"({"a":{"x":1,"y":2,"z":3}})", R"([{},{"a":[],"b":{},"c":0}])",
                           R"({"a":1,"a":2,"a":3})", R"({"a":{"x":1,"y":2},"b":2,"c":{}})"}) {
    auto result = jsonCodec().decode(text, limits);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_EQ(result.error, "json: an object has more than 2 members (PayloadLimits::maxMembers)") << text;
  }
}

TEST(JsonCodec, EncodeRefusesWhatJsonCannotHold) {
  EXPECT_THROW(jsonCodec().encode(Var(std::numeric_limits<double>::quiet_NaN())), std::invalid_argument);
  EXPECT_THROW(jsonCodec().encode(Var(std::numeric_limits<double>::infinity())), std::invalid_argument);
  EXPECT_THROW(jsonCodec().encode(Var(std::string("\xFF"))), std::invalid_argument);
  EXPECT_THROW(jsonCodec().encode(Var(Poco::DateTime())), std::invalid_argument);
  Poco::JSON::Array::Ptr self = new Poco::JSON::Array;
  self->add(self);  // a cycle: refused, not a stack overflow
  EXPECT_THROW(jsonCodec().encode(Var(self)), std::invalid_argument);
  self->clear();  // break the cycle so the array is freed
}

}  // namespace
}  // namespace strata::codecs
