// HTTPS: a test CA and a server certificate made with the openssl command line, and curl
// trusting only that CA.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <Poco/Net/StreamSocket.h>

#include <strata/core/errors.h>

#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
namespace http = integrations::http;

class GatewayTls : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = fixture.cluster().dir();
    ca = dir / "ca.pem";
    cert = dir / "server.pem";
    key = dir / "server.key";
    auto run = [&](const std::vector<std::string>& args) {
      auto r = runProgram(kOpenssl, args);
      ASSERT_EQ(r.exitCode, 0) << r.err;
    };
    const std::vector<std::string> ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin() + 1, ec.begin(), ec.end());
      return args;
    };
    run(with({"req", "-x509", "-keyout", (dir / "ca.key").string(), "-out", ca.string(), "-days", "1", "-subj",
              "/CN=Strata Test CA"}));
    run(with({"req", "-keyout", key.string(), "-out", (dir / "server.csr").string(), "-subj", "/CN=127.0.0.1"}));
    std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1\n";
    run({"x509", "-req", "-in", (dir / "server.csr").string(), "-CA", ca.string(), "-CAkey", (dir / "ca.key").string(),
         "-CAcreateserial", "-out", cert.string(), "-days", "1", "-extfile", (dir / "ext.cnf").string()});
    ::chmod(key.c_str(), 0600);
  }

  GatewayFixture fixture;
  std::filesystem::path ca, cert, key;
};

TEST_F(GatewayTls, CurlTrustingTheTestCaGets200OverHttps) {
  auto gateway = fixture.start({{"tls_cert", cert.string()}, {"tls_key", key.string()}});
  EXPECT_EQ(gateway->url().rfind("https://127.0.0.1:", 0), 0u) << gateway->url();
  EXPECT_NE(fixture.log().find("http gateway listening on https://127.0.0.1:"), std::string::npos);
  auto r = curl(fixture.cluster().dir(), {"--cacert", ca.string(), "--data-binary", "over tls", "-H",
                                          std::string("Authorization: Bearer ") + kAliceToken,
                                          gateway->url() + "/v1/services/echo"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "over tls");
}

TEST_F(GatewayTls, RefusesClientsThatDoNotTrustTheCertificateOrSpeakOldTls) {
  auto gateway = fixture.start({{"tls_cert", cert.string()}, {"tls_key", key.string()}});
  auto untrusted = curl(fixture.cluster().dir(), {"--data-binary", "x", gateway->url() + "/v1/services/echo"});
  EXPECT_NE(untrusted.exitCode, 0);
  auto old = curl(fixture.cluster().dir(), {"--cacert", ca.string(), "--tlsv1.0", "--tls-max", "1.1",
                                            "--data-binary", "x", gateway->url() + "/v1/services/echo"});
  EXPECT_NE(old.exitCode, 0);
  EXPECT_EQ(old.status, 0);
  auto plain = curl(fixture.cluster().dir(), {"--max-time", "5", "--data-binary", "x",
                                              "http://" + gateway->address().toString() + "/v1/services/echo"});
  EXPECT_NE(plain.status, 200);
  EXPECT_TRUE(fixture.calls().empty());
}

TEST_F(GatewayTls, AnEventStreamOverHttpsLeavesItsWorkerThread) {
  // A store that answers a snapshot at once and then holds the stream open.
  http::BusStreams streams;
  streams.watch = [](const http::BusRequest& request, http::BusAnswer onPartial, http::BusAnswer onFinal) {
    if (request.body.find("\"after\"") != std::string::npos) return true;  // held: no answer yet
    http::BusReply part;
    part.body = R"({"type":"snapshot","revision":3,"part":0,"objects":[{"key":"k","revision":3,"attributes":{}}]})";
    onPartial(std::move(part));
    http::BusReply ready;
    ready.body = R"({"type":"ready","revision":3,"parts":1,"objects":1})";
    onFinal(std::move(ready));
    return true;
  };
  auto gateway = fixture.start({{"tls_cert", cert.string()}, {"tls_key", key.string()}, {"max_threads", "1"}},
                               std::move(streams));
  CurlResult stream;
  std::thread reader([&] {
    stream = curl(fixture.cluster().dir(), {"--cacert", ca.string(), "-N", "--max-time", "3", "-H",
                                            std::string("Authorization: Bearer ") + kAliceToken,
                                            gateway->url() + "/v1/watch/notes"});
  });
  ASSERT_TRUE(waitUntil([&] { return gateway->streams() == 1; }, 10s));
  // With the one worker thread free again, a call answers while the stream stays open.
  auto r = curl(fixture.cluster().dir(), {"--cacert", ca.string(), "--data-binary", "beside a stream", "-H",
                                          std::string("Authorization: Bearer ") + kAliceToken,
                                          gateway->url() + "/v1/services/echo"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "beside a stream");
  EXPECT_EQ(gateway->streams(), 1u);
  reader.join();
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.header("Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_NE(stream.body.find("event: ready\nid: 3\n"), std::string::npos) << stream.body;
}

TEST_F(GatewayTls, ClosesAConnectionThatNeverStartsItsHandshake) {
  auto gateway = fixture.start({{"tls_cert", cert.string()}, {"tls_key", key.string()},
                                {"request_timeout_ms", "300"}, {"keepalive_timeout_ms", "300"}});
  Poco::Net::StreamSocket socket(gateway->address());
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  auto started = std::chrono::steady_clock::now();
  char buffer[16];
  int n = -1;
  try {
    n = socket.receiveBytes(buffer, sizeof buffer);
  } catch (const Poco::Exception&) {
    n = 0;
  }
  EXPECT_EQ(n, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(GatewayTls, RefusesAKeyFileOthersMayRead) {
  ::chmod(key.c_str(), 0644);
  EXPECT_THROW(fixture.start({{"tls_cert", cert.string()}, {"tls_key", key.string()}}), KeyError);
}

}  // namespace
}  // namespace strata::test
