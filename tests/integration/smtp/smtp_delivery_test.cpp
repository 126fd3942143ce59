// The outbox, sender and SMTP transport in process against a real SMTP server (aiosmtpd):
// the bytes and envelope that arrive, STARTTLS with a test CA, AUTH, retries on 451, dead
// letters on 550, refused header injection, and bodies that try to end DATA early.

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <strata/integrations/smtp/smtp_service.h>

#include "cluster.h"
#include "smtp_test_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using integrations::smtp::ServiceAnswer;
using integrations::smtp::SmtpConfig;
using integrations::smtp::SmtpService;

constexpr auto kWait = 20s;

std::string idOf(int n) {
  char text[33];
  std::snprintf(text, sizeof text, "%032x", n);
  return text;
}

class SmtpDelivery : public ::testing::Test {
 protected:
  SmtpConfig config(const SmtpTestServer& server) {
    SmtpConfig c;
    c.port = static_cast<std::uint16_t>(server.port());
    c.heloName = "node.test.example";
    c.timeout = 5s;
    c.retryBase = 50ms;
    c.maxAttempts = 5;
    c.outbox = cluster_.dir() / "outbox.db";
    return c;
  }
  std::unique_ptr<SmtpService> service(const SmtpConfig& c) {
    return std::make_unique<SmtpService>(c, [this](strata_log_level, const std::string& text) {
      std::lock_guard lock(logMutex_);
      log_ += text + "\n";
    });
  }
  static std::string statusOf(SmtpService& service, const std::string& id) {
    auto answer = service.status(id);
    if (answer.code != STRATA_OK) return "error " + answer.body;
    return Poco::JSON::Parser().parse(answer.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("status");
  }
  static Poco::JSON::Object::Ptr statusObject(SmtpService& service, const std::string& id) {
    return Poco::JSON::Parser().parse(service.status(id).body).extract<Poco::JSON::Object::Ptr>();
  }
  static bool waitForStatus(SmtpService& service, const std::string& id, const std::string& status) {
    return waitUntil([&] { return statusOf(service, id) == status; }, kWait);
  }
  std::string log() {
    std::lock_guard lock(logMutex_);
    return log_;
  }

  Cluster cluster_;  // a temporary directory, removed at the end
  std::mutex logMutex_;
  std::string log_;
};

const std::string kJson = "application/json";

TEST_F(SmtpDelivery, DeliversJsonMailWithTheEnvelopeAndWithoutBcc) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto smtp = service(config(server));
  auto answer = smtp->send(idOf(1), kJson,
                           R"({"from": "Alice <alice@a.example>", "to": ["bob@b.example"], "cc": ["carol@c.example"],
                               "bcc": ["dave@d.example"], "subject": "quarterly", "headers": {"X-Ref": "42"},
                               "body": "Hello Bob,\nthe numbers.\n"})");
  ASSERT_EQ(answer.code, STRATA_OK) << answer.body;
  EXPECT_EQ(answer.body, R"({"id":")" + idOf(1) + R"(","status":"queued"})");
  ASSERT_TRUE(waitForStatus(*smtp, idOf(1), "sent")) << log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].mailFrom, "alice@a.example");
  EXPECT_EQ(mail[0].rcptTos, (std::vector<std::string>{"bob@b.example", "carol@c.example", "dave@d.example"}));
  const auto& data = mail[0].data;
  EXPECT_EQ(data.rfind("From: Alice <alice@a.example>\r\nTo: bob@b.example\r\nCc: carol@c.example\r\n"
                       "Subject: quarterly\r\nX-Ref: 42\r\nDate: ", 0), 0u) << data;
  EXPECT_NE(data.find("\r\nMessage-ID: <" + idOf(1) + "@node.test.example>\r\n"), std::string::npos);
  EXPECT_EQ(data.find("dave"), std::string::npos);  // Bcc only in the envelope
  EXPECT_EQ(data.substr(data.find("\r\n\r\n")), "\r\n\r\nHello Bob,\r\nthe numbers.\r\n");
  EXPECT_NE(statusObject(*smtp, idOf(1))->getValue<std::string>("reply").find("250"), std::string::npos);
}

