// The broker, nodes and clients as a user runs them: separate processes on loopback,
// CURVE everywhere, killed for real.

#include <gtest/gtest.h>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <zmq.hpp>

#include <future>
#include <optional>
#include <set>
#include <regex>

#include <strata/codecs/wire_codec.h>
#include <strata/core/socket_setup.h>
#include <strata/nodes/client.h>
#include <strata/nodes/worker.h>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using nodes::Client;
using nodes::ErrorCode;
using nodes::OutgoingRequest;
using nodes::Response;

OutgoingRequest request(const std::string& service, const std::string& body,
                        std::chrono::milliseconds timeout = 10s) {
  OutgoingRequest r;
  r.service = service;
  r.body = {body};
  r.timeout = timeout;
  return r;
}

// The broker's answer to strata.stats, as JSON text.
std::string brokerStats(Client& client) { return client.call("strata.stats", "", 5s).bodyText(); }

std::uint64_t statValue(const std::string& json, const std::string& name) {
  std::smatch m;
  std::regex re("\"" + name + "\":([0-9]+)");
  return std::regex_search(json, m, re) ? std::stoull(m[1]) : 0;
}

class BrokerIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("front", 4);
    cluster.addIdentity("logic-a", 2);
    cluster.addIdentity("logic-b", 2);
    cluster.addIdentity("data", 1);
    cluster.addIdentity("stranger", std::nullopt);
  }

  Cluster cluster;
};

TEST_F(BrokerIntegration, SharesLoadAcrossTwoWorkers) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  cluster.startNode("logic-b", "echo");
  Client client(cluster.clientOptions("front"));
  std::map<std::string, int> byWorker;
  std::vector<std::future<Response>> futures;
  for (int i = 0; i < 400; ++i) futures.push_back(client.callFuture(request("echo", "n" + std::to_string(i))));
  for (int i = 0; i < 400; ++i) {
    auto r = futures[i].get();
    ASSERT_TRUE(r.ok) << r.errorText;
    EXPECT_EQ(r.bodyText(), "n" + std::to_string(i));
    ++byWorker[nodes::findHeader(r.headers, "strata-worker").value_or("?")];
  }
  ASSERT_EQ(byWorker.size(), 2u);
  EXPECT_GE(byWorker["logic-a"], 100);
  EXPECT_GE(byWorker["logic-b"], 100);
}

TEST_F(BrokerIntegration, CompletesEveryRequestWhenAWorkerHoldingThemIsKilled) {
  cluster.startBroker();
  auto& doomed = cluster.startNode("logic-a", "sleep", {{"strata.worker.capacity", "8"}, {"strata.worker.threads", "8"}});
  cluster.startNode("logic-b", "sleep", {{"strata.worker.capacity", "8"}, {"strata.worker.threads", "8"}});
  Client client(cluster.clientOptions("front"));
  constexpr int kRequests = 40;
  std::vector<std::future<Response>> futures;
  for (int i = 0; i < kRequests; ++i) futures.push_back(client.callFuture(request("sleep", "400", 20s)));
  // Wait until both workers hold a full window, so the kill takes requests with it.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto body = client.call("strata.services", "", 5s).bodyText();
        return body.find("\"in_flight\":16") != std::string::npos;
      },
      10s));
  doomed.signal(SIGKILL);
  int ok = 0;
  for (auto& f : futures) {
    auto r = f.get();
    EXPECT_TRUE(r.ok) << r.errorText;
    ok += r.ok ? 1 : 0;
  }
  EXPECT_EQ(ok, kRequests);
  EXPECT_GE(statValue(brokerStats(client), "requeued"), 1u);
}

