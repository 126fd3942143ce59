// STARTTLS to a server whose certificate comes from another CA, in a process set up as
// strata-node can be: a Poco::Util::Application whose SSLManager has been asked for its
// client defaults (so Poco's ConsoleCertificateHandler is installed, which asks "Accept
// the certificate (y,n)?" on stdout and reads stdin), with std::cin full of "y" answers.
// Its own executable: the handler stays for the whole process.

#include <chrono>
#include <iostream>
#include <sstream>
#include <typeinfo>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ConsoleCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Util/Application.h>

#include <strata/integrations/smtp/smtp_service.h>

#include "console_prompt.h"
#include "cluster.h"
#include "smtp_test_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using integrations::smtp::SmtpConfig;
using integrations::smtp::SmtpService;

TEST(SmtpCertificate, ACertificateFromAnotherCaSendsNothingAndNeverReadsStdin) {
  Cluster cluster;  // a temporary directory
  NodeLikeApplication application;
  Poco::Net::initializeSSL();
  // What any code in strata-node that uses SSLManager's defaults does first.
  auto handler = Poco::Net::SSLManager::instance().clientCertificateHandler();
  ASSERT_EQ(std::string(typeid(*handler).name()), typeid(Poco::Net::ConsoleCertificateHandler).name());

  TestCa trusted(cluster.dir() / "ca", "trusted");
  TestCa other(cluster.dir() / "ca", "other");
  SmtpServerOptions options;
  options.cert = other.serverCert;
  options.key = other.serverKey;
  SmtpTestServer server(cluster.dir() / "server", options);

  std::string answers;
  for (int i = 0; i < 100; ++i) answers += "y\n";
  RedirectedConsole console(answers);
  SmtpConfig config;
  config.port = static_cast<std::uint16_t>(server.port());
  config.heloName = "node.test.example";
  config.timeout = 5s;
  config.retryBase = 50ms;
  config.maxAttempts = 2;
  config.startTls = SmtpConfig::StartTls::kRequired;
  config.caFile = trusted.caCert.string();
  config.outbox = cluster.dir() / "outbox.db";
  SmtpService smtp(config, [](strata_log_level, const std::string&) {});
  const std::string id(32, 'c');
  ASSERT_EQ(smtp.send(id, "application/json", R"({"from":"a@a.example","to":["b@b.example"],"body":"x"})").code,
            STRATA_OK);
  auto status = [&] {
    return Poco::JSON::Parser().parse(smtp.status(id).body).extract<Poco::JSON::Object::Ptr>();
  };
  // Both attempts end (the sender is never stuck on a prompt) and neither delivers.
  ASSERT_TRUE(waitUntil([&] { return status()->getValue<std::string>("status") == "dead"; }, 20s))
      << status()->getValue<std::string>("status");
  auto reply = status()->getValue<std::string>("reply");
  EXPECT_NE(reply.find("certificate verify failed"), std::string::npos) << reply;
  EXPECT_EQ(status()->getValue<int>("attempts"), 2);
  EXPECT_EQ(server.attempts(), 0u);
  EXPECT_TRUE(server.received().empty());
  EXPECT_EQ(console.answersRead(), 0);
  EXPECT_EQ(console.printed().find("Accept the certificate"), std::string::npos) << console.printed();
}

}  // namespace
}  // namespace strata::test