TEST_F(SmtpDelivery, DeliversAWholeRfc822MessageAsIs) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto smtp = service(config(server));
  const std::string message =
      "From: a@a.example\r\nTo: b@b.example\r\nSubject: raw\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
      "Message-ID: <raw@a.example>\r\n\r\nbody\r\n";
  ASSERT_EQ(smtp->send(idOf(2), "message/rfc822", message).code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(2), "sent")) << log();
  EXPECT_EQ(server.received().at(0).data, message);
}

TEST_F(SmtpDelivery, BodiesThatLookLikeTheEndOfDataArriveIntactInOneMail) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto smtp = service(config(server));
  // Each would end DATA early somewhere if sent as it is: a lone dot after bare LF, after
  // CRLF, after bare CR, a line starting with a dot, and a whole smuggled second mail.
  const std::string body =
      "one\n.\ntwo\r\n.\r\nthree\r.\rfour\n.leading dot\n..two dots\n"
      "five\r\n.\r\nMAIL FROM:<evil@evil.example>\r\nRCPT TO:<victim@v.example>\r\nDATA\r\nsmuggled\r\n.\r\n"
      "six\n.\r\nend";
  Poco::JSON::Object request;
  request.set("from", "a@a.example");
  request.set("to", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
  request.getArray("to")->add("b@b.example");
  request.set("body", body);
  std::ostringstream json;
  request.stringify(json);
  ASSERT_EQ(smtp->send(idOf(3), kJson, json.str()).code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(3), "sent")) << log();
  // A second mail, sent after the first session ended with QUIT: anything smuggled in the
  // first would have been taken before it.
  ASSERT_EQ(smtp->send(idOf(4), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"marker"})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(4), "sent")) << log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 2u);
  EXPECT_EQ(server.attempts(), 2u);
  const auto& data = mail[0].data;
  EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4),
            "one\r\n.\r\ntwo\r\n.\r\nthree\r\n.\r\nfour\r\n.leading dot\r\n..two dots\r\n"
            "five\r\n.\r\nMAIL FROM:<evil@evil.example>\r\nRCPT TO:<victim@v.example>\r\nDATA\r\nsmuggled\r\n.\r\n"
            "six\r\n.\r\nend\r\n");
  EXPECT_EQ(mail[1].rcptTos, std::vector<std::string>{"b@b.example"});
}

// What a mail program makes of a delivered message: Python's email package, default policy.
Poco::JSON::Object::Ptr readAsAMailProgramWould(const ReceivedMail& mail) {
  auto result = runProgram("/usr/bin/python3", {std::string(STRATA_SOURCE_DIR) + "/tests/integration/smtp/read_mail.py",
                                                mail.file.string(), "X-Note"});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  return Poco::JSON::Parser().parse(result.out).extract<Poco::JSON::Object::Ptr>();
}

// Text as SMTP delivers it: CRLF line ends, and one at the end.
std::string asDelivered(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
  return out.ends_with("\r\n") ? out : out + "\r\n";
}

std::string compact(const Poco::Dynamic::Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(value, out);
  return out.str();
}

