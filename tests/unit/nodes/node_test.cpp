#include <strata/nodes/node.h>

#include <future>
#include <thread>

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
  node.start();
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
  node.start();
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
  node.start();
  auto response = node.call(OutgoingRequest{"module.fails", {}, {}, {}, {}});
  EXPECT_FALSE(response.ok);
  EXPECT_EQ(response.errorCode, ErrorCode::kInternal);
  EXPECT_EQ(response.errorText, "rules table missing");
}

TEST(Node, ServiceHostedElsewhereIsUnavailableWithoutBrokers) {
  Node node(options(), std::nullopt);
  node.start();
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
  strata_call call{sizeof(strata_call), 0, {"c.first", 7}, nullptr, 0, &frame, 1, 0, nullptr};
  int answered = -1;
  node.start();
  int rc = node.call(
      call, [](void* context, const strata_response* response) { *static_cast<int*>(context) = response->error; },
      &answered);
  EXPECT_EQ(rc, STRATA_OK);
  EXPECT_EQ(answered, STRATA_OK);
  EXPECT_EQ(gSeenFrame, body.data());
}

TEST(Node, CCallWithBrokenArgumentsIsMalformedNotACrash) {
  Node node(options(), std::nullopt);
  strata_call call{sizeof(strata_call), 0, {"x", 1}, nullptr, 0, nullptr, 3, 0, nullptr};  // three frames, no array
  node.start();
  EXPECT_EQ(node.call(call, nullptr, nullptr), STRATA_ERROR_MALFORMED);
  strata_call unnamed{sizeof(strata_call), 0, {nullptr, 0}, nullptr, 0, nullptr, 0, 0, nullptr};
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
  strata_call call{sizeof(strata_call), 0, {"module.id", 9}, nullptr, 0, nullptr, 0, 0,
                   reinterpret_cast<const std::uint8_t*>(id.bytes().data())};
  node.start();
  EXPECT_EQ(node.call(call, nullptr, nullptr), STRATA_OK);
  EXPECT_EQ(seen, id);
}

TEST(Node, CallsBeforeStartAndAfterCloseAreUnavailable) {
  Node node(options(), std::nullopt);
  int runs = 0;
  node.addService("module.count", [&runs](const IncomingRequest&, const PartialSender&) {
    ++runs;
    return Outcome::reply({});
  });
  auto early = node.call(OutgoingRequest{"module.count", {}, {}, {}, {}});
  EXPECT_EQ(early.errorCode, ErrorCode::kUnavailable);
  EXPECT_NE(early.errorText.find("still starting"), std::string::npos) << early.errorText;
  node.start();
  EXPECT_TRUE(node.call(OutgoingRequest{"module.count", {}, {}, {}, {}}).ok);
  EXPECT_TRUE(node.close(std::chrono::milliseconds(0)));
  auto late = node.call(OutgoingRequest{"module.count", {}, {}, {}, {}});
  EXPECT_EQ(late.errorCode, ErrorCode::kUnavailable);
  EXPECT_NE(late.errorText.find("stopping"), std::string::npos) << late.errorText;
  EXPECT_EQ(runs, 1);
}

TEST(Node, CloseWaitsForTheCallsStillRunning) {
  Node node(options(), std::nullopt);
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  node.addService("module.block", [&entered, released](const IncomingRequest&, const PartialSender&) {
    entered.set_value();
    released.wait();
    return Outcome::reply({"done"});
  });
  node.start();
  std::thread caller([&node] { EXPECT_TRUE(node.call(OutgoingRequest{"module.block", {}, {}, {}, {}}).ok); });
  entered.get_future().wait();
  EXPECT_FALSE(node.close(std::chrono::milliseconds(0)));  // one call is still inside
  release.set_value();
  EXPECT_TRUE(node.close(std::chrono::seconds(10)));
  caller.join();
}

