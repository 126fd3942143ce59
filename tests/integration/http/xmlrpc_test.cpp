// XML-RPC on /RPC2 with Python's standard xmlrpc.client against a real broker and node.

#include <gtest/gtest.h>

#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

class XmlRpc : public ::testing::Test {
 protected:
  void SetUp() override { gateway = fixture.start({{"xmlrpc", "true"}, {"anonymous_layer", "4"}}); }

  // Runs a Python snippet with `proxy` bound to the gateway's /RPC2; returns its stdout.
  RunResult python(const std::string& code, const std::string& headers = "[]") {
    auto script = "import xmlrpc.client\nproxy = xmlrpc.client.ServerProxy('" + gateway->url() +
                  "/RPC2', headers=" + headers + ")\n" + code;
    return runProgram(kPython, {"-c", script});
  }

  GatewayFixture fixture;
  std::unique_ptr<integrations::http::Gateway> gateway;
};

TEST_F(XmlRpc, EchoOfOneStringReturnsThatString) {
  auto r = runProgram(kPython, {"-c", "import xmlrpc.client; print(xmlrpc.client.ServerProxy('" + gateway->url() +
                                          "/RPC2').echo('hi'))"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  auto calls = fixture.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].body, "hi");
  EXPECT_EQ(calls[0].headers.front(), (std::pair<std::string, std::string>{"content-type", "text/plain"}));
}

TEST_F(XmlRpc, OtherParamsTravelAsAJsonArrayAndComeBackAsValues) {
  auto r = python("print(repr(proxy.echo(1, 'a', [True, 2.5], {'k': 'v'})))");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "[1, 'a', [True, 2.5], {'k': 'v'}]\n");
}

TEST_F(XmlRpc, BusErrorsAreFaultsWithTheErrorNumber) {
  auto unknown = python("try:\n  proxy.no_such_service('x')\nexcept xmlrpc.client.Fault as f:\n  print(f.faultCode)");
  EXPECT_EQ(unknown.out, "1\n") << unknown.err;
  auto timeout = python("try:\n  proxy.sleep('5000')\nexcept xmlrpc.client.Fault as f:\n  print(f.faultCode)",
                        "[('X-Strata-Timeout-Ms', '300')]");
  EXPECT_EQ(timeout.out, "2\n") << timeout.err;
  auto malformed = python("try:\n  proxy.sleep('soon')\nexcept xmlrpc.client.Fault as f:\n  print(f.faultCode, f.faultString)");
  EXPECT_EQ(malformed.out.substr(0, 2), "5 ") << malformed.err;
}

TEST_F(XmlRpc, MalformedOrHostileDocumentsAreFaultsWithoutACall) {
  const std::string bad[] = {
      "not xml",
      "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
      "<methodCall><methodName>echo</methodName><params><param><value>&e;</value></param></params></methodCall>",
      "<methodCall><methodName>../admin</methodName></methodCall>",
  };
  for (const auto& body : bad) {
    auto r = curl(fixture.cluster().dir(), {"--data-binary", body, "-H", "Content-Type: text/xml",
                                            gateway->url() + "/RPC2"});
    EXPECT_EQ(r.status, 200) << body;
    EXPECT_NE(r.body.find("<fault>"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << r.body;
  }
  EXPECT_TRUE(fixture.calls().empty());
}

}  // namespace
}  // namespace strata::test