// As a new user would write it: UTF-8 names in every address header, a UTF-8 subject, and a
// body with a 3,000-character line pasted in.
TEST_F(SmtpDelivery, NonAsciiNamesAndLongLinesArriveAsSentWithoutDefects) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto smtp = service(config(server));
  const std::string longLine = [] {
    std::string line;
    while (line.size() < 3000) line += "long line, caf\xC3\xA9 = ok; ";
    return line;
  }();
  const std::string body = "Gr\xC3\xBC\xC3\x9F" "e aus \xE6\x9D\xB1\xE4\xBA\xAC\n" + longLine + "\nspace at the end \n.dot\nend";
  const std::string subject = "Gr\xC3\xBC\xC3\x9F" "e aus \xE6\x9D\xB1\xE4\xBA\xAC: a subject long enough to fold "
                              "across more than one line of the header";
  Poco::JSON::Object request;
  request.set("from", "Gr\xC3\xBC\xC3\x9F" "e \xE2\x80\x94 \xE6\x9D\xB1\xE4\xBA\xAC <tokyo@example.com>");
  Poco::JSON::Array::Ptr to = new Poco::JSON::Array;
  to->add("\"M\xC3\xBCller, Hans\" <hans@b.example>");
  to->add("plain@b.example");
  request.set("to", to);
  Poco::JSON::Array::Ptr cc = new Poco::JSON::Array;
  cc->add("\xC3\x85sa <asa@c.example>");
  request.set("cc", cc);
  Poco::JSON::Object::Ptr headers = new Poco::JSON::Object;
  headers->set("Reply-To", "R\xC3\xA9ponse <r@a.example>");
  headers->set("X-Note", "\xC3\xA0 bient\xC3\xB4t");
  request.set("headers", headers);
  request.set("subject", subject);
  request.set("body", body);
  ASSERT_EQ(smtp->send(idOf(5), kJson, compact(Poco::Dynamic::Var(request))).code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(5), "sent")) << log();

  auto mail = server.received().at(0);
  auto read = readAsAMailProgramWould(mail);
  EXPECT_EQ(compact(read->get("defects")), "[]") << mail.data;
  EXPECT_LE(read->getValue<int>("longest_line"), 998);
  EXPECT_TRUE(read->getValue<bool>("seven_bit"));  // so no BODY=8BITMIME is needed
  EXPECT_TRUE(mail.mailOptions.empty());
  EXPECT_EQ(compact(read->get("from")), "[[\"Gr\xC3\xBC\xC3\x9F" "e \xE2\x80\x94 \xE6\x9D\xB1\xE4\xBA\xAC\",\"tokyo@example.com\"]]");
  EXPECT_EQ(compact(read->get("to")), "[[\"M\xC3\xBCller, Hans\",\"hans@b.example\"],[\"\",\"plain@b.example\"]]");
  EXPECT_EQ(compact(read->get("cc")), "[[\"\xC3\x85sa\",\"asa@c.example\"]]");
  EXPECT_EQ(compact(read->get("reply_to")), "[[\"R\xC3\xA9ponse\",\"r@a.example\"]]");
  EXPECT_EQ(read->getValue<std::string>("subject"), subject);
  EXPECT_EQ(read->getObject("headers")->getValue<std::string>("X-Note"), "\xC3\xA0 bient\xC3\xB4t");
  EXPECT_EQ(read->getValue<std::string>("body"), asDelivered(body));
}

TEST_F(SmtpDelivery, AnEightBitBodyOfItsOwnChoosingIsDeclared8BitMime) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto smtp = service(config(server));
  const std::string json = "{\"from\":\"a@a.example\",\"to\":[\"b@b.example\"],"
                           "\"headers\":{\"Content-Type\":\"text/plain; charset=utf-8\",\"Content-Transfer-Encoding\":\"8bit\"},"
                           "\"body\":\"caf\xC3\xA9\\n\"}";
  ASSERT_EQ(smtp->send(idOf(6), kJson, json).code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(6), "sent")) << log();
  auto mail = server.received().at(0);
  EXPECT_EQ(mail.mailOptions, std::vector<std::string>{"BODY=8BITMIME"});
  auto read = readAsAMailProgramWould(mail);
  EXPECT_EQ(compact(read->get("defects")), "[]") << mail.data;
  EXPECT_FALSE(read->getValue<bool>("seven_bit"));
  EXPECT_EQ(read->getValue<std::string>("body"), asDelivered("caf\xC3\xA9\n"));
}

