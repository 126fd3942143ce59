// Round-trip and golden tests for the event commands: SUBSCRIBE, UNSUBSCRIBE, PUBLISH,
// ACCEPTED, EVENTS, RECEIVED. As in wire_codec_test.cpp, golden frames are spelled out by
// hand from the format in protocol.h, never produced by the encoder.

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>

#include "frames.h"

namespace strata::codecs {
namespace {

using namespace std::string_literals;
using test::countingId;
using test::decodeOwned;

const std::string kCountingIdFrame = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"s;
// Session 0x0102030405060708, sequence 0x090a0b0c0d0e0f10: the same bytes as countingId().
constexpr std::uint64_t kSession = 0x0102030405060708ull;
constexpr std::uint64_t kSequence = 0x090a0b0c0d0e0f10ull;

template <typename T>
T roundTrip(const Message& message, std::vector<std::string>& frames) {
  frames = encode(message);
  EXPECT_EQ(frames.size(), 1u) << "every event command is one frame";
  DecodeResult result = decodeOwned(frames);
  EXPECT_TRUE(result.ok()) << decodeErrorName(result.error);
  const T* decoded = std::get_if<T>(&result.message);
  EXPECT_NE(decoded, nullptr) << "decoded as alternative " << result.message.index();
  return decoded ? *decoded : T{};
}

TEST(EventId, IsTheSessionThenTheSequenceBigEndian) {
  EXPECT_EQ(eventId(kSession, kSequence), countingId());
  EXPECT_EQ(eventSession(countingId()), kSession);
  EXPECT_EQ(eventSequence(countingId()), kSequence);
}

TEST(SubscribeCodec, RoundTripKeepsEveryPatternInOrder) {
  Subscribe in{countingId(), 42, {"orders.>", "*.created", "caf\xc3\xa9"}};
  std::vector<std::string> frames;
  auto out = roundTrip<Subscribe>(in, frames);
  EXPECT_EQ(out.id, in.id);
  EXPECT_EQ(out.session, 42u);
  ASSERT_EQ(out.patterns.size(), 3u);
  EXPECT_EQ(out.patterns[0], "orders.>");
  EXPECT_EQ(out.patterns[1], "*.created");
  EXPECT_EQ(out.patterns[2], "caf\xc3\xa9");
}

TEST(SubscribeCodec, EncodesGoldenFrame) {
  const std::vector<std::string> expected = {"ST\x02\x09"s + kCountingIdFrame + "\x00\x00\x00\x00\x00\x00\x00\x2a"s +
                                             "\x00\x03" "a.>" "\x00\x01" "b"s};
  EXPECT_EQ(encode(Subscribe{countingId(), 42, {"a.>", "b"}}), expected);
  DecodeResult back = decodeOwned(expected);
  ASSERT_TRUE(back.ok()) << decodeErrorName(back.error);
  EXPECT_EQ(std::get<Subscribe>(back.message).patterns.size(), 2u);
}

TEST(UnsubscribeCodec, RoundTripOfNoPatternMeansAll) {
  std::vector<std::string> frames;
  auto out = roundTrip<Unsubscribe>(Unsubscribe{countingId(), 9, {}}, frames);
  EXPECT_EQ(out.session, 9u);
  EXPECT_TRUE(out.patterns.empty());
  EXPECT_EQ(frames[0], "ST\x02\x0a"s + kCountingIdFrame + "\x00\x00\x00\x00\x00\x00\x00\x09"s);
}

TEST(PublishCodec, RoundTripKeepsEveryEventWithSubjectHeadersAndBinaryBody) {
  std::string headers = encodeHeaders({{"content-type", "application/json"}, {"k", ""}});
  std::string body("\0\xff{}", 4);
  Publish in;
  in.events.push_back({eventId(5, 1), {}, "orders.eu.created", headers, body});
  in.events.push_back({eventId(5, 2), {}, "orders.us", "", ""});
  std::vector<std::string> frames;
  auto out = roundTrip<Publish>(in, frames);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].id, eventId(5, 1));
  EXPECT_TRUE(out.events[0].publisher.name.empty());
  EXPECT_EQ(out.events[0].subject, "orders.eu.created");
  EXPECT_EQ(out.events[0].headerBlock, headers);
  EXPECT_EQ(out.events[0].body, body);
  EXPECT_EQ(out.events[1].subject, "orders.us");
  std::vector<Header> parsed;
  ASSERT_EQ(parseHeaderBlock(out.events[0].headerBlock, parsed), DecodeError::kNone);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0].value, "application/json");
}