TEST(Node, ACallFromOutsideNeverReachesAnInProcessService) {
  Node node(options(), std::nullopt);
  int runs = 0;
  node.addService(
      "module.secret",
      [](void* context, const strata_request*, strata_reply*) { ++*static_cast<int*>(context); }, &runs,
      STRATA_SERVICE_LOCAL);
  node.start();
  strata_call call{sizeof(strata_call), STRATA_CALL_FROM_OUTSIDE, {"module.secret", 13}, nullptr, 0, nullptr, 0, 0,
                   nullptr};
  std::string text;
  int rc = node.call(
      call,
      [](void* context, const strata_response* response) {
        *static_cast<std::string*>(context) = std::string(response->error_text.data, response->error_text.size);
      },
      &text);
  EXPECT_EQ(rc, STRATA_ERROR_UNAVAILABLE);
  EXPECT_NE(text.find("always go through brokers"), std::string::npos) << text;
  EXPECT_EQ(runs, 0);
  call.flags = 0;
  EXPECT_EQ(node.call(call, nullptr, nullptr), STRATA_OK);  // the same call from inside is served
  EXPECT_EQ(runs, 1);
}

TEST(Node, ACallWithAnOlderSmallerStructIsRefused) {
  Node node(options(), std::nullopt);
  node.start();
  strata_call call{sizeof(strata_call) - 1, 0, {"x", 1}, nullptr, 0, nullptr, 0, 0, nullptr};
  EXPECT_EQ(node.call(call, nullptr, nullptr), STRATA_ERROR_MALFORMED);
}

TEST(Node, AnEventPublishedAndConsumedInProcessGoesByFunctionCall) {
  Node node(options(), std::nullopt);
  std::vector<std::string> seen;
  std::thread::id on;
  node.subscribe("orders.>", [&](const Event& e) {
    seen.push_back(e.subject + " " + e.body + " from " + e.publisher.name);
    on = std::this_thread::get_id();
  });
  node.subscribe("audit.*", [&](const Event&) { seen.push_back("audit"); });
  node.start();
  auto result = node.publish(OutgoingEvent{"orders.eu.placed", "total 513", {}, {}});
  EXPECT_TRUE(result.ok) << result.errorText;
  // Delivered before publish returned, on the publisher's own thread.
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "orders.eu.placed total 513 from orders-node");
  EXPECT_EQ(on, std::this_thread::get_id());
  auto bad = node.publish(OutgoingEvent{"orders.*", "", {}, {}});
  EXPECT_EQ(bad.errorCode, ErrorCode::kMalformed);
  EXPECT_THROW(node.subscribe("a..b", [](const Event&) {}), SubscribeError);
}

TEST(Node, AnEventHandlerThatThrowsHarmsNeitherThePublisherNorTheOthers) {
  Node node(options(), std::nullopt);
  int heard = 0;
  node.subscribe("a.*", [](const Event&) { throw std::runtime_error("handler failed"); });
  node.subscribe("a.>", [&](const Event&) { ++heard; });
  node.start();
  EXPECT_TRUE(node.publish(OutgoingEvent{"a.b", "x", {}, {}}).ok);
  EXPECT_EQ(heard, 1);
  EXPECT_TRUE(node.close(std::chrono::milliseconds(100)));  // nothing left in flight
}

TEST(Node, NoEventReachesAHandlerOnceTheNodeIsClosed) {
  Node node(options(), std::nullopt);
  int heard = 0;
  node.subscribe("a", [&](const Event&) { ++heard; });
  node.start();
  ASSERT_TRUE(node.publish(OutgoingEvent{"a", "x", {}, {}}).ok);
  EXPECT_TRUE(node.close(std::chrono::milliseconds(100)));
  EXPECT_FALSE(node.publish(OutgoingEvent{"a", "x", {}, {}}).ok);
  EXPECT_EQ(heard, 1);
}

TEST(Node, PublishingBeforeStartIsUnavailable) {
  Node node(options(), std::nullopt);
  auto result = node.publish(OutgoingEvent{"orders.placed", "x", {}, {}});
  EXPECT_EQ(result.errorCode, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace strata::nodes