// The mail server gone for a minute, as when it is down for maintenance: the mail waits in
// the outbox and goes out once, when the server is back.
TEST_F(SmtpDelivery, MailWaitsWhileTheServerIsGoneForAMinuteAndIsDeliveredOnce) {
  std::optional<SmtpConfig> probed;
  {
    SmtpTestServer probe(cluster_.dir() / "probe");  // a port that was free, let go again
    probed = config(probe);
  }
  auto c = *probed;
  int port = c.port;
  c.retryBase = 1s;  // retries after 1, 2, 4, ... 32 s: the 7th attempt, at 63 s, finds it
  c.maxAttempts = 20;
  auto smtp = service(c);
  ASSERT_EQ(smtp->send(idOf(7), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"patience"})").code,
            STRATA_OK);
  // An attempt counts from when it is claimed ("sending"); a refused one puts the mail
  // back as "queued" for its retry. Waited for together: under load the status may still
  // read "sending" just after the count moved.
  ASSERT_TRUE(waitUntil([&] {
    return statusObject(*smtp, idOf(7))->getValue<int>("attempts") >= 2 && statusOf(*smtp, idOf(7)) == "queued";
  }, 10s)) << statusOf(*smtp, idOf(7)) << "\n" << log();
  std::this_thread::sleep_for(60s - 3s);  // the outage itself, counted from the first attempt
  SmtpServerOptions back;
  back.port = port;
  SmtpTestServer server(cluster_.dir() / "server", back);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(7), "sent")) << log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].data.find("\r\n\r\npatience"), std::string::npos) << mail[0].data;
  EXPECT_EQ(server.attempts(), 1u);  // one DATA: delivered once
  EXPECT_GE(statusObject(*smtp, idOf(7))->getValue<int>("attempts"), 6);
}

TEST_F(SmtpDelivery, HeaderInjectionIsRefusedAndNothingIsQueuedOrSent) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto smtp = service(config(server));
  const std::vector<std::pair<std::string, std::string>> attempts = {
      {kJson, R"({"from":"a@a.example","to":["b@b.example"],"subject":"hi\r\nBcc: x@evil.example"})"},
      {kJson, R"({"from":"a@a.example","to":["b@b.example"],"subject":"hi\nBcc: x@evil.example"})"},
      {kJson, R"({"from":"a@a.example\r\nBcc: x@evil.example","to":["b@b.example"]})"},
      {kJson, R"({"from":"a@a.example","to":["b@b.example>\r\nRCPT TO:<x@evil.example"]})"},
      {kJson, R"({"from":"a@a.example","to":["b@b.example"],"headers":{"X-A":"1\r\nBcc: x@evil.example"}})"},
      {kJson, R"({"from":"a@a.example","to":["b@b.example"],"headers":{"X-A\r\nBcc":"x@evil.example"}})"},
      {kJson, R"({"from":"a@a.example","to":["b@b.example"],"subject":"nul\u0000here"})"},
      {"message/rfc822", "From: a@a.example\r\nTo: b@b.example\r\nSubject: hi\rBcc: x@evil.example\r\n\r\nx"},
      {"message/rfc822", "From: a@a.example\r\nTo: b@b.example\r\nSubject: a\0b\r\n\r\nx"s},
  };
  int n = 100;
  for (const auto& [type, body] : attempts) {
    auto answer = smtp->send(idOf(n), type, body);
    EXPECT_EQ(answer.code, STRATA_ERROR_MALFORMED) << body;
    EXPECT_TRUE(answer.body.find("CR") != std::string::npos || answer.body.find("LF") != std::string::npos ||
                answer.body.find("NUL") != std::string::npos || answer.body.find("not valid") != std::string::npos ||
                answer.body.find("Null bytes") != std::string::npos)  // the JSON codec refuses \u0000
        << answer.body;
    EXPECT_EQ(statusOf(*smtp, idOf(n)), "unknown");
    ++n;
  }
  ASSERT_EQ(smtp->send(idOf(1), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"marker"})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(1), "sent")) << log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(server.attempts(), 1u);
  EXPECT_EQ(mail[0].data.find("evil"), std::string::npos);
}

