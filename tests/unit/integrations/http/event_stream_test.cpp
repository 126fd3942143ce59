// The pieces behind the gateway's event streams, each on its own: the SSE framing, the
// browser sessions, the stream hub on real loopback sockets, and the watch relay against
// a scripted store.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "session_table.h"
#include "stream_hub.h"
#include "watch_relay.h"

namespace strata::integrations::http {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

TEST(SseEvent, FramesTypeIdAndEachLineOfData) {
  EXPECT_EQ(sseEvent("ready", "7", R"({"revision":7})"), "event: ready\nid: 7\ndata: {\"revision\":7}\n\n");
  EXPECT_EQ(sseEvent("snapshot", "", "a"), "event: snapshot\ndata: a\n\n");
  // A line break in the data would end the field early: every line gets its own data:.
  EXPECT_EQ(sseEvent("x", "", "one\ntwo\r\nthree\rfour"), "event: x\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
  EXPECT_EQ(sseEvent("x", "", ""), "event: x\ndata: \n\n");
}

TEST(SessionTable, OpensUnguessableSessionsThatExpire) {
  SessionTable sessions(200ms, 100);
  auto a = sessions.open({"alice", 4});
  auto b = sessions.open({"alice", 4});
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
  auto found = sessions.find(a);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(found->layer, 4);
  EXPECT_FALSE(sessions.find(std::string(43, 'A')));
  EXPECT_FALSE(sessions.find(a.substr(1)));
  sessions.close(b);
  EXPECT_FALSE(sessions.find(b));
  EXPECT_TRUE(eventually([&] { return !sessions.find(a); }, 2s)) << "a session outlived its ttl";
}

TEST(SessionTable, PastItsSizeTheOneClosestToExpiringGoes) {
  SessionTable sessions(1h, 2);
  auto first = sessions.open({"a", 4});
  auto second = sessions.open({"b", 4});
  auto third = sessions.open({"c", 4});
  EXPECT_FALSE(sessions.find(first));
  EXPECT_TRUE(sessions.find(second));
  EXPECT_TRUE(sessions.find(third));
}

// A server-side socket the hub adopts, and the client's end of it.
struct Pair {
  Poco::Net::StreamSocket server;
  Poco::Net::StreamSocket client;
};

class StreamHubTest : public ::testing::Test {
 protected:
  Pair connect() {
    Pair pair;
    pair.client.connect(listener.address());
    pair.server = listener.acceptConnection();
    return pair;
  }
  static std::string readSome(Poco::Net::StreamSocket& socket, std::size_t atLeast,
                              std::chrono::milliseconds timeout = 5s) {
    std::string out;
    char chunk[4096];
    auto end = std::chrono::steady_clock::now() + timeout;
    while (out.size() < atLeast && std::chrono::steady_clock::now() < end) {
      auto n = ::recv(socket.impl()->sockfd(), chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) out.append(chunk, static_cast<std::size_t>(n));
      if (n == 0) break;
      if (n < 0) std::this_thread::sleep_for(2ms);
    }
    return out;
  }

  Poco::Net::ServerSocket listener{Poco::Net::SocketAddress("127.0.0.1", 0)};
};

TEST_F(StreamHubTest, WritesTheHeadThenWhatIsSentInOrder) {
  StreamHub hub({});
  auto pair = connect();
  auto stream = hub.adopt(pair.server, false, "HEAD\n", nullptr);
  ASSERT_TRUE(stream);
  EXPECT_EQ(hub.size(), 1u);
  EXPECT_TRUE(stream->send("one\n"));
  EXPECT_TRUE(stream->send("two\n"));
  EXPECT_EQ(readSome(pair.client, 13), "HEAD\none\ntwo\n");
}

TEST_F(StreamHubTest, SaysSomethingWhenQuietAndNoticesAHangUp) {
  StreamHub::Options options;
  options.keepAlive = 100ms;
  StreamHub hub(options);
  auto pair = connect();
  std::atomic<bool> ended{false};
  auto stream = hub.adopt(pair.server, false, "", [&] { ended = true; });
  ASSERT_TRUE(stream);
  EXPECT_EQ(readSome(pair.client, 14), ": keep-alive\n\n");
  pair.client.close();
  EXPECT_TRUE(eventually([&] { return ended.load(); })) << "the hub missed the client leaving";
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->send("late"));
  EXPECT_EQ(hub.size(), 0u);
}

TEST_F(StreamHubTest, DropsAReaderThatFallsTooFarBehind) {
  StreamHub::Options options;
  options.maxQueuedBytes = 64 * 1024;
  StreamHub hub(options);
  auto pair = connect();
  pair.client.setReceiveBufferSize(4096);
  std::atomic<bool> ended{false};
  auto stream = hub.adopt(pair.server, false, "", [&] { ended = true; });
  ASSERT_TRUE(stream);
  // The client reads nothing: once the kernel's buffers are full, the queue grows past
  // its bound and the stream is closed, without send() ever blocking.
  std::string chunk(8192, 'x');
  bool refused = false;
  for (int i = 0; i < 10000 && !refused; ++i) refused = !stream->send(chunk);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(eventually([&] { return ended.load(); }));
}

TEST_F(StreamHubTest, RefusesPastMaxStreamsAndRunsTimers) {
  StreamHub::Options options;
  options.maxStreams = 1;
  StreamHub hub(options);
  auto a = connect();
  auto b = connect();
  EXPECT_TRUE(hub.adopt(a.server, false, "", nullptr));
  EXPECT_FALSE(hub.adopt(b.server, false, "", nullptr));
  std::atomic<bool> ran{false};
  hub.after(20ms, [&] { ran = true; });
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
  hub.stop();
  EXPECT_EQ(hub.size(), 0u);
  EXPECT_FALSE(hub.adopt(b.server, false, "", nullptr)) << "a stopped hub takes nothing";
}

// A store that answers as scripted: each call is kept with its callbacks.
struct ScriptedStore {
  struct Call {
    BusRequest request;
    BusAnswer partial;
    BusAnswer final;
  };
  std::mutex mutex;
  std::deque<Call> calls;

