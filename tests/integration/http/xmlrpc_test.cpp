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
  RunResult python(const std::string& code, const std::string& headers = "[]", const std::string& options = "") {
    auto script = "import xmlrpc.client\nproxy = xmlrpc.client.ServerProxy('" + gateway->url() +
                  "/RPC2', headers=" + headers + (options.empty() ? "" : ", " + options) + ")\n" + code;
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

// As a new user would: what a standard client sends comes back as itself, type included.
TEST_F(XmlRpc, EveryTypeComesBackAsItself) {
  auto r = python(
      "import datetime\n"
      "when = xmlrpc.client.DateTime(datetime.datetime(2026, 12, 3, 8, 0, 59))\n"
      "back = proxy.echo(when)\n"
      "print(type(back).__name__, back == when, back.value)\n"
      "data = xmlrpc.client.Binary(b'\\x00\\xff\\x10 bytes \\x80')\n"
      "back = proxy.echo(data)\n"
      "print(type(back).__name__, back.data == data.data)\n"
      "for value in (42, -7, 2.0, True, [1, 2], {'k': [None, 'v']}, {'$base64': 'not bytes'}, 'Grüße 東京'):\n"
      "  back = proxy.echo(value)\n"
      "  print(repr(back), type(back) == type(value) and back == value)\n"
      "several = proxy.echo(when, data, 3)\n"
      "print([type(v).__name__ for v in several], several == [when, data, 3])\n",
      "[]", "allow_none=True");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out,
            "DateTime True 20261203T08:00:59\n"
            "Binary True\n"
            "42 True\n-7 True\n2.0 True\nTrue True\n[1, 2] True\n{'k': [None, 'v']} True\n"
            "{'$base64': 'not bytes'} True\n'Grüße 東京' True\n"
            "['DateTime', 'Binary', 'int'] True\n");
}

// A JSON worker reads the typed shape: what reaches the service for each kind of call.
TEST_F(XmlRpc, ServicesSeeOneParamAsOneValue) {
  auto r = python("proxy.echo(42)\nproxy.echo(xmlrpc.client.Binary(b'\\xff'))\nproxy.echo([42])\nproxy.echo(1, 2)\n");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto calls = fixture.calls();
  ASSERT_EQ(calls.size(), 4u);
  auto header = [](const integrations::http::BusRequest& call, const std::string& name) {
    for (const auto& [key, value] : call.headers) {
      if (key == name) return value;
    }
    return std::string("(none)");
  };
  EXPECT_EQ(calls[0].body, "42");
  EXPECT_EQ(header(calls[0], "content-type"), "application/json");
  EXPECT_EQ(calls[1].body, "\xff");
  EXPECT_EQ(header(calls[1], "content-type"), "application/octet-stream");
  EXPECT_EQ(calls[2].body, "[42]");
  EXPECT_EQ(header(calls[2], "content-type"), "application/json");
  EXPECT_EQ(calls[3].body, "[1,2]");
  const char* counts[] = {"1", "1", "1", "2"};
  for (std::size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(header(calls[i], "xmlrpc-params"), counts[i]) << i;
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