TEST_F(SmtpDelivery, A451IsRetriedWithBackoffAndDeliveredOnce) {
  SmtpServerOptions options;
  options.failFirst = 2;
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto smtp = service(config(server));
  ASSERT_EQ(smtp->send(idOf(5), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"x"})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(5), "sent")) << log();
  EXPECT_EQ(server.attempts(), 3u);
  EXPECT_EQ(server.received().size(), 1u);
  EXPECT_EQ(statusObject(*smtp, idOf(5))->getValue<int>("attempts"), 3);
  EXPECT_NE(log().find("retry in 100 ms: end of DATA: 451 4.3.0 try again later"), std::string::npos) << log();
}

TEST_F(SmtpDelivery, A550IsADeadLetterWithTheServersReplyAndNeverRetried) {
  SmtpServerOptions options;
  options.reject = 550;
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto smtp = service(config(server));
  ASSERT_EQ(smtp->send(idOf(6), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"x"})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(6), "dead")) << log();
  auto status = statusObject(*smtp, idOf(6));
  EXPECT_EQ(status->getValue<int>("attempts"), 1);
  EXPECT_NE(status->getValue<std::string>("reply").find("550 5.7.1 rejected by the test server"), std::string::npos);
  // A second mail goes through the same sender: the dead one was not tried again.
  ASSERT_EQ(smtp->send(idOf(7), kJson, R"({"from":"a@a.example","to":["b@b.example"]})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(7), "dead"));
  EXPECT_EQ(server.attempts(), 2u);
  EXPECT_TRUE(server.received().empty());
}

TEST_F(SmtpDelivery, ARetriedRequestIdIsQueuedOnceAndDeliveredOnce) {
  SmtpServerOptions options;
  options.tempfailUntil = cluster_.dir() / "open";
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto smtp = service(config(server));
  const std::string body = R"({"from":"a@a.example","to":["b@b.example"],"body":"first"})";
  EXPECT_EQ(smtp->send(idOf(8), kJson, body).body, R"({"id":")" + idOf(8) + R"(","status":"queued"})");
  ASSERT_TRUE(waitUntil([&] { return server.attempts() >= 1; }, kWait));
  // The client retries the same id (with another body, even): still one mail.
  EXPECT_EQ(smtp->send(idOf(8), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"second"})").code, STRATA_OK);
  std::ofstream(cluster_.dir() / "open") << "";
  ASSERT_TRUE(waitForStatus(*smtp, idOf(8), "sent")) << log();
  EXPECT_EQ(smtp->send(idOf(8), kJson, body).body, R"({"id":")" + idOf(8) + R"(","status":"sent"})");
  ASSERT_EQ(smtp->send(idOf(9), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"marker"})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(9), "sent"));
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 2u);
  EXPECT_NE(mail[0].data.find("first"), std::string::npos);
}

