#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>

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
  EXPECT_EQ(r.request->headers, (HeaderList{{"content-type", "text/plain"}}));
}

TEST(XmlRpcBridge, OtherParamsAreAJsonArray) {
  auto r = busRequestFromXmlRpc(
      call("calc.add", "<param><value><int>1</int></value></param><param><value><int>2</int></value></param>"), 1024);
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->body, "[1,2]");
  EXPECT_EQ(r.request->headers, (HeaderList{{"content-type", "application/json"}}));
  auto none = busRequestFromXmlRpc(call("ping", ""), 1024);
  ASSERT_TRUE(none.request) << none.error;
  EXPECT_EQ(none.request->body, "[]");
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
}

}  // namespace
}  // namespace strata::integrations::http
