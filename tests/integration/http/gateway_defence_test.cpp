// The gateway against hostile clients: slowloris, request smuggling and header
// injection, response splitting through a service's reply, slow bodies.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>

#include <strata/integrations/http/gateway_options.h>

#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
namespace http = integrations::http;

std::string request(const std::string& headers, const std::string& body = "") {
  return "POST /v1/services/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kAliceToken) + "\r\n" +
         headers + "\r\n" + body;
}

// Reads one whole response (header and Content-Length body) from a keep-alive
// connection; "" when the connection closed or timed out first.
std::string readResponse(Poco::Net::StreamSocket& socket, std::chrono::milliseconds timeout = 10s) {
  socket.setReceiveTimeout(Poco::Timespan(timeout.count() * 1000));
  std::string got;
  char buffer[4096];
  while (true) {
    auto headerEnd = got.find("\r\n\r\n");
    if (headerEnd != std::string::npos) {
      auto at = got.find("Content-Length: ");
      std::size_t length = at == std::string::npos ? 0 : std::stoul(got.substr(at + 16));
      if (got.size() >= headerEnd + 4 + length) return got;
    }
    int n = 0;
    try {
      n = socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
      return "";
    }
    if (n <= 0) return "";
    got.append(buffer, static_cast<std::size_t>(n));
  }
}

// True when a response carries "Connection: close" (Poco writes "Close").
bool saysClose(const std::string& response) {
  return Poco::toLower(response).find("\r\nconnection: close\r\n") != std::string::npos;
}

// True once the peer has closed the connection (within timeout).
bool closedByPeer(Poco::Net::StreamSocket& socket, std::chrono::milliseconds timeout) {
  socket.setReceiveTimeout(Poco::Timespan(timeout.count() * 1000));
  char buffer[4096];
  try {
    while (true) {
      if (socket.receiveBytes(buffer, sizeof buffer) <= 0) return true;
    }
  } catch (const Poco::TimeoutException&) {
    return false;
  } catch (const Poco::Exception&) {
    return true;  // reset
  }
}

class GatewayDefence : public ::testing::Test {
 protected:
  GatewayFixture fixture;
};

// Drips text into every socket of slow, a byte at a time and never to its end, while three
// good requests are made on fresh connections: each must still get 200 with its body,
// within a bound far above what it takes unloaded (milliseconds).
void expectServedWhileDripping(GatewayFixture& fixture, const integrations::http::Gateway& gateway,
                               std::vector<Poco::Net::StreamSocket>& slow, const std::string& text) {
  std::atomic<bool> done{false};
  std::atomic<int> bytesSent{0};
  std::thread dripper([&] {
    for (std::size_t at = 0; at < text.size() && !done; ++at) {
      for (auto& socket : slow) {
        try {
          socket.sendBytes(&text[at], 1);
          ++bytesSent;
        } catch (const Poco::Exception&) {
        }
      }
      std::this_thread::sleep_for(20ms);  // the drip itself, not a wait for a condition
    }
  });
  ASSERT_TRUE(waitUntil([&] { return bytesSent >= static_cast<int>(slow.size()) * 5; }, 10s));
  for (int round = 0; round < 3; ++round) {
    auto started = std::chrono::steady_clock::now();
    auto r = curl(fixture.cluster().dir(), {"--max-time", "5", "--data-binary", "still here", "-H",
                                            std::string("Authorization: Bearer ") + kAliceToken,
                                            gateway.url() + "/v1/services/echo"});
    EXPECT_EQ(r.status, 200) << r.err;
    EXPECT_EQ(r.body, "still here");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  }
  done = true;
  dripper.join();
}

TEST_F(GatewayDefence, AGoodRequestGets200WhileFiftySlowlorisConnectionsAreHeld) {
  constexpr int kSlowClients = 50;
  auto gateway = fixture.start({{"max_threads", "4"}, {"max_queued", "8"}, {"request_timeout_ms", "30000"}});
  const std::string header = "POST /v1/services/echo HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  std::vector<Poco::Net::StreamSocket> slow;
  for (int i = 0; i < kSlowClients; ++i) slow.emplace_back(gateway->address());
  // Each sends its header a byte at a time and never finishes it.
  expectServedWhileDripping(fixture, *gateway, slow, header);
}