TEST_F(SmtpDelivery, StartTlsVerifiedAgainstTheCaWithAuth) {
  TestCa ca(cluster_.dir() / "ca");
  SmtpServerOptions options;
  options.cert = ca.serverCert;
  options.key = ca.serverKey;
  options.requireTls = true;
  options.auth = "mailer:s3cret";
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto c = config(server);
  c.startTls = SmtpConfig::StartTls::kRequired;
  c.caFile = ca.caCert.string();
  c.username = "mailer";
  c.password = "s3cret";
  auto smtp = service(c);
  ASSERT_EQ(smtp->send(idOf(10), kJson, R"({"from":"a@a.example","to":["b@b.example"],"body":"over tls"})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(10), "sent")) << log();
  auto mail = server.received();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_TRUE(mail[0].tls);
  EXPECT_EQ(mail[0].auth, "mailer");
  EXPECT_EQ(log().find("s3cret"), std::string::npos);
}

TEST_F(SmtpDelivery, StartTlsRequiredFailsClosedWhenTheServerDoesNotOfferIt) {
  SmtpTestServer server(cluster_.dir() / "server");
  auto c = config(server);
  c.startTls = SmtpConfig::StartTls::kRequired;
  c.maxAttempts = 1;
  auto smtp = service(c);
  ASSERT_EQ(smtp->send(idOf(11), kJson, R"({"from":"a@a.example","to":["b@b.example"]})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(11), "dead")) << log();
  EXPECT_NE(statusObject(*smtp, idOf(11))->getValue<std::string>("reply").find("does not offer STARTTLS"), std::string::npos);
  EXPECT_EQ(server.attempts(), 0u);
}

TEST_F(SmtpDelivery, AServerCertificateFromAnotherCaIsRefused) {
  TestCa ca(cluster_.dir() / "ca");
  TestCa other(cluster_.dir() / "ca", "other");
  SmtpServerOptions options;
  options.cert = other.serverCert;
  options.key = other.serverKey;
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto c = config(server);
  c.startTls = SmtpConfig::StartTls::kRequired;
  c.caFile = ca.caCert.string();
  c.maxAttempts = 1;
  auto smtp = service(c);
  ASSERT_EQ(smtp->send(idOf(12), kJson, R"({"from":"a@a.example","to":["b@b.example"]})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(12), "dead")) << log();
  EXPECT_NE(statusObject(*smtp, idOf(12))->getValue<std::string>("reply").find("TLS handshake"), std::string::npos)
      << statusObject(*smtp, idOf(12))->getValue<std::string>("reply");
  EXPECT_NE(statusObject(*smtp, idOf(12))->getValue<std::string>("reply").find("certificate verify failed"),
            std::string::npos);
  EXPECT_EQ(server.attempts(), 0u);
}

TEST_F(SmtpDelivery, AServerCertificateForAnotherNameIsRefused) {
  TestCa ca(cluster_.dir() / "ca", "ca", "DNS:mail.other.example");
  SmtpServerOptions options;
  options.cert = ca.serverCert;
  options.key = ca.serverKey;
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto c = config(server);
  c.startTls = SmtpConfig::StartTls::kRequired;
  c.caFile = ca.caCert.string();
  c.maxAttempts = 1;
  auto smtp = service(c);
  ASSERT_EQ(smtp->send(idOf(14), kJson, R"({"from":"a@a.example","to":["b@b.example"]})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(14), "dead")) << log();
  auto reply = statusObject(*smtp, idOf(14))->getValue<std::string>("reply");
  EXPECT_NE(reply.find("TLS handshake"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Unacceptable certificate from 127.0.0.1"), std::string::npos) << reply;
  EXPECT_EQ(server.attempts(), 0u);
}

TEST_F(SmtpDelivery, AWrongPasswordSendsNothing) {
  TestCa ca(cluster_.dir() / "ca");
  SmtpServerOptions options;
  options.cert = ca.serverCert;
  options.key = ca.serverKey;
  options.auth = "mailer:s3cret";
  SmtpTestServer server(cluster_.dir() / "server", options);
  auto c = config(server);
  c.startTls = SmtpConfig::StartTls::kRequired;
  c.caFile = ca.caCert.string();
  c.username = "mailer";
  c.password = "wrong";
  c.maxAttempts = 1;
  auto smtp = service(c);
  ASSERT_EQ(smtp->send(idOf(13), kJson, R"({"from":"a@a.example","to":["b@b.example"]})").code, STRATA_OK);
  ASSERT_TRUE(waitForStatus(*smtp, idOf(13), "dead")) << log();
  auto reply = statusObject(*smtp, idOf(13))->getValue<std::string>("reply");
  EXPECT_NE(reply.find("AUTH as mailer"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("wrong"), std::string::npos);
  EXPECT_EQ(server.attempts(), 0u);
}

}  // namespace
}  // namespace strata::test