TEST_F(BrokerIntegration, RefusesAnUnknownKey) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  auto options = cluster.clientOptions("stranger");
  Client client(options);
  auto r = client.call(request("echo", "hi", 10s));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.errorCode, ErrorCode::kUnavailable);
  EXPECT_NE(r.errorText.find("refused this client's key"), std::string::npos) << r.errorText;
  EXPECT_TRUE(cluster.broker().waitForLog("key not authorized", 5s));
  // Once refused, later calls are told at once, not at their deadline.
  auto started = std::chrono::steady_clock::now();
  auto again = client.call(request("echo", "hi", 10s));
  EXPECT_EQ(again.errorCode, ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(BrokerIntegration, GivesNothingToAPlaintextPeer) {
  auto endpoint = cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  zmq::context_t context;
  zmq::socket_t plain(context, zmq::socket_type::dealer);
  plain.set(zmq::sockopt::linger, 0);
  plain.connect(endpoint);
  auto id = core::MessageId::generate();
  auto frames = codecs::encode(codecs::Request{id, "echo", 1000, {}, {}, {"hi"}});
  for (std::size_t i = 0; i < frames.size(); ++i) {
    plain.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  // The handshake cannot succeed, so no reply can come: give it a generous window.
  zmq::pollitem_t item{plain.handle(), 0, ZMQ_POLLIN, 0};
  EXPECT_EQ(zmq::poll(&item, 1, 1500ms), 0);
  // Raw junk on the TCP port gets the connection closed, not an answer.
  auto port = static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  Poco::Net::StreamSocket raw(Poco::Net::SocketAddress("127.0.0.1", port));
  raw.setReceiveTimeout(Poco::Timespan(5, 0));
  std::string junk(4096, '\x7f');
  raw.sendBytes(junk.data(), static_cast<int>(junk.size()));
  char buffer[256];
  int total = 0;
  try {
    while (true) {
      int n = raw.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      total += n;
    }
  } catch (const Poco::Exception&) {
    // a reset is as good as a close
  }
  // ZMTP greets with at most its 64-byte greeting; nothing of ours follows.
  EXPECT_LE(total, 64);
  Client client(cluster.clientOptions("front"));
  EXPECT_TRUE(client.call(request("echo", "still here")).ok);
}

TEST_F(BrokerIntegration, AnswersEveryRequestOfABatchFromAPeerOfItsOwn) {
  // A peer written from docs/protocol.md alone, as a new user would: it sends 40 requests
  // and one malformed one as a single BATCH frame, and takes apart whatever comes back.
  auto endpoint = cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  core::makeCurveClient(socket, core::loadSecretKey(cluster.keyFile("front")),
                        core::loadPublicKey(cluster.pubFile("broker")), core::Limits{});
  socket.connect(endpoint);
  std::set<std::string> waiting;
  std::string batch("ST\x02\x0f", 4);
  auto add = [&](const std::string& message) {
    batch += codecs::encodeU32(static_cast<std::uint32_t>(message.size())) + message;
  };
  for (int i = 0; i < 40; ++i) {
    auto id = core::MessageId::generate();
    waiting.insert(std::string(id.bytes()));
    add(codecs::encode(codecs::Request{id, "echo", 10000, {}, {}, {"n" + std::to_string(i)}}).front());
  }
  auto badId = core::MessageId::generate();
  add(codecs::encode(codecs::Request{badId, "no such name!", 10000, {}, {}, {"x"}}).front());
  socket.send(zmq::buffer(batch), zmq::send_flags::none);

  std::size_t frames = 0;
  std::size_t replies = 0;
  std::optional<codecs::ErrorCode> badAnswer;
  auto handle = [&](std::string_view message) {
    std::vector<std::string_view> one{message};
    auto decoded = codecs::decode(one);
    ASSERT_TRUE(decoded.ok()) << codecs::decodeErrorName(decoded.error);
    if (auto* reply = std::get_if<codecs::Reply>(&decoded.message)) {
      EXPECT_EQ(waiting.erase(std::string(reply->id.bytes())), 1u);
      ++replies;
    } else if (auto* error = std::get_if<codecs::Error>(&decoded.message)) {
      EXPECT_EQ(error->id, badId) << error->text;
      badAnswer = error->code;
    } else {
      ADD_FAILURE() << "unexpected alternative " << decoded.message.index();
    }
  };
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  auto until = std::chrono::steady_clock::now() + 20s;
  while ((replies < 40 || !badAnswer) && std::chrono::steady_clock::now() < until) {
    if (zmq::poll(&item, 1, 100ms) == 0) continue;
    zmq::message_t frame;
    ASSERT_TRUE(socket.recv(frame, zmq::recv_flags::dontwait));
    ++frames;
    std::vector<std::string_view> views{frame.to_string_view()};
    auto decoded = codecs::decode(views);
    ASSERT_TRUE(decoded.ok()) << codecs::decodeErrorName(decoded.error);
    if (auto* several = std::get_if<codecs::Batch>(&decoded.message)) {
      for (auto message : several->messages) handle(message);
    } else {
      handle(frame.to_string_view());
    }
  }
  EXPECT_EQ(replies, 40u);
  EXPECT_TRUE(waiting.empty());
  EXPECT_EQ(badAnswer, codecs::ErrorCode::kMalformed);
  // The broker batches too: 41 answers came in fewer frames.
  EXPECT_LT(frames, 41u);
}

TEST_F(BrokerIntegration, WorkerRegistersOnceWhenADisconnectComesInABatch) {
  // A broker of our own, written from docs/protocol.md: it takes the worker's READY, then
  // sends one BATCH of two DISCONNECTs. The first has the worker connect afresh; the second was
  // meant for the connection it left, so it must not start another round. The broker then
  // keeps the worker alive for eight heartbeats and counts its registrations.
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::curve_server, true);
  router.set(zmq::sockopt::curve_secretkey, std::string(core::loadSecretKey(cluster.keyFile("broker")).z85()));
  router.bind("tcp://127.0.0.1:*");

  constexpr auto kHeartbeat = 100ms;
  nodes::WorkerOptions options;
  options.name = "logic-a";
  options.brokers = {router.get(zmq::sockopt::last_endpoint)};
  options.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(cluster.keyFile("logic-a")));
  options.brokerKey = core::loadPublicKey(cluster.pubFile("broker"));
  options.heartbeat = kHeartbeat;
  nodes::Worker worker(options);
  worker.addService("echo", [](const nodes::IncomingRequest& in, const nodes::PartialSender&) {
    return nodes::Outcome::reply(in.body);
  });
  worker.start();

  // Each message the worker sends, with the connection it came on.
  struct Arrival {
    std::string peer;
    codecs::Message message;
  };
  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  auto receive = [&](std::chrono::milliseconds wait) {
    std::vector<Arrival> out;
    if (zmq::poll(&item, 1, wait) == 0) return out;
    zmq::message_t peer, frame;
    EXPECT_TRUE(router.recv(peer, zmq::recv_flags::dontwait));
    EXPECT_TRUE(router.recv(frame, zmq::recv_flags::dontwait));
    std::vector<std::string_view> views{frame.to_string_view()};
    auto decoded = codecs::decode(views);
    EXPECT_TRUE(decoded.ok()) << codecs::decodeErrorName(decoded.error);
    if (auto* batch = std::get_if<codecs::Batch>(&decoded.message)) {
      for (auto m : batch->messages) {
        std::vector<std::string_view> one{m};
        out.push_back({peer.to_string(), codecs::decode(one).message});
      }
    } else {
      out.push_back({peer.to_string(), decoded.message});
    }
    return out;
  };
  auto sendTo = [&](const std::string& peer, std::string_view frame) {
    router.send(zmq::buffer(peer), zmq::send_flags::sndmore);
    router.send(zmq::buffer(frame), zmq::send_flags::none);
  };

  std::optional<std::string> first;
  for (auto until = std::chrono::steady_clock::now() + 10s; !first && std::chrono::steady_clock::now() < until;) {
    for (auto& a : receive(100ms)) {
      if (std::holds_alternative<codecs::Ready>(a.message)) first = a.peer;
    }
  }
  ASSERT_TRUE(first) << "no READY from the worker";
  auto heartbeat = codecs::encode(codecs::Heartbeat{}).front();
  sendTo(*first, heartbeat);  // taken: the worker counts itself registered
  ASSERT_TRUE(waitUntil([&] { return worker.status().registered == 1; }, 10s));
  codecs::BatchWriter batch;
  auto bye = codecs::encode(codecs::Disconnect{"register again"}).front();
  auto again = codecs::encode(codecs::Disconnect{"still the old connection"}).front();
  batch.add(bye);
  batch.add(again);
  sendTo(*first, batch.frame());

  std::set<std::string> readyFrom;
  std::size_t readies = 0;
  for (auto until = std::chrono::steady_clock::now() + 8 * kHeartbeat; std::chrono::steady_clock::now() < until;) {
    for (auto& a : receive(10ms)) {
      if (a.peer == *first) continue;  // what the old connection still had on its way
      if (std::holds_alternative<codecs::Ready>(a.message)) {
        ++readies;
        readyFrom.insert(a.peer);
      }
      // As a broker does, it answers heartbeats, not READY: a retry the second DISCONNECT
      // set would come due before anything from the broker could cancel it.
      if (std::holds_alternative<codecs::Heartbeat>(a.message)) sendTo(a.peer, heartbeat);
    }
  }
  EXPECT_EQ(readies, 1u) << "the worker registered again more than once";
  EXPECT_EQ(readyFrom.size(), 1u);
  worker.stop();
}