// Each of slowClients sends a whole header at once, then its body a byte at a time.
void expectServedWhileBodiesDrip(GatewayFixture& fixture, const integrations::http::Gateway& gateway,
                                 const std::string& header, const std::string& bodyPrefix) {
  constexpr int kSlowClients = 50;
  std::vector<Poco::Net::StreamSocket> slow;
  for (int i = 0; i < kSlowClients; ++i) {
    slow.emplace_back(gateway.address());
    slow.back().sendBytes(header.data(), static_cast<int>(header.size()));
  }
  expectServedWhileDripping(fixture, gateway, slow, bodyPrefix);
}

TEST_F(GatewayDefence, AGoodRequestGets200WhileFiftySlowBodiesAreHeld) {
  auto gateway = fixture.start({{"max_threads", "4"}, {"max_queued", "8"}, {"request_timeout_ms", "30000"}});
  expectServedWhileBodiesDrip(fixture, *gateway, request("Content-Length: 4096\r\n"), std::string(400, 'b'));
}

TEST_F(GatewayDefence, AGoodRequestGets200WhileFiftySlowChunkedBodiesAreHeld) {
  auto gateway = fixture.start({{"max_threads", "4"}, {"max_queued", "8"}, {"request_timeout_ms", "30000"}});
  expectServedWhileBodiesDrip(fixture, *gateway, request("Transfer-Encoding: chunked\r\n"),
                              "5\r\nhello\r\n100\r\n" + std::string(200, 'c'));
}

// A client that waits for 100 Continue before its body gets it from the gate, then its answer.
TEST_F(GatewayDefence, ExpectContinueIsAnsweredBeforeTheBody) {
  auto gateway = fixture.start();
  std::string body(20000, 'e');
  auto file = fixture.cluster().dir() / "body.txt";
  std::ofstream(file) << body;
  auto started = std::chrono::steady_clock::now();
  auto r = curl(fixture.cluster().dir(), {"--max-time", "8", "--expect100-timeout", "4", "-H", "Expect: 100-continue",
                                          "--data-binary", "@" + file.string(), "-H",
                                          std::string("Authorization: Bearer ") + kAliceToken,
                                          gateway->url() + "/v1/services/echo"});
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 200) << r.err;
  EXPECT_EQ(r.body, body);
  // Without the 100, curl would wait out its 4 s expect timeout before sending.
  EXPECT_LT(took, 2s);
}

