#include <strata/core/socket_setup.h>

#include <string>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <strata/core/curve_keys.h>
#include <strata/core/errors.h>
#include <strata/core/limits.h>

namespace strata::core {
namespace {

TEST(SocketSetup, IsTcpRecognisesOnlyTcpScheme) {
  EXPECT_TRUE(isTcp("tcp://127.0.0.1:5555"));
  EXPECT_FALSE(isTcp("ipc:///tmp/x"));
  EXPECT_FALSE(isTcp("inproc://x"));
  EXPECT_FALSE(isTcp("xtcp://127.0.0.1:1"));
}

TEST(SocketSetup, BindSecureRefusesTcpWithoutCurve) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  EXPECT_THROW(bindSecure(socket, "tcp://127.0.0.1:*"), ConfigError);
}

TEST(SocketSetup, BindSecureAllowsInprocWithoutCurve) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  EXPECT_EQ(bindSecure(socket, "inproc://socket-setup-test"), "inproc://socket-setup-test");
}

TEST(SocketSetup, BindSecureReturnsChosenPortOfCurveServer) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  KeyPair pair = generateKeyPair();
  makeCurveServer(socket, pair.secretKey, Limits{});
  std::string endpoint = bindSecure(socket, "tcp://127.0.0.1:*");
  ASSERT_EQ(endpoint.rfind("tcp://127.0.0.1:", 0), 0u) << endpoint;
  std::string port = endpoint.substr(std::string("tcp://127.0.0.1:").size());
  EXPECT_NE(port, "*");
  EXPECT_GT(std::stoi(port), 0);
}

TEST(SocketSetup, BindSecureOfBadEndpointThrowsConfigError) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  EXPECT_THROW(bindSecure(socket, "nonsense://x"), ConfigError);
}

TEST(SocketSetup, CurveServerAppliesLimitsAndZapDomain) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  Limits limits;
  limits.maxFrameSize = 4096;
  limits.handshake = std::chrono::milliseconds(1234);
  makeCurveServer(socket, generateKeyPair().secretKey, limits);
  EXPECT_TRUE(socket.get(zmq::sockopt::curve_server));
  EXPECT_EQ(socket.get(zmq::sockopt::maxmsgsize), 4096);
  EXPECT_EQ(socket.get(zmq::sockopt::handshake_ivl), 1234);
  EXPECT_EQ(socket.get(zmq::sockopt::zap_domain), kZapDomain);
  EXPECT_EQ(socket.get(zmq::sockopt::linger), 0);
}

TEST(SocketSetup, CurveClientUsesPublicKeyOfItsSecretKey) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  KeyPair mine = generateKeyPair();
  KeyPair server = generateKeyPair();
  makeCurveClient(socket, mine.secretKey, server.publicKey, Limits{});
  EXPECT_EQ(socket.get(zmq::sockopt::curve_publickey), mine.publicKey.z85());
  EXPECT_EQ(socket.get(zmq::sockopt::curve_serverkey), server.publicKey.z85());
}

}  // namespace
}  // namespace strata::core
