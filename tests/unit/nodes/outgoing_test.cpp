// What a node's loop sends one socket in a turn: held one-frame messages leave as one
// frame at flush(), a lone one as itself, and nothing overtakes anything.

#include "frames.h"

#include <gtest/gtest.h>

#include <zmq.hpp>

#include <strata/codecs/wire_codec.h>

namespace strata::nodes::detail {
namespace {

struct Pair {
  zmq::context_t context;
  zmq::socket_t out{context, zmq::socket_type::pair};
  zmq::socket_t in{context, zmq::socket_type::pair};

  Pair() {
    in.bind("inproc://outgoing");
    out.connect("inproc://outgoing");
  }

  // The frames of the next message, or none if nothing has arrived (inproc delivers at once).
  std::vector<std::string> next() {
    std::vector<std::string> frames;
    zmq::message_t frame;
    if (!in.recv(frame, zmq::recv_flags::dontwait)) return frames;
    frames.push_back(frame.to_string());
    while (frame.more()) {
      EXPECT_TRUE(in.recv(frame, zmq::recv_flags::none));
      frames.push_back(frame.to_string());
    }
    return frames;
  }
};

std::string one(const codecs::Message& m) { return codecs::encode(m).front(); }

// A BATCH frame is its header, then each message after a u32 length (docs/protocol.md).
constexpr std::size_t kLength = 4;

// The messages a received frame holds: its batch's, or itself.
std::vector<std::string> unbatch(const std::string& frame) {
  std::vector<std::string_view> views{frame};
  auto decoded = codecs::decode(views);
  EXPECT_TRUE(decoded.ok()) << codecs::decodeErrorName(decoded.error);
  auto* batch = std::get_if<codecs::Batch>(&decoded.message);
  if (!batch) return {frame};
  return {batch->messages.begin(), batch->messages.end()};
}

TEST(Outgoing, SendsALoneMessageAsItselfAtFlush) {
  Pair p;
  Outgoing outgoing;
  auto credit = one(codecs::Credit{3});
  outgoing.send(p.out, {credit});
  EXPECT_TRUE(p.next().empty());  // held until the turn ends
  outgoing.flush(p.out);
  EXPECT_EQ(p.next(), std::vector<std::string>{credit});
  outgoing.flush(p.out);
  EXPECT_TRUE(p.next().empty());  // sent once
}

TEST(Outgoing, SendsWhatItHoldsAsOneBatchBeforeAMessageWithBodyFrames) {
  Pair p;
  Outgoing outgoing;
  auto first = one(codecs::Credit{1});
  auto second = one(codecs::Heartbeat{});
  outgoing.send(p.out, {first});
  outgoing.send(p.out, {second});
  auto id = core::MessageId::generate();
  auto withBody = codecs::encode(codecs::Reply{id, {}, {"a", "b"}});
  ASSERT_GT(withBody.size(), 1u);
  outgoing.send(p.out, withBody);
  auto batch = p.next();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(unbatch(batch.front()), (std::vector<std::string>{first, second}));
  EXPECT_EQ(p.next(), withBody);  // after them, untouched
  outgoing.flush(p.out);
  EXPECT_TRUE(p.next().empty());
}

TEST(Outgoing, StartsANewFrameWhenTheNextMessageWouldOutgrowItsBound) {
  Pair p;
  auto small = one(codecs::Credit{1});
  auto bigger = one(codecs::Disconnect{std::string(40, 'x')});
  // Room for the small one and the bigger one, but not for a second bigger one.
  Outgoing outgoing(codecs::kHeaderSize + 3 * kLength + small.size() + 2 * bigger.size() - 1);
  outgoing.send(p.out, {small});
  outgoing.send(p.out, {bigger});
  outgoing.send(p.out, {bigger});
  auto full = p.next();
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(unbatch(full.front()), (std::vector<std::string>{small, bigger}));
  outgoing.flush(p.out);
  EXPECT_EQ(p.next(), std::vector<std::string>{bigger});
}

TEST(Outgoing, SendsAMessageTooBigForAnyBatchAtOnceAfterWhatItHolds) {
  Pair p;
  Outgoing outgoing(64);
  auto small = one(codecs::Credit{1});
  auto big = one(codecs::Disconnect{std::string(100, 'x')});
  outgoing.send(p.out, {small});
  outgoing.send(p.out, {big});
  EXPECT_EQ(p.next(), std::vector<std::string>{small});
  EXPECT_EQ(p.next(), std::vector<std::string>{big});
}

TEST(Outgoing, ForgetsWhatItHeldForAReplacedSocket) {
  Pair p;
  Outgoing outgoing;
  outgoing.send(p.out, {one(codecs::Heartbeat{})});
  outgoing.clear();
  outgoing.flush(p.out);
  EXPECT_TRUE(p.next().empty());
}

}  // namespace
}  // namespace strata::nodes::detail