  BusStreamCall function() {
    return [this](const BusRequest& request, BusAnswer partial, BusAnswer final) {
      std::lock_guard lock(mutex);
      calls.push_back({request, std::move(partial), std::move(final)});
      return true;
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return calls.size();
  }
  Call at(std::size_t i) {
    std::lock_guard lock(mutex);
    return calls.at(i);
  }
  static BusReply body(std::string text) {
    BusReply reply;
    reply.body = std::move(text);
    return reply;
  }
};

class WatchRelayTest : public StreamHubTest {
 protected:
  void SetUp() override {
    pair = connect();
    out = hub.adopt(pair.server, false, "", nullptr);
    ASSERT_TRUE(out);
  }
  std::shared_ptr<WatchRelay> relay(std::int64_t after = 0) {
    WatchRelay::Options options;
    options.retryDelay = 10ms;
    return std::make_shared<WatchRelay>(store.function(), out, WatchRelay::Target{"notes", "", after, {}}, options);
  }
  std::string received() {
    received_ += readSome(pair.client, 1);
    auto end = std::chrono::steady_clock::now() + 200ms;
    while (std::chrono::steady_clock::now() < end) {
      auto more = readSome(pair.client, 1, 20ms);
      if (more.empty()) break;
      received_ += more;
    }
    return received_;
  }

