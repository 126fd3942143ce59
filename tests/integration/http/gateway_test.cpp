// The gateway with curl against a real broker and node: routes, bus errors as HTTP
// statuses, tokens and the layer policy, and a throughput figure.

#include <gtest/gtest.h>

#include <iostream>
#include <regex>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <strata/core/errors.h>

#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
namespace http = integrations::http;

std::string errorOf(const std::string& body) {
  try {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("error");
  } catch (const std::exception&) {
    return "not JSON: " + body;
  }
}

class Gateway : public ::testing::Test {
 protected:
  void SetUp() override { gateway = fixture.start({{"max_body", "4096"}}); }

  CurlResult post(const std::string& service, const std::string& body, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"-X", "POST", "--data-binary", body, "-H",
                                  std::string("Authorization: Bearer ") + kAliceToken};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(gateway->url() + "/v1/services/" + service);
    return curl(fixture.cluster().dir(), args);
  }

  GatewayFixture fixture;
  std::unique_ptr<http::Gateway> gateway;
};

TEST_F(Gateway, LogsTheBoundAddressInAFixedForm) {
  std::smatch match;
  auto log = fixture.log();
  ASSERT_TRUE(std::regex_search(log, match, std::regex("http gateway listening on http://127\\.0\\.0\\.1:([0-9]+)")))
      << log;
  EXPECT_EQ(std::stoi(match[1]), gateway->address().port());
  EXPECT_NE(gateway->address().port(), 0);
}

