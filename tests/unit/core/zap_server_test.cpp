#include <strata/core/zap_server.h>

#include <zmq.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <strata/core/authorized_keys.h>
#include <strata/core/curve_keys.h>
#include <strata/core/errors.h>
#include <strata/core/socket_setup.h>

#include "keys.h"

namespace strata::core {
namespace {

constexpr std::size_t kCurveKeyBytes = 32;
// How long a test waits for the ZAP thread to answer before it fails; an answer normally
// comes in well under a millisecond.
constexpr std::chrono::milliseconds kReplyDeadline{5000};

// The 32 raw bytes of a key, as libzmq hands them to the ZAP handler.
std::string binaryKey(const PublicKey& key) {
  std::array<std::uint8_t, kCurveKeyBytes> bytes{};
  EXPECT_NE(zmq_z85_decode(bytes.data(), key.z85().c_str()), nullptr);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class DecideZapTest : public ::testing::Test {
 protected:
  void SetUp() override { keys_.add(web_, Identity{"web", 4}); }

  PublicKey web_ = test::freshKey();
  AuthorizedKeys keys_;
};

TEST_F(DecideZapTest, AuthorizedCurveKeyIsAcceptedWithItsKeyAsUserId) {
  ZapDecision d = decideZap(keys_, kZapDomain, "CURVE", binaryKey(web_));
  EXPECT_EQ(d.statusCode, "200");
  EXPECT_EQ(d.userId, web_.z85());
  EXPECT_EQ(d.name, "web");
}

TEST_F(DecideZapTest, UnknownKeyIsRefused) {
  ZapDecision d = decideZap(keys_, kZapDomain, "CURVE", binaryKey(generateKeyPair().publicKey));
  EXPECT_EQ(d.statusCode, "400");
  EXPECT_EQ(d.userId, "");
}

TEST_F(DecideZapTest, OtherMechanismIsRefused) {
  for (const char* mechanism : {"NULL", "PLAIN", "GSSAPI", "curve"}) {
    ZapDecision d = decideZap(keys_, kZapDomain, mechanism, binaryKey(web_));
    EXPECT_EQ(d.statusCode, "400") << mechanism;
    EXPECT_EQ(d.userId, "") << mechanism;
  }
}

TEST_F(DecideZapTest, OtherDomainIsRefused) {
  for (const char* domain : {"", "global", "strata2"}) {
    ZapDecision d = decideZap(keys_, domain, "CURVE", binaryKey(web_));
    EXPECT_EQ(d.statusCode, "400") << domain;
    EXPECT_EQ(d.userId, "") << domain;
  }
}

TEST_F(DecideZapTest, ShortOrLongKeyIsRefused) {
  std::string key = binaryKey(web_);
  EXPECT_EQ(decideZap(keys_, kZapDomain, "CURVE", key.substr(0, kCurveKeyBytes - 1)).statusCode, "400");
  EXPECT_EQ(decideZap(keys_, kZapDomain, "CURVE", key + "x").statusCode, "400");
  EXPECT_EQ(decideZap(keys_, kZapDomain, "CURVE", "").statusCode, "400");
}

TEST_F(DecideZapTest, RefusalCarriesStatusText) {
  EXPECT_FALSE(decideZap(keys_, kZapDomain, "PLAIN", "").statusText.empty());
}

// ---- The ZAP thread, driven over its inproc endpoint as libzmq would ----

class ZapServerTest : public ::testing::Test {
 protected:
  ZapServerTest() {
    auto keys = std::make_shared<AuthorizedKeys>();
    keys->add(web_, Identity{"web", 4});
    zap_ = std::make_unique<ZapServer>(context_, keys);
    client_.set(zmq::sockopt::linger, 0);
    client_.set(zmq::sockopt::rcvtimeo, static_cast<int>(kReplyDeadline.count()));
    client_.connect("inproc://zeromq.zap.01");
  }

  // Sends one request and returns the reply's frames; fails the test past the deadline.
  zmq::multipart_t ask(zmq::multipart_t request) {
    request.send(client_);
    zmq::multipart_t reply;
    EXPECT_TRUE(reply.recv(client_)) << "no ZAP reply within " << kReplyDeadline.count() << " ms";
    return reply;
  }

  zmq::multipart_t curveRequest(const std::string& requestId, const std::string& key) {
    zmq::multipart_t request;
    for (const std::string& frame : {std::string("1.0"), requestId, std::string(kZapDomain),
                                     std::string("127.0.0.1"), std::string(), std::string("CURVE"), key}) {
      request.addstr(frame);
    }
    return request;
  }

  PublicKey web_ = test::freshKey();
  zmq::context_t context_;
  std::unique_ptr<ZapServer> zap_;
  zmq::socket_t client_{context_, zmq::socket_type::req};
};

TEST_F(ZapServerTest, AnswersAuthorizedKeyWith200AndItsKey) {
  zmq::multipart_t reply = ask(curveRequest("id-1", binaryKey(web_)));
  ASSERT_EQ(reply.size(), 6u);
  EXPECT_EQ(reply[0].to_string(), "1.0");
  EXPECT_EQ(reply[1].to_string(), "id-1");
  EXPECT_EQ(reply[2].to_string(), "200");
  EXPECT_EQ(reply[4].to_string(), web_.z85());
  EXPECT_EQ(zap_->accepted(), 1u);
  EXPECT_EQ(zap_->refused(), 0u);
}

TEST_F(ZapServerTest, AnswersUnknownKeyWith400) {
  zmq::multipart_t reply = ask(curveRequest("id-2", binaryKey(generateKeyPair().publicKey)));
  ASSERT_EQ(reply.size(), 6u);
  EXPECT_EQ(reply[1].to_string(), "id-2");
  EXPECT_EQ(reply[2].to_string(), "400");
  EXPECT_EQ(reply[4].to_string(), "");
  EXPECT_EQ(zap_->refused(), 1u);
}

TEST_F(ZapServerTest, AnswersMalformedRequestWith500) {
  zmq::multipart_t request;
  request.addstr("2.0");  // unknown ZAP version
  request.addstr("id-3");
  zmq::multipart_t reply = ask(std::move(request));
  ASSERT_EQ(reply.size(), 6u);
  EXPECT_EQ(reply[2].to_string(), "500");
  EXPECT_EQ(zap_->refused(), 1u);
}

TEST_F(ZapServerTest, KeepsAnsweringAfterRefusal) {
  EXPECT_EQ(ask(curveRequest("a", "short"))[2].to_string(), "400");
  EXPECT_EQ(ask(curveRequest("b", binaryKey(web_)))[2].to_string(), "200");
}

TEST_F(ZapServerTest, ReplacedKeysDecideTheNextHandshake) {
  PublicKey newcomer = test::freshKey();
  EXPECT_EQ(ask(curveRequest("a", binaryKey(newcomer)))[2].to_string(), "400");
  auto keys = std::make_shared<AuthorizedKeys>();
  keys->add(newcomer, Identity{"newcomer", 2});
  zap_->replaceKeys(keys);
  EXPECT_EQ(ask(curveRequest("b", binaryKey(newcomer)))[2].to_string(), "200");
  EXPECT_EQ(ask(curveRequest("c", binaryKey(web_)))[2].to_string(), "400");
  EXPECT_EQ(zap_->counts().unknownKey, 2u);
}

TEST_F(ZapServerTest, RefusesWith300WhileConnectionsPassTheCap) {
  zap_->limitConnections(2);
  zap_->setOpenConnections(3);  // this handshake's connection is counted among them
  auto refused = ask(curveRequest("a", binaryKey(web_)));
  EXPECT_EQ(refused[2].to_string(), "300");
  EXPECT_EQ(refused[4].to_string(), "");
  zap_->setOpenConnections(2);
  EXPECT_EQ(ask(curveRequest("b", binaryKey(web_)))[2].to_string(), "200");
  EXPECT_EQ(zap_->counts().full, 1u);
  EXPECT_EQ(zap_->counts().accepted, 1u);
}

TEST_F(ZapServerTest, SecondHandlerOnSameContextThrowsSystemError) {
  // libzmq has one ZAP endpoint per context; a second handler must fail loudly rather
  // than leave connections to whichever one happens to answer.
  EXPECT_THROW(ZapServer(context_, std::make_shared<AuthorizedKeys>()), SystemError);
}

}  // namespace
}  // namespace strata::core
