// http.request against an HTTPS server whose certificate comes from another CA, in a
// process set up as strata-node can be: a Poco::Util::Application whose SSLManager has
// been asked for its client defaults (so Poco's ConsoleCertificateHandler is installed,
// which asks "Accept the certificate (y,n)?" on stdout and reads stdin), with std::cin
// full of "y" answers. Its own executable: the handler stays for the whole process.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <typeinfo>

#include <Poco/Net/ConsoleCertificateHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Util/Application.h>

#include <strata/integrations/http/http_requester.h>

#include "console_prompt.h"
#include "http_test_support.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
namespace http = integrations::http;

std::string yes(int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += "y\n";
  return out;
}

// A CA that signs a certificate for 127.0.0.1, made with the openssl command line.
struct Authority {
  Authority(const std::filesystem::path& dir, const std::string& name) {
    caCert = dir / (name + "-ca.pem");
    serverCert = dir / (name + "-server.pem");
    serverKey = dir / (name + "-server.key");
    auto caKey = dir / (name + "-ca.key");
    auto csr = dir / (name + "-server.csr");
    auto ext = dir / (name + "-ext.cnf");
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1\n";
    const std::vector<std::string> ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin() + 1, ec.begin(), ec.end());
      return args;
    };
    for (const auto& args :
         {with({"req", "-x509", "-keyout", caKey.string(), "-out", caCert.string(), "-days", "1", "-subj",
                "/CN=Strata test " + name}),
          with({"req", "-keyout", serverKey.string(), "-out", csr.string(), "-subj", "/CN=127.0.0.1"}),
          std::vector<std::string>{"x509", "-req", "-in", csr.string(), "-CA", caCert.string(), "-CAkey",
                                   caKey.string(), "-CAcreateserial", "-out", serverCert.string(), "-days", "1",
                                   "-extfile", ext.string()}}) {
      auto r = runProgram(kOpenssl, args);
      if (r.exitCode != 0) throw std::runtime_error("openssl: " + r.err);
    }
  }
  std::filesystem::path caCert, serverCert, serverKey;
};

class SecretHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit SecretHandler(std::atomic<int>& requests) : requests_(requests) {}
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    ++requests_;
    response.send() << "secret";
  }

 private:
  std::atomic<int>& requests_;
};

class SecretFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit SecretFactory(std::atomic<int>& requests) : requests_(requests) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new SecretHandler(requests_);
  }

 private:
  std::atomic<int>& requests_;
};

class RequesterCertificate : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Net::initializeSSL();
    // What any code in strata-node that uses SSLManager's defaults (an HTTPSClientSession
    // without a context, Poco's HTTPS stream factory) does first.
    handlerType_ = typeid(*Poco::Net::SSLManager::instance().clientCertificateHandler()).name();

    Poco::Net::Context::Ptr serverContext =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, other_.serverKey.string(),
                               other_.serverCert.string(), "", Poco::Net::Context::VERIFY_NONE);
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, serverContext);
    base_ = "https://127.0.0.1:" + std::to_string(socket.address().port());
    server_ = std::make_unique<Poco::Net::HTTPServer>(new SecretFactory(requests_), socket,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
  }
  void TearDown() override { server_->stopAll(true); }

  http::HttpRequester requester(const std::filesystem::path& ca) const {
    return http::HttpRequester(http::parseRequesterOptions(
        lookupOf({{"allow", base_ + "/api/"}, {"client_ca", ca.string()}, {"client_timeout_ms", "5000"}})));
  }

  Cluster cluster_;  // a temporary directory
  NodeLikeApplication application_;
  Authority trusted_{cluster_.dir(), "trusted"};
  Authority other_{cluster_.dir(), "other"};
  std::string handlerType_;
  std::atomic<int> requests_{0};
  std::string base_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

TEST_F(RequesterCertificate, ACertificateFromAnotherCaFailsWithoutReadingStdin) {
  ASSERT_EQ(handlerType_, typeid(Poco::Net::ConsoleCertificateHandler).name());
  RedirectedConsole console(yes(100));
  auto reply = requester(trusted_.caCert).handle(R"({"url": ")" + base_ + "/api/x\"}");
  EXPECT_FALSE(reply.ok()) << reply.body;
  EXPECT_EQ(reply.error, codecs::ErrorCode::kUnavailable);
  EXPECT_NE(reply.errorText.find("certificate verify failed"), std::string::npos) << reply.errorText;
  EXPECT_EQ(requests_, 0);
  EXPECT_EQ(console.answersRead(), 0);
  EXPECT_EQ(console.printed().find("Accept the certificate"), std::string::npos) << console.printed();

  // The same connection made with Poco's callback left in place is asked, reads a "y"
  // and goes through: the setting above is one where the old code would have accepted.
  Poco::Net::Context::Ptr plain =
      new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", trusted_.caCert.string(),
                             Poco::Net::Context::VERIFY_RELAXED, 9, false);
  Poco::Net::HTTPSClientSession session("127.0.0.1", static_cast<Poco::UInt16>(std::stoi(base_.substr(base_.rfind(':') + 1))),
                                        plain);
  Poco::Net::HTTPRequest get("GET", "/api/x", Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(get);
  Poco::Net::HTTPResponse response;
  session.receiveResponse(response);
  EXPECT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_OK);
  EXPECT_GT(console.answersRead(), 0);
  EXPECT_NE(console.printed().find("Accept the certificate"), std::string::npos);
}

TEST_F(RequesterCertificate, ACertificateFromClientCaIsAccepted) {
  RedirectedConsole console("n\n");
  auto reply = requester(other_.caCert).handle(R"({"url": ")" + base_ + "/api/x\"}");
  ASSERT_TRUE(reply.ok()) << reply.errorText;
  EXPECT_NE(reply.body.find("\"secret\""), std::string::npos) << reply.body;
  EXPECT_EQ(requests_, 1);
  EXPECT_EQ(console.answersRead(), 0);
}

}  // namespace
}  // namespace strata::test
