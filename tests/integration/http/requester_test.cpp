// http.request against real HTTP servers on loopback: a small Poco server with slow,
// huge, binary and redirecting routes, and Python's http.server.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <regex>

#include <Poco/Event.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <strata/integrations/http/http_requester.h>

#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
namespace http = integrations::http;
using codecs::ErrorCode;

constexpr std::size_t kHugeBytes = 32 * 1024 * 1024;

// What the upstream server saw, shared with its handlers.
struct Upstream {
  std::atomic<int> requests{0};
  std::atomic<std::size_t> hugeBytesWritten{0};
  std::atomic<bool> hugeFinished{false};
  Poco::Event releaseSlow;
  std::string base;  // http://127.0.0.1:PORT
};

class UpstreamHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit UpstreamHandler(Upstream& upstream) : upstream_(upstream) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    ++upstream_.requests;
    std::string body;
    Poco::StreamCopier::copyToString(request.stream(), body);
    const auto& uri = request.getURI();
    if (uri == "/api/slow") {
      upstream_.releaseSlow.tryWait(10'000);
      response.send() << "late";
    } else if (uri == "/api/huge") {
      response.setChunkedTransferEncoding(true);
      auto& out = response.send();
      std::string block(64 * 1024, 'h');
      for (std::size_t sent = 0; sent < kHugeBytes && out.good(); sent += block.size()) {
        out.write(block.data(), static_cast<std::streamsize>(block.size()));
        out.flush();
        if (out.good()) upstream_.hugeBytesWritten += block.size();
      }
      upstream_.hugeFinished = true;
    } else if (uri == "/api/declared-huge") {
      response.setContentLength64(static_cast<Poco::Int64>(kHugeBytes));
      response.send() << "only the start";
    } else if (uri == "/api/binary") {
      response.send() << std::string("\xff\xfe\x00\x01", 4);
    } else if (uri == "/api/redirect") {
      response.redirect(upstream_.base + "/admin");
    } else {
      response.set("X-Upstream", "yes");
      response.setContentType("text/plain");
      response.send() << request.getMethod() << " " << uri << " probe=" << request.get("X-Probe", "-")
                      << " body=" << body;
    }
  }

 private:
  Upstream& upstream_;
};

class UpstreamFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit UpstreamFactory(Upstream& upstream) : upstream_(upstream) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new UpstreamHandler(upstream_);
  }

 private:
  Upstream& upstream_;
};

Poco::JSON::Object::Ptr json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::string spec(const std::string& method, const std::string& url, const std::string& extra = "") {
  return R"({"method": ")" + method + R"(", "url": ")" + url + "\"" + extra + "}";
}

class Requester : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    upstream.base = "http://127.0.0.1:" + std::to_string(socket.address().port());
    server = std::make_unique<Poco::Net::HTTPServer>(new UpstreamFactory(upstream), socket,
                                                     new Poco::Net::HTTPServerParams);
    server->start();
  }
  void TearDown() override {
    upstream.releaseSlow.set();
    server->stopAll(true);
  }

  http::HttpRequester requester(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> keys{{"allow", upstream.base + "/api/"}};
    for (const auto& [k, v] : extra) keys[k] = v;
    return http::HttpRequester(http::parseRequesterOptions(lookupOf(keys)));
  }

  Upstream upstream;
  std::unique_ptr<Poco::Net::HTTPServer> server;
};

TEST_F(Requester, GetsAnAllowedUrlWithStatusHeadersAndBody) {
  auto reply = requester().handle(spec("POST", upstream.base + "/api/items?x=1",
                                       R"(, "headers": {"X-Probe": "p1"}, "body": "payload")"));
  ASSERT_TRUE(reply.ok()) << reply.errorText;
  EXPECT_EQ(reply.headers, (http::HeaderList{{"content-type", "application/json"}}));
  auto out = json(reply.body);
  EXPECT_EQ(out->getValue<int>("status"), 200);
  EXPECT_EQ(out->getObject("headers")->getValue<std::string>("x-upstream"), "yes");
  EXPECT_EQ(out->getValue<std::string>("body"), "POST /api/items?x=1 probe=p1 body=payload");
}

TEST_F(Requester, RefusesUrlsOffTheListWithoutConnecting) {
  auto r = requester();
  struct Case {
    std::string url;
    ErrorCode code;
  };
  const Case cases[] = {
      {upstream.base + "/admin", ErrorCode::kForbidden},
      {upstream.base + "/api", ErrorCode::kForbidden},
      {upstream.base + "/api/../admin", ErrorCode::kMalformed},
      {upstream.base + "/api/%2e%2e/admin", ErrorCode::kMalformed},
      {upstream.base + "@evil.example/api/", ErrorCode::kMalformed},
      {"http://localhost:" + upstream.base.substr(upstream.base.rfind(':') + 1) + "/api/", ErrorCode::kForbidden},
      {"https://127.0.0.1:" + upstream.base.substr(upstream.base.rfind(':') + 1) + "/api/", ErrorCode::kForbidden},
      {"file:///etc/passwd", ErrorCode::kMalformed},
  };
  for (const auto& c : cases) {
    auto reply = r.handle(spec("GET", c.url));
    EXPECT_EQ(reply.error, c.code) << c.url << ": " << reply.errorText;
  }
  EXPECT_EQ(upstream.requests, 0);
  EXPECT_EQ(server->totalConnections(), 0);
}