TEST(PublishCodec, EncodesGoldenFrame) {
  const std::vector<std::string> expected = {"ST\x02\x0b" "\x00\x00\x00\x01"s + kCountingIdFrame +
                                             "\x00" "\x00\x03" "a.b" "\x00\x00\x00\x04" "\x01" "k" "\x00\x00"
                                             "\x00\x00\x00\x02" "hi"s};
  const std::string headers = encodeHeaders({{"k", ""}});
  EXPECT_EQ(encode(Publish{{{countingId(), {}, "a.b", headers, "hi"}}}), expected);
}

TEST(PublishCodec, BatchWritersMakeTheSameBytesAsTheEncoder) {
  Publish in;
  in.events.push_back({eventId(3, 7), {}, "a", "", "x"});
  in.events.push_back({eventId(3, 8), {}, "b", "", "yz"});
  std::string built(kPublishHeaderSize, '\0');
  writePublishHeader(2, built.data());
  for (const auto& e : in.events) {
    std::string record(eventRecordSize(e), '\0');
    writeEventRecord(e, record.data());
    built += record;
  }
  EXPECT_EQ(built, encode(in).front());
}

TEST(AcceptedCodec, RoundTripKeepsRanges) {
  std::vector<std::string> frames;
  auto out = roundTrip<Accepted>(Accepted{3, {{1, 1}, {4, 9}}}, frames);
  EXPECT_EQ(out.session, 3u);
  ASSERT_EQ(out.ranges.size(), 2u);
  EXPECT_EQ(out.ranges[1].first, 4u);
  EXPECT_EQ(out.ranges[1].last, 9u);
}

TEST(AcceptedCodec, EncodesGoldenFrame) {
  const std::vector<std::string> expected = {"ST\x02\x0c" "\x00\x00\x00\x00\x00\x00\x00\x03"
                                             "\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x01\x00"s};
  EXPECT_EQ(encode(Accepted{3, {{1, 256}}}), expected);
}

TEST(EventsCodec, RoundTripKeepsEveryEventInOrder) {
  std::string headers = encodeHeaders({{"trace", "t1"}});
  const std::string large(70'000, 'x');  // an Event only views its body
  Events in{7, 12, {}};
  in.events.push_back({eventId(1, 1), {1, "store"}, "orders.eu", headers, "first"});
  in.events.push_back({eventId(1, 2), {2, "rules-2"}, "orders.us", "", large});
  std::vector<std::string> frames;
  auto out = roundTrip<Events>(in, frames);
  EXPECT_EQ(out.batch, 7u);
  EXPECT_EQ(out.dropped, 12u);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].id, eventId(1, 1));
  EXPECT_EQ(out.events[0].publisher.layer, 1);
  EXPECT_EQ(out.events[0].publisher.name, "store");
  EXPECT_EQ(out.events[0].subject, "orders.eu");
  EXPECT_EQ(out.events[0].headerBlock, headers);
  EXPECT_EQ(out.events[0].body, "first");
  EXPECT_EQ(out.events[1].publisher.name, "rules-2");
  EXPECT_EQ(out.events[1].body.size(), 70'000u);
}

TEST(EventsCodec, EncodesGoldenFrame) {
  const std::vector<std::string> expected = {
      "ST\x02\x0d" "\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x02" "\x00\x00\x00\x01"s +
      kCountingIdFrame + "\x03\x01" "db" "\x00\x01" "s" "\x00\x00\x00\x00" "\x00\x00\x00\x02" "ok"s};
  Events in{1, 2, {{countingId(), {1, "db"}, "s", "", "ok"}}};
  EXPECT_EQ(encode(in), expected);
}

TEST(EventsCodec, BatchWritersMakeTheSameBytesAsTheEncoder) {
  Events in{4, 0, {}};
  const std::string headers = encodeHeaders({{"k", "v"}});  // the events hold views into it
  in.events.push_back({eventId(2, 1), {1, "store"}, "a.b", headers, "one"});
  in.events.push_back({eventId(2, 2), {1, "store"}, "a.c", "", ""});
  std::string built(kEventsHeaderSize, '\0');
  writeEventsHeader(4, 0, 2, built.data());
  for (const auto& e : in.events) {
    std::string record(eventRecordSize(e), '\0');
    writeEventRecord(e, record.data());
    built += record;
  }
  EXPECT_EQ(built, encode(in).front());
}

TEST(ReceivedCodec, RoundTripAndGoldenFrame) {
  std::vector<std::string> frames;
  auto out = roundTrip<Received>(Received{5, 258}, frames);
  EXPECT_EQ(out.session, 5u);
  EXPECT_EQ(out.batch, 258u);
  EXPECT_EQ(frames[0], "ST\x02\x0e" "\x00\x00\x00\x00\x00\x00\x00\x05" "\x00\x00\x00\x00\x00\x00\x01\x02"s);
}

}  // namespace
}  // namespace strata::codecs