TEST_F(BrokerIntegration, AnswersAnOversizedRequestWithTooLarge) {
  cluster.startBroker({{"strata.limits.max_message_size", "65536"}});
  cluster.startNode("logic-a", "echo");
  Client client(cluster.clientOptions("front"));
  auto r = client.call(request("echo", std::string(100'000, 'x')));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.errorCode, ErrorCode::kTooLarge) << r.errorText;
  auto small = client.call(request("echo", std::string(1000, 'x')));
  EXPECT_TRUE(small.ok) << small.errorText;
}

TEST_F(BrokerIntegration, AnswersTooManyFramesWithTooLarge) {
  cluster.startBroker({{"strata.limits.max_frames", "16"}});
  cluster.startNode("logic-a", "echo");
  Client client(cluster.clientOptions("front"));
  auto many = request("echo", "");
  many.body.assign(100, "f");
  auto r = client.call(many);
  EXPECT_EQ(r.errorCode, ErrorCode::kTooLarge) << r.errorText;
}

TEST_F(BrokerIntegration, KeepsAnsweringOthersDuringAMalformedBurst) {
  auto endpoint = cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  // An authorized peer that sends junk: CURVE lets it in, the codec must keep it out.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread attacker([&] {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    auto secret = core::loadSecretKey(cluster.keyFile("front"));
    core::makeCurveClient(socket, secret, core::loadPublicKey(cluster.pubFile("broker")), core::Limits{});
    socket.connect(endpoint);
    std::string badHeader = "ST\x09\x01";  // a version no broker speaks
    while (!stop && sent < 200'000) {
      socket.send(zmq::buffer(badHeader), zmq::send_flags::sndmore);
      socket.send(zmq::str_buffer("junk"), zmq::send_flags::none);
      ++sent;
    }
  });
  Client client(cluster.clientOptions("front"));
  int ok = 0;
  for (int i = 0; i < 300; ++i) ok += client.call(request("echo", "x", 5s)).ok ? 1 : 0;
  stop = true;
  attacker.join();
  EXPECT_EQ(ok, 300);
  ASSERT_TRUE(waitUntil([&] { return statValue(brokerStats(client), "malformed") >= 1000; }, 10s));
  // Logged once per peer and interval, not once per message.
  auto log = cluster.broker().log();
  auto lines = countOf(log, "malformed message from front");
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 5u);
}