TEST_F(Requester, RefusesCrLfInHeaderNamesAndValues) {
  auto r = requester();
  EXPECT_EQ(r.handle(spec("GET", upstream.base + "/api/", R"(, "headers": {"X-A": "v\r\nX-Injected: 1"})")).error,
            ErrorCode::kMalformed);
  EXPECT_EQ(r.handle(spec("GET", upstream.base + "/api/", R"(, "headers": {"X-A\nB": "v"})")).error,
            ErrorCode::kMalformed);
  EXPECT_EQ(upstream.requests, 0);
}

TEST_F(Requester, TimesOutOnASlowServer) {
  auto started = std::chrono::steady_clock::now();
  auto reply = requester({{"client_timeout_ms", "300"}}).handle(spec("GET", upstream.base + "/api/slow"));
  EXPECT_EQ(reply.error, ErrorCode::kTimeout) << reply.errorText;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(Requester, GivesUpInTimeToAnswerBeforeTheCallersDeadline) {
  Poco::Net::ServerSocket hanging(Poco::Net::SocketAddress("127.0.0.1", 0));  // never accepts, never answers
  auto base = "http://127.0.0.1:" + std::to_string(hanging.address().port());
  for (auto left : {1000ms, 3000ms}) {
    auto started = std::chrono::steady_clock::now();
    auto reply = requester({{"allow", base + "/"}}).handle(spec("GET", base + "/x"), left);
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(reply.error, ErrorCode::kTimeout) << reply.errorText;
    EXPECT_LT(took, left);
    EXPECT_GT(took, left / 2);
  }
  EXPECT_EQ(requester().handle(spec("GET", upstream.base + "/api/slow"), 5ms).error, ErrorCode::kTimeout);
}

TEST_F(Requester, StopsReadingAHugeResponseAtTheCap) {
  auto started = std::chrono::steady_clock::now();
  auto reply = requester({{"client_max_body", "65536"}}).handle(spec("GET", upstream.base + "/api/huge"));
  EXPECT_EQ(reply.error, ErrorCode::kTooLarge) << reply.errorText;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  // The upstream could not write it all: nobody read the rest.
  ASSERT_TRUE(waitUntil([&] { return upstream.hugeFinished.load(); }, 30s));
  EXPECT_LT(upstream.hugeBytesWritten.load(), kHugeBytes);

  auto declared = requester({{"client_max_body", "65536"}}).handle(spec("GET", upstream.base + "/api/declared-huge"));
  EXPECT_EQ(declared.error, ErrorCode::kTooLarge);
}

TEST_F(Requester, ReturnsRedirectsWithoutFollowingThem) {
  auto reply = requester().handle(spec("GET", upstream.base + "/api/redirect"));
  ASSERT_TRUE(reply.ok()) << reply.errorText;
  auto out = json(reply.body);
  EXPECT_EQ(out->getValue<int>("status"), 302);
  EXPECT_EQ(out->getObject("headers")->getValue<std::string>("location"), upstream.base + "/admin");
  EXPECT_EQ(upstream.requests, 1);  // /admin was never asked for
}

TEST_F(Requester, GivesABinaryBodyAsBase64) {
  auto reply = requester().handle(spec("GET", upstream.base + "/api/binary"));
  ASSERT_TRUE(reply.ok()) << reply.errorText;
  auto out = json(reply.body);
  EXPECT_FALSE(out->has("body"));
  EXPECT_EQ(out->getValue<std::string>("body_base64"), "//4AAQ==");
}

TEST_F(Requester, ConnectionRefusedIsUnavailable) {
  Poco::Net::ServerSocket closed(Poco::Net::SocketAddress("127.0.0.1", 0));
  auto base = "http://127.0.0.1:" + std::to_string(closed.address().port());
  closed.close();
  http::HttpRequester r(http::parseRequesterOptions(lookupOf({{"allow", base + "/"}})));
  EXPECT_EQ(r.handle(spec("GET", base + "/x")).error, ErrorCode::kUnavailable);
}

TEST(RequesterAgainstPython, GetsAFileFromPythonsHttpServer) {
  Cluster cluster;
  std::ofstream(cluster.dir() / "hello.txt") << "hello from python";
  auto& python = cluster.startProcess(kPython, {"-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                                                cluster.dir().string(), "0"},
                                      "python-http.log");
  ASSERT_TRUE(python.waitForLog("Serving HTTP on", 10s)) << python.log();
  std::smatch match;
  auto log = python.log();
  ASSERT_TRUE(std::regex_search(log, match, std::regex("port ([0-9]+)"))) << log;
  auto base = "http://127.0.0.1:" + match[1].str();
  http::HttpRequester r(http::parseRequesterOptions(lookupOf({{"allow", base + "/hello.txt"}})));
  auto reply = r.handle(spec("GET", base + "/hello.txt"));
  ASSERT_TRUE(reply.ok()) << reply.errorText;
  EXPECT_EQ(json(reply.body)->getValue<std::string>("body"), "hello from python");
  EXPECT_EQ(r.handle(spec("GET", base + "/tokens")).error, ErrorCode::kForbidden);
}

}  // namespace
}  // namespace strata::test