  StreamHub hub{{}};
  Pair pair;
  std::shared_ptr<Stream> out;
  ScriptedStore store;
  std::string received_;
};

TEST_F(WatchRelayTest, SnapshotReadyThenStreamsFromTheSnapshotsRevision) {
  relay()->start();
  ASSERT_EQ(store.size(), 1u);
  EXPECT_EQ(store.at(0).request.service, "store.watch");
  EXPECT_EQ(store.at(0).request.body, R"({"collection":"notes"})");
  store.at(0).partial(ScriptedStore::body(R"({"type":"snapshot","revision":5,"part":0,"objects":[]})"));
  store.at(0).final(ScriptedStore::body(R"({"type":"ready","revision":5,"parts":1,"objects":0})"));
  ASSERT_EQ(store.size(), 2u);
  EXPECT_EQ(store.at(1).request.body, R"({"after":5,"collection":"notes"})");
  auto text = received();
  EXPECT_NE(text.find("event: snapshot\n"), std::string::npos) << text;
  EXPECT_NE(text.find("event: ready\nid: 5\n"), std::string::npos) << text;
}

TEST_F(WatchRelayTest, DropsWhatWasSentAndAsksAgainAfterAGap) {
  relay(10)->start();
  auto change = [](int revision) {
    return R"({"revision":)" + std::to_string(revision) + R"(,"op":"update","key":"k","attributes":{},"changed":[]})";
  };
  auto changes = [&](int from, int to, std::vector<int> revisions) {
    std::string list;
    for (auto r : revisions) list += (list.empty() ? "" : ",") + change(r);
    return ScriptedStore::body(R"({"type":"changes","from":)" + std::to_string(from) + R"(,"to":)" +
                               std::to_string(to) + R"(,"changes":[)" + list + "]}");
  };
  auto first = store.at(0);
  first.partial(changes(10, 12, {11, 12}));
  first.partial(changes(10, 12, {11, 12}));      // a resent request's copy: dropped
  first.partial(changes(11, 14, {12, 13, 14}));  // overlaps: only 13 and 14 go out
  first.partial(changes(16, 17, {17}));          // 15 and 16 went missing: ask again
  ASSERT_EQ(store.size(), 2u);
  EXPECT_EQ(store.at(1).request.body, R"({"after":14,"collection":"notes"})");
  first.partial(changes(17, 18, {18}));  // the abandoned request's: dropped
  auto text = received();
  EXPECT_NE(text.find("id: 12\n"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("from":12,"to":14)"), std::string::npos) << text;
  auto second = text.find(R"("from":12,"to":14)");
  auto secondEnd = text.find("\n\n", second);
  EXPECT_EQ(text.substr(second, secondEnd - second).find("\"revision\":12"), std::string::npos)
      << "revision 12 went out twice: " << text;
  EXPECT_EQ(text.find("id: 17"), std::string::npos) << text;
  EXPECT_EQ(text.find("id: 18"), std::string::npos) << text;
}

TEST_F(WatchRelayTest, ResetStartsAFreshSnapshotAndARefusalEndsTheStream) {
  relay(3)->start();
  store.at(0).final(ScriptedStore::body(R"({"type":"reset","reason":"past retention"})"));
  ASSERT_EQ(store.size(), 2u);
  EXPECT_EQ(store.at(1).request.body, R"({"collection":"notes"})") << "a reset asks for a snapshot";
  store.at(1).final(BusReply::failure(codecs::ErrorCode::kUnavailable, "no store"));
  ASSERT_TRUE(eventually([&] { return store.size() == 3; })) << "unavailable is asked again";
  store.at(2).final(BusReply::failure(codecs::ErrorCode::kForbidden, "layer 4 may not watch 'notes'"));
  auto text = received();
  EXPECT_NE(text.find("event: reset\n"), std::string::npos) << text;
  EXPECT_NE(text.find("event: refused\ndata: {\"error\":\"forbidden\""), std::string::npos) << text;
  EXPECT_TRUE(eventually([&] { return out->closed(); }));
  EXPECT_EQ(store.size(), 3u) << "a refusal is not asked again";
}

}  // namespace
}  // namespace strata::integrations::http
