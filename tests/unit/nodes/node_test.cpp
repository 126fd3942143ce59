#include <strata/nodes/node.h>

#include <gtest/gtest.h>

#include <strata/core/errors.h>

namespace strata::nodes {
namespace {

WorkerOptions options() {
  WorkerOptions o;
  o.name = "orders-node";
  o.layer = 2;
  return o;
}

TEST(Node, InProcessCallHandsTheBodyOverWithoutCopying) {
  Node node(options(), std::nullopt);
  const char* seen = nullptr;
  node.addService(
      "module.size",
      [&seen](const IncomingRequest& request, const PartialSender&) {
        seen = request.body.at(0).data();
        return Outcome::reply({std::to_string(request.body.at(0).size())});
      },
      Worker::Execution::kPool, Node::Reach::kLocal);
  OutgoingRequest request;
  request.service = "module.size";
  request.body.emplace_back(1 << 20, 'x');
  const char* sent = request.body[0].data();
  auto response = node.call(std::move(request));
  ASSERT_TRUE(response.ok) << response.errorText;
  EXPECT_EQ(response.bodyText(), std::to_string(1 << 20));
  EXPECT_EQ(seen, sent);  // the handler read the caller's own buffer
  EXPECT_EQ(node.localCalls(), 1u);
  EXPECT_EQ(node.remoteCalls(), 0u);
}

TEST(Node, InProcessCallCarriesTheNodesIdentityIdAndDeadline) {
  Node node(options(), std::nullopt);
  IncomingRequest seen;
  node.addService("module.who", [&seen](const IncomingRequest& request, const PartialSender&) {
    seen = request;
    return Outcome::reply({"ok"});
  });
  OutgoingRequest request;
  request.service = "module.who";
  request.timeout = std::chrono::milliseconds(5000);
  request.headers = {{"k", "v"}};
  auto response = node.call(std::move(request));
  ASSERT_TRUE(response.ok);
  EXPECT_EQ(seen.caller.name, "orders-node");
  EXPECT_EQ(seen.caller.layer, 2);
  EXPECT_EQ(seen.id, response.id);
  EXPECT_FALSE(response.id.isZero());
  EXPECT_EQ(findHeader(seen.headers, "k"), "v");
  auto left = seen.deadline - std::chrono::steady_clock::now();
  EXPECT_GT(left, std::chrono::seconds(3));
  EXPECT_LE(left, std::chrono::seconds(5));
}

TEST(Node, HandlerExceptionComesBackAsAnInternalError) {
  Node node(options(), std::nullopt);
  node.addService("module.fails", [](const IncomingRequest&, const PartialSender&) -> Outcome {
    throw std::runtime_error("rules table missing");
  });
  auto response = node.call(OutgoingRequest{"module.fails", {}, {}, {}, {}});
  EXPECT_FALSE(response.ok);
  EXPECT_EQ(response.errorCode, ErrorCode::kInternal);
  EXPECT_EQ(response.errorText, "rules table missing");
}

TEST(Node, ServiceHostedElsewhereIsUnavailableWithoutBrokers) {
  Node node(options(), std::nullopt);
  auto response = node.call(OutgoingRequest{"billing.charge", {"1"}, {}, {}, {}});
  EXPECT_FALSE(response.ok);
  EXPECT_EQ(response.errorCode, ErrorCode::kUnavailable);
  EXPECT_NE(response.errorText.find("billing.charge"), std::string::npos);
}

TEST(Node, RefusesAServiceNameTwiceAndReservedOrBadNames) {
  Node node(options(), std::nullopt);
  auto handler = [](const IncomingRequest&, const PartialSender&) { return Outcome::reply({}); };
  node.addService("a", handler);
  EXPECT_THROW(node.addService("a", handler), ConfigError);
  EXPECT_THROW(node.addService("strata.ping", handler), ConfigError);
  EXPECT_THROW(node.addService("has space", handler), ConfigError);
  EXPECT_THROW(node.addService("", handler), ConfigError);
  EXPECT_THROW(node.addService(std::string(256, 'a'), handler), ConfigError);
}

// Where the first frame a C ABI handler saw lived.
const char* gSeenFrame = nullptr;

TEST(Node, CCallToAPluginServiceInProcessPassesTheCallersFrames) {
  Node node(options(), std::nullopt);
  node.addService(
      "c.first",
      [](void*, const strata_request* request, strata_reply*) { gSeenFrame = request->frames[0].data; }, nullptr,
      STRATA_SERVICE_LOCAL);
  std::string body(4096, 'y');
  strata_bytes frame{body.data(), body.size()};
  strata_call call{{"c.first", 7}, nullptr, 0, &frame, 1, 0, nullptr};
  int answered = -1;
  int rc = node.call(
      call, [](void* context, const strata_response* response) { *static_cast<int*>(context) = response->error; },
      &answered);
  EXPECT_EQ(rc, STRATA_OK);
  EXPECT_EQ(answered, STRATA_OK);
  EXPECT_EQ(gSeenFrame, body.data());
}

TEST(Node, CCallWithBrokenArgumentsIsMalformedNotACrash) {
  Node node(options(), std::nullopt);
  strata_call call{{"x", 1}, nullptr, 0, nullptr, 3, 0, nullptr};  // three frames, no array
  EXPECT_EQ(node.call(call, nullptr, nullptr), STRATA_ERROR_MALFORMED);
  strata_call unnamed{{nullptr, 0}, nullptr, 0, nullptr, 0, 0, nullptr};
  EXPECT_EQ(node.call(unnamed, nullptr, nullptr), STRATA_ERROR_MALFORMED);
}

TEST(Node, CCallReusesTheGivenIdForARetry) {
  Node node(options(), std::nullopt);
  core::MessageId seen;
  node.addService("module.id", [&seen](const IncomingRequest& request, const PartialSender&) {
    seen = request.id;
    return Outcome::reply({});
  });
  auto id = core::MessageId::generate();
  strata_call call{{"module.id", 9}, nullptr, 0, nullptr, 0, 0,
                   reinterpret_cast<const std::uint8_t*>(id.bytes().data())};
  EXPECT_EQ(node.call(call, nullptr, nullptr), STRATA_OK);
  EXPECT_EQ(seen, id);
}

}  // namespace
}  // namespace strata::nodes
