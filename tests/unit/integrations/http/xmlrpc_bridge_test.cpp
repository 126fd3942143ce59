#include <initializer_list>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>

#include <strata/codecs/text.h>
#include <strata/integrations/http/xmlrpc_bridge.h>
#include <strata/integrations/xml/xmlrpc.h>

namespace strata::integrations::http {
namespace {

std::string call(const std::string& method, const std::string& params) {
  return "<?xml version=\"1.0\"?><methodCall><methodName>" + method + "</methodName><params>" + params +
         "</params></methodCall>";
}

TEST(XmlRpcBridge, OneStringParamIsAPlainTextBody) {
  auto r = busRequestFromXmlRpc(call("echo", "<param><value><string>hi</string></value></param>"), 1024);
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->service, "echo");
  EXPECT_EQ(r.request->body, "hi");
  EXPECT_EQ(r.request->headers, (HeaderList{{"content-type", "text/plain"}, {"xmlrpc-params", "1"}}));
}

TEST(XmlRpcBridge, OneBase64ParamIsItsBytes) {
  auto r = busRequestFromXmlRpc(call("echo", "<param><value><base64>AP8K\nAA==</base64></value></param>"), 1024);
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->body, std::string("\x00\xff\n\x00", 4));
  EXPECT_EQ(r.request->headers,
            (HeaderList{{"content-type", "application/octet-stream"}, {"xmlrpc-params", "1"}}));
}

TEST(XmlRpcBridge, OneOtherParamIsThatValueAsJson) {
  struct Case {
    const char* value;
    const char* body;
  };
  for (auto c : std::initializer_list<Case>{
           {"<int>42</int>", "42"},
           {"<double>2.0</double>", "2.0"},
           {"<boolean>0</boolean>", "false"},
           {"<nil/>", "null"},
           {"<array><data><value>1</value></data></array>", R"(["1"])"},
           {"<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>", R"({"$dateTime.iso8601":"19980717T14:08:55"})"},
           {"<struct><member><name>k</name><value><i4>1</i4></value></member></struct>", R"({"k":1})"}}) {
    auto r = busRequestFromXmlRpc(call("echo", std::string("<param><value>") + c.value + "</value></param>"), 1024);
    ASSERT_TRUE(r.request) << r.error;
    EXPECT_EQ(r.request->body, c.body) << c.value;
    EXPECT_EQ(r.request->headers, (HeaderList{{"content-type", "application/json"}, {"xmlrpc-params", "1"}}));
  }
}

TEST(XmlRpcBridge, OtherParamsAreAJsonArray) {
  auto r = busRequestFromXmlRpc(
      call("calc.add", "<param><value><int>1</int></value></param><param><value><int>2</int></value></param>"), 1024);
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->body, "[1,2]");
  EXPECT_EQ(r.request->headers, (HeaderList{{"content-type", "application/json"}, {"xmlrpc-params", "2"}}));
  auto none = busRequestFromXmlRpc(call("ping", ""), 1024);
  ASSERT_TRUE(none.request) << none.error;
  EXPECT_EQ(none.request->body, "[]");
  EXPECT_EQ(none.request->headers.back(), (std::pair<std::string, std::string>{"xmlrpc-params", "0"}));
}

TEST(XmlRpcBridge, RefusesMethodNamesThatAreNotServiceNames) {
  EXPECT_FALSE(busRequestFromXmlRpc(call("a/b", ""), 1024).request);
  EXPECT_FALSE(busRequestFromXmlRpc(call("a:b", ""), 1024).request);
  EXPECT_FALSE(busRequestFromXmlRpc("<methodCall>", 1024).request);
  EXPECT_FALSE(busRequestFromXmlRpc(call("echo", std::string(2000, ' ')), 1024).request);  // over the cap
}

TEST(XmlRpcBridge, JsonRepliesBecomeValuesOthersStrings) {
  BusReply json;
  json.headers = {{"content-type", "application/json; charset=utf-8"}};
  json.body = R"({"a": [1, true]})";
  auto parsed = xml::parseMethodResponse(xmlRpcResponseFor(json));
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  auto object = parsed.value.extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(object->getArray("a")->size(), 2u);

  BusReply text;
  text.body = R"({"a": 1})";
  auto asString = xml::parseMethodResponse(xmlRpcResponseFor(text));
  ASSERT_TRUE(asString.ok());
  EXPECT_EQ(asString.value.extract<std::string>(), R"({"a": 1})");
}

TEST(XmlRpcBridge, BytesRepliesBecomeBase64) {
  BusReply declared;
  declared.headers = {{"content-type", "application/octet-stream"}};
  declared.body = "plain";
  EXPECT_NE(xmlRpcResponseFor(declared).find("<base64>cGxhaW4=</base64>"), std::string::npos);

  BusReply undeclared;  // not text: not UTF-8, or controls XML cannot carry
  for (std::string body : {std::string("\xff\x00", 2), std::string("a\x01b")}) {
    undeclared.body = body;
    auto parsed = xml::parseMethodResponse(xmlRpcResponseFor(undeclared));
    ASSERT_TRUE(parsed.ok()) << parsed.error;
    EXPECT_FALSE(parsed.fault);
    auto object = parsed.value.extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(codecs::fromBase64(object->getValue<std::string>("$base64")), body);
  }
}

TEST(XmlRpcBridge, ErrorsAndUnrepresentableRepliesAreFaults) {
  auto timeout = xml::parseMethodResponse(xmlRpcResponseFor(BusReply::failure(codecs::ErrorCode::kTimeout, "late")));
  ASSERT_TRUE(timeout.ok());
  EXPECT_TRUE(timeout.fault);
  EXPECT_EQ(timeout.faultCode, 2);
  EXPECT_EQ(timeout.faultString, "late");

  BusReply badJson;
  badJson.headers = {{"content-type", "application/json"}};
  badJson.body = "{not json";
  auto fault = xml::parseMethodResponse(xmlRpcResponseFor(badJson));
  ASSERT_TRUE(fault.ok());
  EXPECT_TRUE(fault.fault);
  EXPECT_EQ(fault.faultCode, 7);

  BusReply badTag = badJson;  // JSON whose tag does not hold its type
  badTag.body = R"({"$dateTime.iso8601": "tomorrow"})";
  auto tagFault = xml::parseMethodResponse(xmlRpcResponseFor(badTag));
  ASSERT_TRUE(tagFault.ok());
  EXPECT_TRUE(tagFault.fault);
  EXPECT_NE(tagFault.faultString.find("not a date and time"), std::string::npos) << tagFault.faultString;
}

}  // namespace
}  // namespace strata::integrations::http