TEST_F(BrokerIntegration, RefusesAForbiddenLayerCall) {
  cluster.startBroker();
  cluster.startNode("data", "echo");  // a layer-1 service
  Client front(cluster.clientOptions("front"));
  auto r = front.call(request("echo", "hi"));
  EXPECT_EQ(r.errorCode, ErrorCode::kForbidden) << r.errorText;
  Client logic(cluster.clientOptions("logic-a"));  // layer 2 may call layer 1
  EXPECT_TRUE(logic.call(request("echo", "hi")).ok);
}

TEST_F(BrokerIntegration, AppliesAPerServicePolicy) {
  cluster.startBroker({{"strata.policy.echo", "4"}});
  cluster.startNode("data", "echo");
  Client front(cluster.clientOptions("front"));
  EXPECT_TRUE(front.call(request("echo", "hi")).ok);
  Client logic(cluster.clientOptions("logic-a"));
  EXPECT_EQ(logic.call(request("echo", "hi")).errorCode, ErrorCode::kForbidden);
}

TEST_F(BrokerIntegration, AnswersAnUnknownServiceAtOnce) {
  cluster.startBroker();
  Client client(cluster.clientOptions("front"));
  auto started = std::chrono::steady_clock::now();
  auto r = client.call(request("no-such-service", "hi", 10s));
  EXPECT_EQ(r.errorCode, ErrorCode::kUnknownService);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(BrokerIntegration, AnswersAnExpiredRequestWithTimeout) {
  cluster.startBroker();
  cluster.startNode("logic-a", "sleep");
  Client client(cluster.clientOptions("front"));
  auto r = client.call(request("sleep", "3000", 300ms));
  EXPECT_EQ(r.errorCode, ErrorCode::kTimeout);
}

TEST_F(BrokerIntegration, StopsCleanlyOnSigterm) {
  cluster.startBroker();
  cluster.broker().signal(SIGTERM);
  auto code = cluster.broker().wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_NE(cluster.broker().log().find("stopped cleanly"), std::string::npos);
}

TEST_F(BrokerIntegration, NodeSurvivesABrokerRestart) {
  cluster.startBroker();
  cluster.startNode("logic-a", "echo");
  {
    Client client(cluster.clientOptions("front"));
    ASSERT_TRUE(client.call(request("echo", "before")).ok);
  }
  auto endpoint = cluster.brokerEndpoint();
  cluster.broker().signal(SIGKILL);
  cluster.broker().wait(10s);
  // Same port, so the node's connection finds the new broker.
  cluster.startBroker({{"strata.broker.bind", endpoint}});
  ASSERT_TRUE(cluster.broker().waitForLog("worker registered name=logic-a ", 15s)) << cluster.broker().log();
  Client client(cluster.clientOptions("front"));
  auto r = client.call(request("echo", "after"));
  EXPECT_TRUE(r.ok) << r.errorText;
}

class DirectMode : public BrokerIntegration {};

TEST_F(DirectMode, ServesClientsWithoutABroker) {
  auto config = cluster.writeConfig("direct.properties", {{"strata.node.bind", "tcp://127.0.0.1:*"},
                                                          {"strata.key", cluster.keyFile("logic-a").string()},
                                                          {"strata.authorized_keys", (cluster.dir() / "authorized_keys").string()},
                                                          {"strata.services", "echo"},
                                                          {"strata.node.name", "direct-a"}});
  auto& node = cluster.startProcess(nodeBinary(), {"--config", config.string()}, "direct.log");
  auto endpoint = node.waitForEndpoint("listening on", 10s);
  ASSERT_FALSE(endpoint.empty()) << node.log();
  nodes::ClientOptions options;
  options.endpoints = {endpoint};
  options.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(cluster.keyFile("front")));
  options.serverKey = core::loadPublicKey(cluster.pubFile("logic-a"));
  Client client(options);
  auto r = client.call(request("echo", "direct"));
  ASSERT_TRUE(r.ok) << r.errorText;
  EXPECT_EQ(r.bodyText(), "direct");
  EXPECT_EQ(nodes::findHeader(r.headers, "strata-worker").value_or(""), "direct-a");
  // Calls made together leave the client as one BATCH; the node takes each apart.
  std::promise<void> allDone;
  std::atomic<int> answered{0};
  std::atomic<int> right{0};
  constexpr int kBurst = 50;
  for (int i = 0; i < kBurst; ++i) {
    client.callAsync(request("echo", "burst " + std::to_string(i)), [&, i](Response answer) {
      if (answer.ok && answer.bodyText() == "burst " + std::to_string(i)) ++right;
      if (++answered == kBurst) allDone.set_value();
    });
  }
  ASSERT_EQ(allDone.get_future().wait_for(20s), std::future_status::ready) << node.log();
  EXPECT_EQ(right, kBurst);

  options.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(cluster.keyFile("stranger")));
  Client stranger(options);
  EXPECT_EQ(stranger.call(request("echo", "x")).errorCode, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace strata::test