TEST_F(Gateway, EchoAnswers200WithTheBodyAndItsContentType) {
  auto r = post("echo", "hello, bus", {"-H", "Content-Type: text/plain; charset=utf-8"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, bus");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(Gateway, ReplyWithoutContentTypeIsOctetStream) {
  auto r = post("echo", "bytes");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded");  // curl's default, echoed back
  auto raw = rawExchange(gateway->address(),
                         std::string("POST /v1/services/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                             kAliceToken + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  EXPECT_EQ(statusOf(raw), 200) << raw;
  EXPECT_NE(raw.find("Content-Type: application/octet-stream"), std::string::npos) << raw;
}

TEST_F(Gateway, UnknownServiceIs404WithAJsonError) {
  auto r = post("no.such.service", "x", {"-H", "X-Strata-Timeout-Ms: 3000"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(errorOf(r.body), "unknown_service");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(Gateway, TimeoutIs504AndHonoursTheTimeoutHeader) {
  auto started = std::chrono::steady_clock::now();
  auto r = post("sleep", "5000", {"-H", "X-Strata-Timeout-Ms: 300"});
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(errorOf(r.body), "timeout");
  EXPECT_LT(took, 3s);
}

TEST_F(Gateway, TimeoutHeaderIsCappedByMaxTimeout) {
  auto capped = fixture.start({{"max_timeout_ms", "250"}});
  auto started = std::chrono::steady_clock::now();
  auto r = curl(fixture.cluster().dir(), {"--data-binary", "5000", "-H", "X-Strata-Timeout-Ms: 60000", "-H",
                                          std::string("Authorization: Bearer ") + kAliceToken,
                                          capped->url() + "/v1/services/sleep"});
  EXPECT_EQ(r.status, 504);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(Gateway, MalformedIs400) {
  auto r = post("sleep", "not a number");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(errorOf(r.body), "malformed");
  auto bad = post("echo", "x", {"-H", "X-Strata-Timeout-Ms: soon"});
  EXPECT_EQ(bad.status, 400);
}

TEST_F(Gateway, OtherMethodsAre405AndOtherPaths404) {
  auto get = curl(fixture.cluster().dir(), {gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("Allow"), "POST");
  auto put = curl(fixture.cluster().dir(), {"-X", "PUT", "--data-binary", "x", gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(put.status, 405);
  for (const char* path : {"/", "/v1/services/", "/v1/other/echo", "/v1/services/a%2fb", "/RPC2"}) {
    auto r = curl(fixture.cluster().dir(), {"--data-binary", "x", gateway->url() + path});
    EXPECT_EQ(r.status, 404) << path;
  }
}

TEST_F(Gateway, BodyOverMaxBodyIs413) {
  auto r = post("echo", std::string(5000, 'a'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(errorOf(r.body), "too_large");
  auto chunked = post("echo", std::string(5000, 'b'), {"-H", "Transfer-Encoding: chunked"});
  EXPECT_EQ(chunked.status, 413);
  EXPECT_EQ(post("echo", std::string(4096, 'c')).status, 200);
}

TEST_F(Gateway, HugeDeclaredBodyIs413WithoutReadingIt) {
  // 1 GB announced, none sent: the answer comes at once and the connection closes.
  auto started = std::chrono::steady_clock::now();
  auto raw = rawExchange(gateway->address(),
                         std::string("POST /v1/services/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                             kAliceToken + "\r\nContent-Length: 1000000000\r\n\r\n",
                         5s);
  EXPECT_EQ(statusOf(raw), 413) << raw;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(Gateway, NoOrUnknownTokenIs401WithABearerChallenge) {
  auto none = curl(fixture.cluster().dir(), {"--data-binary", "x", gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("WWW-Authenticate").rfind("Bearer", 0), 0u) << none.headers;
  auto wrong = curl(fixture.cluster().dir(), {"--data-binary", "x", "-H", "Authorization: Bearer not-a-known-token-xyz",
                                              gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(wrong.status, 401);
  auto basic = curl(fixture.cluster().dir(), {"--data-binary", "x", "-u", "alice:pw", gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(basic.status, 401);
  EXPECT_TRUE(fixture.calls().empty());
}

TEST_F(Gateway, TokenNeverAppearsInTheLog) {
  post("echo", "x");
  curl(fixture.cluster().dir(), {"--data-binary", "x", "-H", "Authorization: Bearer wrong-token-123456789",
                                 gateway->url() + "/v1/services/echo"});
  auto log = fixture.log();
  EXPECT_EQ(log.find(kAliceToken), std::string::npos);
  EXPECT_EQ(log.find("wrong-token"), std::string::npos);
}

TEST_F(Gateway, StampsThePrincipalAndDropsTheClientsStrataHeaders) {
  auto r = post("echo", "x", {"-H", "strata-principal: root", "-H", "strata-principal-layer: 0", "-H",
                              "Content-Type: text/plain"});
  ASSERT_EQ(r.status, 200);
  auto calls = fixture.calls();
  ASSERT_EQ(calls.size(), 1u);
  http::HeaderList expected{{"content-type", "text/plain"}, {"strata-principal", "alice"}, {"strata-principal-layer", "4"}};
  EXPECT_EQ(calls[0].headers, expected);
}

TEST_F(Gateway, EnforcesTheLayerPolicyForTheTokensLayer) {
  // bob is layer 2; by default 2 may call layers 1 and 0, and echo is layer 2.
  auto r = curl(fixture.cluster().dir(), {"--data-binary", "x", "-H", std::string("Authorization: Bearer ") + kBobToken,
                                          gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(errorOf(r.body), "forbidden");
  EXPECT_TRUE(fixture.calls().empty());

  auto open = fixture.start({{"policy", "4:2;2:2"}, {"service_layer.sleep", "1"}});
  auto bobEcho = curl(fixture.cluster().dir(), {"--data-binary", "x", "-H", std::string("Authorization: Bearer ") +
                                                kBobToken, open->url() + "/v1/services/echo"});
  EXPECT_EQ(bobEcho.status, 200);
  auto aliceSleep = curl(fixture.cluster().dir(), {"--data-binary", "1", "-H", std::string("Authorization: Bearer ") +
                                                   kAliceToken, open->url() + "/v1/services/sleep"});
  EXPECT_EQ(aliceSleep.status, 403);  // sleep is layer 1 there, and 4 may call only 2
}

TEST_F(Gateway, AnonymousLayerLetsTokenlessCallersInAtThatLayer) {
  auto open = fixture.start({{"anonymous_layer", "4"}});
  auto r = curl(fixture.cluster().dir(), {"--data-binary", "x", open->url() + "/v1/services/echo"});
  EXPECT_EQ(r.status, 200);
  auto wrong = curl(fixture.cluster().dir(), {"--data-binary", "x", "-H", "Authorization: Bearer wrong-token-123456789",
                                              open->url() + "/v1/services/echo"});
  EXPECT_EQ(wrong.status, 401);  // a bad token is never taken for no token
}

TEST_F(Gateway, RefusesATokenFileOthersMayRead) {
  ::chmod(fixture.tokenFile().c_str(), 0644);
  EXPECT_THROW(fixture.start(), KeyError);
}

TEST_F(Gateway, KeepAliveThroughputAgainstADirectClient) {
  constexpr int kRequests = 2000;
  Poco::Net::HTTPClientSession session(gateway->address().host().toString(), gateway->address().port());
  session.setKeepAlive(true);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/v1/services/echo", "HTTP/1.1");
    request.set("Authorization", std::string("Bearer ") + kAliceToken);
    request.setContentLength(5);
    request.setKeepAlive(true);
    session.sendRequest(request) << "hello";
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    ASSERT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_OK);
    ASSERT_EQ(body, "hello");
  }
  auto viaHttp = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) ASSERT_TRUE(fixture.client().call("echo", "hello").ok);
  auto direct = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ figures  ] " << kRequests << " sequential echo calls: gateway (keep-alive) "
            << static_cast<int>(kRequests / viaHttp) << " req/s, direct client " << static_cast<int>(kRequests / direct)
            << " req/s\n";
}

}  // namespace
}  // namespace strata::test
