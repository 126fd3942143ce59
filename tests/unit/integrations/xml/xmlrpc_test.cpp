// XML-RPC: every value type both ways, the exact bytes of responses and faults, and a
// table of malformed or hostile calls that must each give a clear error and no call.

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/codecs/payload.h>
#include <strata/integrations/xml/xmlrpc.h>

namespace strata::integrations::xml {
namespace {

using Poco::Dynamic::Var;

std::string call(const std::string& method, const std::string& params) {
  return "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params>" + params +
         "</params></methodCall>";
}
std::string param(const std::string& value) { return "<param><value>" + value + "</value></param>"; }

// The call's params as compact JSON.
std::string paramsJson(const std::string& xml) {
  auto result = parseMethodCall(xml);
  EXPECT_TRUE(result.call.has_value()) << result.error;
  if (!result.call) return "<error>";
  return codecs::jsonCodec().encode(result.call->params);
}

TEST(XmlRpcParse, ReadsMethodNameAndEveryValueType) {
  std::string xml = call("examples.get_State:v2/x",
                         param("<int>-41</int>") + param("<i4>+7</i4>") + param("<boolean>1</boolean>") +
                             param("<string> spaced &amp; </string>") + param("untyped") + param("") +
                             param("<double>-0.5</double>") +
                             param("<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>") +
                             param("<base64>aGVs\n bG8=</base64>") + param("<nil/>") +
                             param("<i8>9007199254740993</i8>"));
  auto result = parseMethodCall(xml);
  ASSERT_TRUE(result.call) << result.error;
  EXPECT_TRUE(result.error.empty());
  EXPECT_EQ(result.call->method, "examples.get_State:v2/x");
  EXPECT_EQ(codecs::jsonCodec().encode(result.call->params),
            R"([-41,7,true," spaced & ","untyped","",-0.5,{"$dateTime.iso8601":"19980717T14:08:55"},)"
            R"({"$base64":"aGVsbG8="},null,9007199254740993])");
}

TEST(XmlRpcParse, WrapsAStructThatWouldReadAsATag) {
  for (std::string name : {"$base64", "$dateTime.iso8601", "$struct"}) {
    EXPECT_EQ(paramsJson(call("m", param("<struct><member><name>" + name + "</name><value>x</value></member></struct>"))),
              R"([{"$struct":{")" + name + R"(":"x"}}])");
  }
  // Two members, or another name, is a plain struct.
  EXPECT_EQ(paramsJson(call("m", param("<struct><member><name>$base64</name><value>x</value></member>"
                                       "<member><name>b</name><value>y</value></member></struct>"))),
            R"([{"$base64":"x","b":"y"}])");
  EXPECT_EQ(paramsJson(call("m", param("<struct><member><name>$base</name><value>x</value></member></struct>"))),
            R"([{"$base":"x"}])");
}

TEST(XmlRpcParse, ReadsNestedStructsAndArrays) {
  std::string value =
      "<struct>\n <member><name>id</name><value><int>7</int></value></member>"
      "<member><name>tags</name><value><array><data><value>a</value><value><string>b</string></value>"
      "</data></array></value></member>"
      "<member><name>empty</name><value><struct/></value></member>"
      "<member><name>none</name><value><array><data/></array></value></member></struct>";
  EXPECT_EQ(paramsJson(call("m", param(value))), R"([{"id":7,"tags":["a","b"],"empty":{},"none":[]}])");
}

TEST(XmlRpcParse, AcceptsACallWithoutParams) {
  auto result = parseMethodCall("<methodCall><methodName>ping</methodName></methodCall>");
  ASSERT_TRUE(result.call) << result.error;
  EXPECT_EQ(result.call->params->size(), 0u);
  EXPECT_TRUE(parseMethodCall("<methodCall><methodName>p</methodName><params/></methodCall>").call);
}

struct Malformed {
  const char* name;
  std::string xml;
  const char* error;  // a piece of the expected error text
};

TEST(XmlRpcParse, RefusesMalformedCallsWithClearErrors) {
  std::vector<Malformed> cases = {
      {"not xml", "<methodCall>", "not well-formed"},
      {"wrong root", "<methodResponse/>", "root element must be <methodCall>"},
      {"missing methodName", "<methodCall><params/></methodCall>", "without <methodName>"},
      {"two methodNames", "<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>",
       "more than one <methodName>"},
      {"empty methodName", "<methodCall><methodName/></methodCall>", "<methodName> is empty"},
      {"bad methodName", call("rm -rf", ""), "outside [A-Za-z0-9_.:/]"},
      {"methodName with markup", "<methodCall><methodName><b/></methodName></methodCall>", "text only"},
      {"long methodName", call(std::string(kMaxMethodName + 1, 'm'), ""), "longer than 256"},
      {"unknown element", "<methodCall><methodName>a</methodName><x/></methodCall>", "unexpected <x>"},
      {"attribute", "<methodCall a=\"1\"><methodName>a</methodName></methodCall>", "must not have attributes"},
      {"param without value", call("m", "<param/>"), "must hold elements"},
      {"two values in param", call("m", "<param><value>1</value><value>2</value></param>"), "more than one <value>"},
      {"unknown type", call("m", param("<float>1</float>")), "unknown value type <float>"},
      {"two types", call("m", param("<int>1</int><string>x</string>")), "exactly one typed value"},
      {"text beside type", call("m", param("x<int>1</int>")), "text beside"},
      {"int not a number", call("m", param("<int>12a</int>")), "is not an integer"},
      {"int empty", call("m", param("<int/>")), "is not an integer"},
      {"int double sign", call("m", param("<int>+-1</int>")), "is not an integer"},
      {"huge int", call("m", param("<int>2147483648</int>")), "out of range for 32 bits"},
      {"huge negative i4", call("m", param("<i4>-2147483649</i4>")), "out of range for 32 bits"},
      {"huge i8", call("m", param("<i8>99999999999999999999</i8>")), "out of range for 64 bits"},
      {"int with markup", call("m", param("<int><b>1</b></int>")), "text only"},
      {"boolean 2", call("m", param("<boolean>2</boolean>")), "must be 0 or 1"},
      {"boolean word", call("m", param("<boolean>true</boolean>")), "must be 0 or 1"},
      {"double nan", call("m", param("<double>nan</double>")), "not a number"},
      {"double inf", call("m", param("<double>1e999</double>")), "not a finite number"},
      {"double junk", call("m", param("<double>1.2.3</double>")), "not a finite number"},
      {"bad date", call("m", param("<dateTime.iso8601>yesterday</dateTime.iso8601>")), "not a date and time"},
      {"bad base64", call("m", param("<base64>a$==</base64>")), "not valid base64"},
      {"base64 length", call("m", param("<base64>abc</base64>")), "not valid base64"},
      {"member without name", call("m", param("<struct><member><value>1</value></member></struct>")),
       "without <name>"},
      {"member without value", call("m", param("<struct><member><name>a</name></member></struct>")),
       "without <value>"},
      {"duplicate member", call("m", param("<struct><member><name>a</name><value/></member>"
                                           "<member><name>a</name><value/></member></struct>")),
       "two members named 'a'"},
      {"array without data", call("m", param("<array/>")), "must hold elements"},
      {"struct text", call("m", param("<struct>x</struct>")), "must hold elements"},
      {"nil with text", call("m", param("<nil>x</nil>")), "must be empty"},
      {"doctype", "<!DOCTYPE methodCall [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><methodCall>&x;</methodCall>",
       "DOCTYPE are refused"},
  };
  for (const auto& c : cases) {
    auto result = parseMethodCall(c.xml);
    EXPECT_FALSE(result.call.has_value()) << c.name;
    EXPECT_NE(result.error.find(c.error), std::string::npos) << c.name << ": " << result.error;
    EXPECT_EQ(result.error.rfind("xmlrpc: ", 0), 0u) << c.name;
  }
}

TEST(XmlRpcParse, AppliesSizeAndDepthLimits) {
  codecs::PayloadLimits small;
  small.maxBytes = 64;
  auto big = parseMethodCall(call("m", param(std::string(100, 'x'))), small);
  EXPECT_NE(big.error.find("exceeds the limit of 64"), std::string::npos) << big.error;

  std::string deep = "<int>1</int>";
  for (int i = 0; i < 40; ++i) deep = "<array><data><value>" + deep + "</value></data></array>";
  auto nested = parseMethodCall(call("m", param(deep)));
  EXPECT_FALSE(nested.call);
  EXPECT_NE(nested.error.find("nesting deeper than 64"), std::string::npos) << nested.error;
}

TEST(XmlRpcFormat, WritesExactResponseBytes) {
  auto value = codecs::jsonCodec().decode(R"({"n":-3,"ok":true,"s":"a<b&c","d":0.25,"l":[null,2147483648],"e":{}})");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(formatMethodResponse(value.value),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><params><param><value><struct>"
            "<member><name>n</name><value><int>-3</int></value></member>"
            "<member><name>ok</name><value><boolean>1</boolean></value></member>"
            "<member><name>s</name><value><string>a&lt;b&amp;c</string></value></member>"
            "<member><name>d</name><value><double>0.25</double></value></member>"
            "<member><name>l</name><value><array><data><value><nil/></value><value><i8>2147483648</i8></value>"
            "</data></array></value></member>"
            "<member><name>e</name><value><struct></struct></value></member>"
            "</struct></value></param></params></methodResponse>");
}

TEST(XmlRpcFormat, WritesTaggedValuesAsTheirTypes) {
  auto value = codecs::jsonCodec().decode(
      R"([{"$dateTime.iso8601":"20261203T08:00:00"},{"$base64":"AP8="},{"$struct":{"$base64":"not bytes"}}])");
  ASSERT_TRUE(value.ok()) << value.error;
  EXPECT_EQ(formatMethodResponse(value.value),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><params><param><value><array><data>"
            "<value><dateTime.iso8601>20261203T08:00:00</dateTime.iso8601></value>"
            "<value><base64>AP8=</base64></value>"
            "<value><struct><member><name>$base64</name><value><string>not bytes</string></value></member>"
            "</struct></value></data></array></value></param></params></methodResponse>");
}

TEST(XmlRpcFormat, RefusesTaggedValuesThatAreNotTheirType) {
  for (std::string text : {R"({"$dateTime.iso8601":"yesterday"})", R"({"$dateTime.iso8601":20261203})",
                           R"({"$base64":"a$=="})", R"({"$base64":"abc"})", R"({"$base64":null})",
                           R"({"$struct":[1]})", R"({"$struct":"x"})"}) {
    auto value = codecs::jsonCodec().decode(text);
    ASSERT_TRUE(value.ok()) << value.error;
    EXPECT_THROW(formatMethodResponse(value.value), std::invalid_argument) << text;
  }
}

TEST(XmlRpcFormat, WritesExactFaultBytes) {
  EXPECT_EQ(formatFault(-32601, "no such method <x>"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><fault><value><struct>"
            "<member><name>faultCode</name><value><int>-32601</int></value></member>"
            "<member><name>faultString</name><value><string>no such method &lt;x&gt;</string></value></member>"
            "</struct></value></fault></methodResponse>");
}

TEST(XmlRpcFormat, FaultReplacesCharactersXmlCannotCarry) {
  auto response = parseMethodResponse(formatFault(1, std::string("bad\x01 byte \xFF end")));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.faultString, "bad\xEF\xBF\xBD byte \xEF\xBF\xBD end");
}

TEST(XmlRpcFormat, RefusesValuesWithNoXmlRpcForm) {
  EXPECT_THROW(formatMethodResponse(Var(std::numeric_limits<double>::quiet_NaN())), std::invalid_argument);
  EXPECT_THROW(formatMethodResponse(Var(std::string("\x02"))), std::invalid_argument);
  EXPECT_THROW(formatMethodResponse(Var(std::string("\xC3"))), std::invalid_argument);
  EXPECT_THROW(formatMethodResponse(Var(std::numeric_limits<std::uint64_t>::max())), std::invalid_argument);
}

TEST(XmlRpcRoundTrip, ResponseValuesSurviveFormatAndParse) {
  for (std::string text : {R"({"a":[1,-2147483648,2147483647,9223372036854775807,"x\r\ny\tz"],"b":{"c":null}})",
                           R"("only a string")", R"(1.0e-300)", R"(-123456.789)", R"([])", R"(false)",
                           R"([{"$dateTime.iso8601":"19980717T14:08:55"},{"$base64":"AAEC/w=="}])",
                           R"({"$struct":{"$struct":{"k":1}}})", R"({"$base64":"","a":1})"}) {
    auto value = codecs::jsonCodec().decode(text);
    ASSERT_TRUE(value.ok()) << value.error;
    auto response = parseMethodResponse(formatMethodResponse(value.value));
    ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_FALSE(response.fault);
    EXPECT_EQ(codecs::jsonCodec().encode(response.value), codecs::jsonCodec().encode(value.value)) << text;
  }
}

TEST(XmlRpcRoundTrip, FaultSurvivesFormatAndParse) {
  auto response = parseMethodResponse(formatFault(4, "Too many parameters."));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_TRUE(response.fault);
  EXPECT_EQ(response.faultCode, 4);
  EXPECT_EQ(response.faultString, "Too many parameters.");
}

TEST(XmlRpcParseResponse, RefusesMalformedResponses) {
  for (std::string xml : {"<methodResponse/>", "<methodResponse><params/></methodResponse>",
                          "<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
                          "<methodResponse><params><param><value>1</value></param><param><value>2</value></param>"
                          "</params></methodResponse>",
                          "<methodCall/>"}) {
    auto response = parseMethodResponse(xml);
    EXPECT_FALSE(response.ok()) << xml;
    EXPECT_EQ(response.error.rfind("xmlrpc: ", 0), 0u) << response.error;
  }
}

}  // namespace
}  // namespace strata::integrations::xml