TEST_F(GatewayDefence, ClosesAConnectionThatDoesNotFinishItsHeaderInTime) {
  auto gateway = fixture.start({{"request_timeout_ms", "500"}});
  Poco::Net::StreamSocket socket(gateway->address());
  socket.sendBytes("POST /v1/serv", 13);
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  auto started = std::chrono::steady_clock::now();
  char buffer[64];
  int n = -1;
  try {
    n = socket.receiveBytes(buffer, sizeof buffer);
  } catch (const Poco::Net::ConnectionResetException&) {
    n = 0;
  }
  EXPECT_EQ(n, 0);  // closed by the gateway, not timed out here
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(GatewayDefence, ClosesAKeepAliveConnectionThatDripsItsNextRequest) {
  auto gateway = fixture.start({{"request_timeout_ms", "300"}, {"keepalive_timeout_ms", "300"}});
  Poco::Net::StreamSocket socket(gateway->address());
  auto first = request("Content-Length: 2\r\n", "hi");
  socket.sendBytes(first.data(), static_cast<int>(first.size()));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  char buffer[4096];
  int n = socket.receiveBytes(buffer, sizeof buffer);
  ASSERT_GT(n, 0);
  EXPECT_EQ(statusOf(std::string(buffer, static_cast<std::size_t>(n))), 200);
  // The second request trickles in a byte every 100 ms; the watchdog cuts it off.
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  const std::string second = request("X-Pad: " + std::string(200, 'p') + "\r\n");
  for (std::size_t at = 0; at < second.size() && !closed; ++at) {
    try {
      socket.sendBytes(&second[at], 1);
    } catch (const Poco::Exception&) {
      closed = true;
      break;
    }
    socket.setReceiveTimeout(Poco::Timespan(0, 100'000));
    try {
      closed = socket.receiveBytes(buffer, sizeof buffer) == 0;
    } catch (const Poco::TimeoutException&) {
    } catch (const Poco::Exception&) {
      closed = true;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(GatewayDefence, AGoodRequestGets200WhileKeepAliveConnectionsDripTheirNextRequest) {
  // More such connections than worker threads (16 by default), and timeouts far beyond
  // the test's: only keeping the waits for the next header off the workers lets the
  // fresh request through.
  constexpr int kSlowClients = 24;
  auto gateway = fixture.start({{"request_timeout_ms", "60000"}, {"keepalive_timeout_ms", "60000"}});
  std::vector<Poco::Net::StreamSocket> slow;
  const auto first = request("Content-Length: 2\r\n", "hi");
  for (int i = 0; i < kSlowClients; ++i) {
    auto& socket = slow.emplace_back(gateway->address());
    socket.sendBytes(first.data(), static_cast<int>(first.size()));
    auto response = readResponse(socket);
    ASSERT_EQ(statusOf(response), 200) << response;
    ASSERT_FALSE(saysClose(response)) << response;  // kept alive
  }
  const std::string next = request("X-Slow: " + std::string(500, 'a') + "\r\nContent-Length: 2\r\n", "hi");
  expectServedWhileDripping(fixture, *gateway, slow, next);
}

TEST_F(GatewayDefence, ASecondRequestWithBareLineFeedsIsRefusedLikeAFirst) {
  auto gateway = fixture.start();
  Poco::Net::StreamSocket socket(gateway->address());
  auto first = request("Content-Length: 2\r\n", "hi");
  socket.sendBytes(first.data(), static_cast<int>(first.size()));
  ASSERT_EQ(statusOf(readResponse(socket)), 200);
  std::string second = "POST /v1/services/echo HTTP/1.1\nHost: x\nAuthorization: Bearer " + std::string(kAliceToken) +
                       "\nContent-Length: 2\n\nhi";
  socket.sendBytes(second.data(), static_cast<int>(second.size()));
  auto response = readResponse(socket);
  EXPECT_EQ(statusOf(response), 400) << response;
  EXPECT_NE(response.find("header lines must end in CR LF"), std::string::npos) << response;
  EXPECT_TRUE(closedByPeer(socket, 5s));
  EXPECT_EQ(fixture.calls().size(), 1u);
}

TEST_F(GatewayDefence, KeepAliveServesMaxKeepaliveRequestsThenCloses) {
  auto gateway = fixture.start({{"max_keepalive_requests", "3"}});
  Poco::Net::StreamSocket socket(gateway->address());
  auto one = request("Content-Length: 2\r\n", "hi");
  for (int i = 1; i <= 3; ++i) {
    socket.sendBytes(one.data(), static_cast<int>(one.size()));
    auto response = readResponse(socket);
    ASSERT_EQ(statusOf(response), 200) << "request " << i << ": " << response;
    EXPECT_EQ(saysClose(response), i == 3) << "request " << i << ": " << response;
  }
  EXPECT_TRUE(closedByPeer(socket, 5s));
  EXPECT_EQ(fixture.calls().size(), 3u);
}

TEST_F(GatewayDefence, AnIdleKeepAliveConnectionIsClosedAfterKeepaliveTimeout) {
  auto gateway = fixture.start({{"keepalive_timeout_ms", "300"}, {"request_timeout_ms", "30000"}});
  Poco::Net::StreamSocket socket(gateway->address());
  auto one = request("Content-Length: 2\r\n", "hi");
  socket.sendBytes(one.data(), static_cast<int>(one.size()));
  ASSERT_EQ(statusOf(readResponse(socket)), 200);
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedByPeer(socket, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(GatewayDefence, SlowBodyIsCutOffAt408) {
  auto gateway = fixture.start({{"request_timeout_ms", "400"}});
  Poco::Net::StreamSocket socket(gateway->address());
  auto head = request("Content-Length: 100\r\n");
  socket.sendBytes(head.data(), static_cast<int>(head.size()));
  socket.setReceiveTimeout(Poco::Timespan(0, 100'000));
  std::string got;
  char buffer[4096];
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {
    try {
      socket.sendBytes("b", 1);
    } catch (const Poco::Exception&) {
    }
    try {
      int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      got.append(buffer, static_cast<std::size_t>(n));
    } catch (const Poco::TimeoutException&) {
    }
  }
  EXPECT_EQ(statusOf(got), 408) << got;
  EXPECT_TRUE(fixture.calls().empty());
}

// The last count of slowhttptest's status lines named label ("connected:", "closed:"),
// colour codes skipped; 0 before the first.
int countOf(const std::string& log, const std::string& label) {
  auto at = log.rfind(label);
  if (at == std::string::npos) return 0;
  std::string line = log.substr(at + label.size(), log.find('\n', at) - at - label.size());
  std::string plain;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      i = line.find('m', i);
      if (i == std::string::npos) break;
      continue;
    }
    plain += line[i];
  }
  return std::atoi(plain.c_str());
}

// As a new user would attack a public gateway (anonymous callers, default limits):
// slowhttptest's slow-body mode, 400 connections that each trickle a 4096-byte body.
// Good callers meanwhile get their answer within 2 s, every time.
TEST_F(GatewayDefence, GoodCallsAreAnsweredWithinTwoSecondsDuringASlowBodyAttack) {
  auto gateway = fixture.start({{"anonymous_layer", "4"}});
  // stdbuf: its status lines reach the log as they are written, not at its exit.
  Process attack("/usr/bin/stdbuf",
                 {"-oL", "/usr/bin/slowhttptest", "-B", "-c", "400", "-i", "10", "-r", "200", "-l", "30", "-u", gateway->url() + "/v1/services/echo"},
                 fixture.cluster().dir() / "slowhttptest.log");
  // Launched: 300 of its connections opened, whether the gateway still holds them or not.
  auto opened = [&] { return countOf(attack.log(), "connected:") + countOf(attack.log(), "closed:"); };
  ASSERT_TRUE(waitUntil([&] { return opened() >= 300; }, 15s)) << attack.log();

  // One good call after another, each on a new connection, until the attack is over.
  int calls = 0;
  int duringAttack = 0;
  auto longest = 0ms;
  auto until = std::chrono::steady_clock::now() + 40s;
  while (attack.running() && std::chrono::steady_clock::now() < until) {
    bool held = countOf(attack.log(), "connected:") >= 300;
    auto started = std::chrono::steady_clock::now();
    Poco::Net::HTTPClientSession session(gateway->address());
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest post(Poco::Net::HTTPRequest::HTTP_POST, "/v1/services/echo", Poco::Net::HTTPMessage::HTTP_1_1);
    std::string body = "call " + std::to_string(++calls);
    post.setContentLength(static_cast<std::streamsize>(body.size()));
    std::string answer;
    Poco::Net::HTTPResponse response;
    try {
      session.sendRequest(post) << body;
      Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    } catch (const Poco::Exception& e) {
      FAIL() << "call " << calls << ": " << e.displayText() << "\n" << attack.log().substr(0, 4000);
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    longest = std::max(longest, took);
    EXPECT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_OK) << "call " << calls;
    EXPECT_EQ(answer, body);
    EXPECT_LT(took, 2s) << "call " << calls;
    if (held && countOf(attack.log(), "connected:") >= 300) ++duringAttack;
    std::this_thread::sleep_for(100ms);  // pacing the good caller, not waiting for a condition
  }
  // The attack held its connections for most of the request deadline (10 s), and good
  // calls went on all that time.
  EXPECT_GE(duringAttack, 30) << attack.log();
  std::cout << "good calls " << calls << " (" << duringAttack << " while 300 or more attack connections were open), longest "
            << longest.count() << " ms\n";
  EXPECT_TRUE(attack.wait(60s).has_value());
}

TEST_F(GatewayDefence, RequestHeaderInjectionAndSmugglingAre400) {
  auto gateway = fixture.start();
  const std::string attempts[] = {
      request("X-A: b\rInjected: c\r\nContent-Length: 2\r\n", "hi"),                     // bare CR
      request("X-A: b\nInjected: c\r\nContent-Length: 2\r\n", "hi"),                     // bare LF in a value? (new line)
      request("X-A: \x01\x02\r\nContent-Length: 2\r\n", "hi"),                           // control bytes
      request("Bad Name: x\r\nContent-Length: 2\r\n", "hi"),                             // space in a name
      request("Content-Length: 2\r\nContent-Length: 5\r\n", "hihih"),                   // two lengths
      request("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", "2\r\nhi\r\n0\r\n\r\n"),  // CL + TE
      request("Transfer-Encoding: gzip, chunked\r\n", "2\r\nhi\r\n0\r\n\r\n"),          // other coding
      request("Content-Length: -1\r\n", "hi"),                                           // negative length
      request("Content-Length: 2\r\nX-Strata-Timeout-Ms: 1\r\n 00\r\n", "hi"),          // obsolete folding
  };
  for (const auto& attempt : attempts) {
    auto raw = rawExchange(gateway->address(), attempt, 5s);
    int status = statusOf(raw);
    EXPECT_TRUE(status == 400 || (status == 0 && raw.empty())) << attempt << "\n->\n" << raw;
    EXPECT_NE(status, 200) << attempt;
  }
  EXPECT_TRUE(fixture.calls().empty());
  // No length at all: 411.
  EXPECT_EQ(statusOf(rawExchange(gateway->address(), request("Connection: close\r\n"), 5s)), 411);
}

TEST_F(GatewayDefence, NeverEchoesCrLfFromAReplyIntoAResponseHeader) {
  // A service (here a stand-in) answering with a content-type that would split the response.
  auto options = http::parseGatewayOptions(lookupOf({{"listen", "127.0.0.1:0"}, {"anonymous_layer", "4"}}));
  http::Gateway gateway(
      std::move(options),
      [](const http::BusRequest&) {
        http::BusReply reply;
        reply.headers.emplace_back("content-type", "text/html\r\nSet-Cookie: session=stolen");
        reply.body = "<p>hi</p>";
        return reply;
      },
      nullptr);
  auto raw = rawExchange(gateway.address(), "POST /v1/services/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                            "Connection: close\r\n\r\n");
  EXPECT_EQ(statusOf(raw), 200) << raw;
  EXPECT_EQ(raw.find("Set-Cookie"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Content-Type: application/octet-stream"), std::string::npos) << raw;
}

TEST_F(GatewayDefence, ErrorTextFromTheBusStaysInTheJsonBody) {
  auto options = http::parseGatewayOptions(lookupOf({{"listen", "127.0.0.1:0"}, {"anonymous_layer", "4"}}));
  http::Gateway gateway(
      std::move(options),
      [](const http::BusRequest&) {
        return http::BusReply::failure(codecs::ErrorCode::kUnavailable, "down\r\nSet-Cookie: a=b");
      },
      nullptr);
  auto raw = rawExchange(gateway.address(), "POST /v1/services/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                            "Connection: close\r\n\r\n");
  EXPECT_EQ(statusOf(raw), 503) << raw;
  EXPECT_EQ(raw.find("\r\nSet-Cookie"), std::string::npos) << raw;
}

}  // namespace
}  // namespace strata::test
