// Round-trip and golden tests for each of the eight messages.
//
// Golden frames are written out by hand from the format in protocol.h and the comments
// in wire_codec.cpp, never produced by the encoder, so that a change to the bytes on the
// wire fails here even when encoder and decoder change together.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/message_id.h>

#include "frames.h"

namespace strata::codecs {
namespace {

using namespace std::string_literals;
using test::countingId;
using test::decodeOwned;

// The frame of countingId(), spelled out.
const std::string kCountingIdFrame =
    "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"s;

void expectSameHeaders(const std::vector<Header>& expected, const std::vector<Header>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].key, actual[i].key) << "header " << i;
    EXPECT_EQ(expected[i].value, actual[i].value) << "header " << i;
  }
}

// Encodes, decodes and returns the decoded alternative T; `frames` keeps the bytes the
// result points into.
template <typename T>
T roundTrip(const Message& message, std::vector<std::string>& frames) {
  frames = encode(message);
  DecodeResult result = decodeOwned(frames);
  EXPECT_TRUE(result.ok()) << decodeErrorName(result.error);
  const T* decoded = std::get_if<T>(&result.message);
  EXPECT_NE(decoded, nullptr) << "decoded as alternative " << result.message.index();
  return decoded ? *decoded : T{};
}

// ---- REQUEST ----

TEST(RequestCodec, RoundTripKeepsEveryField) {
  Request in;
  in.id = core::MessageId::generate();
  in.service = "sql.query";
  in.timeoutMs = kMaxTimeoutMs;
  in.caller = Caller{3, "reports-module_1"};
  in.headers = {{"trace-id", "abc123"}, {"content/type", "application/json"}, {"x:empty", ""}};
  in.body = {"SELECT 1", "", std::string_view("\0\xff", 2)};

  std::vector<std::string> frames;
  Request out = roundTrip<Request>(in, frames);

  EXPECT_EQ(in.id, out.id);
  EXPECT_EQ(in.service, out.service);
  EXPECT_EQ(in.timeoutMs, out.timeoutMs);
  EXPECT_EQ(in.caller.layer, out.caller.layer);
  EXPECT_EQ(in.caller.name, out.caller.name);
  expectSameHeaders(in.headers, out.headers);
  EXPECT_EQ(in.body, out.body);
}

TEST(RequestCodec, RoundTripOfClientRequestKeepsEmptyCallerHeadersAndBody) {
  // A client sends no caller, and a request may carry no headers and no body at all.
  Request in;
  in.id = core::MessageId::generate();
  in.service = "ping";
  in.timeoutMs = 1;

  std::vector<std::string> frames;
  Request out = roundTrip<Request>(in, frames);

  EXPECT_EQ(frames.size(), 1u);  // the envelope alone: no body at all
  EXPECT_EQ(in.id, out.id);
  EXPECT_EQ(out.service, "ping");
  EXPECT_EQ(out.timeoutMs, 1u);
  EXPECT_EQ(out.caller.layer, 0);
  EXPECT_TRUE(out.caller.name.empty());
  EXPECT_TRUE(out.headers.empty());
  EXPECT_TRUE(out.body.empty());
}

TEST(RequestCodec, EncodesGoldenFrames) {
  Request in;
  in.id = countingId();
  in.service = "echo";
  in.timeoutMs = 5000;
  in.caller = Caller{2, "web"};
  in.headers = {{"trace", "abc"}, {"k", ""}};
  in.body = {"hello", ""};

  const std::vector<std::string> expected = {
      "ST\x02\x01"s                                              // signature, version 2, REQUEST
      "\x00"s                                                     // flags: body in frames of its own
      + kCountingIdFrame +                                        // id
      "\x00\x00\x13\x88"s                                        // timeout 5000, u32 BE
      "\x04" "\x02" "web"s                                        // caller: length 4, layer 2, name
      "\x04" "echo"s                                              // service: length, name
      "\x00\x00\x00\x0f"s                                        // headers: 15 bytes, u32 BE
      "\x05" "trace" "\x00\x03" "abc" "\x01" "k" "\x00\x00"s,     // two headers
      "hello"s,                                                   // body: two frames, so not inline
      ""s,                                                        // an empty body frame stays
  };
  EXPECT_EQ(encode(in), expected);
}

TEST(RequestCodec, EncodesGoldenFrameWithInlineBody) {
  Request in;
  in.id = countingId();
  in.service = "echo";
  in.timeoutMs = 5000;
  in.body = {"hi"};

  const std::vector<std::string> expected = {
      "ST\x02\x01"s
      "\x01"s                 // flags: the body is inline
      + kCountingIdFrame +
      "\x00\x00\x13\x88"s
      "\x00"s                 // caller: none (a client's request)
      "\x04" "echo"s
      "\x00\x00\x00\x00"s    // no headers
      "hi"s,                  // the body: the rest of the envelope
  };
  EXPECT_EQ(encode(in), expected);
}

TEST(RequestCodec, InlinesOneBodyFrameUpToTheLimitAndNoLarger) {
  std::string atLimit(kMaxInlineBody, 'x');
  std::string overLimit(kMaxInlineBody + 1, 'x');
  Request in;
  in.id = countingId();
  in.service = "echo";
  in.timeoutMs = 5000;
  in.body = {atLimit};
  EXPECT_EQ(encode(in).size(), 1u);
  in.body = {overLimit};
  auto frames = encode(in);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1], overLimit);  // passed on as it is, never inside the envelope
  std::vector<std::string> kept;
  EXPECT_EQ(roundTrip<Request>(in, kept).body, (std::vector<std::string_view>{overLimit}));
}

TEST(RequestCodec, EnvelopeWriterMatchesEncoderAndTimeoutPatchesInPlace) {
  Request in;
  in.id = countingId();
  in.service = "orders.place";
  in.timeoutMs = 5000;
  in.caller = Caller{4, "web"};
  in.headers = {{"trace", "abc"}};
  in.body = {"payload"};
  std::string envelope(envelopeSize(in), '\0');
  writeEnvelope(in, envelope.data());
  EXPECT_EQ(std::vector<std::string>{envelope}, encode(in));
  patchTimeout(envelope.data(), 1234);
  in.timeoutMs = 1234;
  EXPECT_EQ(std::vector<std::string>{envelope}, encode(in));
}

// ---- PARTIAL ----

TEST(PartialCodec, RoundTripKeepsEveryField) {
  Partial in;
  in.id = core::MessageId::generate();
  in.headers = {{"seq", "7"}, {"last", "false"}};
  in.body = {"row 1", "row 2", ""};

  std::vector<std::string> frames;
  Partial out = roundTrip<Partial>(in, frames);

  EXPECT_EQ(in.id, out.id);
  expectSameHeaders(in.headers, out.headers);
  EXPECT_EQ(in.body, out.body);
}

TEST(PartialCodec, EncodesGoldenFrames) {
  Partial in;
  in.id = countingId();
  in.headers = {{"seq", "1"}};
  in.body = {"chunk"};

  const std::vector<std::string> expected = {
      "ST\x02\x02"s "\x01"s + kCountingIdFrame +  // PARTIAL, inline body
      "\x00\x00\x00\x07"s "\x03" "seq" "\x00\x01" "1"s
      "chunk"s,
  };
  EXPECT_EQ(encode(in), expected);
}

// ---- REPLY ----

TEST(ReplyCodec, RoundTripKeepsEveryField) {
  Reply in;
  in.id = core::MessageId::generate();
  in.headers = {{"status", "ok"}};
  in.body = {std::string_view("binary\0body", 11), "second"};

  std::vector<std::string> frames;
  Reply out = roundTrip<Reply>(in, frames);

  EXPECT_EQ(in.id, out.id);
  expectSameHeaders(in.headers, out.headers);
  EXPECT_EQ(in.body, out.body);
}

TEST(ReplyCodec, EncodesGoldenFrames) {
  Reply in;
  in.id = countingId();
  in.body = {"a", "bc"};

  const std::vector<std::string> expected = {
      "ST\x02\x03"s "\x00"s + kCountingIdFrame +  // REPLY, body in frames
      "\x00\x00\x00\x00"s,                        // no headers: a zero length, never a missing field
      "a"s,
      "bc"s,
  };
  EXPECT_EQ(encode(in), expected);
}

// ---- ERROR ----

TEST(ErrorCodec, RoundTripKeepsEveryField) {
  Error in;
  in.id = core::MessageId::generate();
  in.code = ErrorCode::kForbidden;
  in.text = "layer 4 may not call layer 1";

  std::vector<std::string> frames;
  Error out = roundTrip<Error>(in, frames);

  EXPECT_EQ(in.id, out.id);
  EXPECT_EQ(in.code, out.code);
  EXPECT_EQ(in.text, out.text);
}

TEST(ErrorCodec, RoundTripKeepsEveryErrorCode) {
  for (std::uint16_t raw = 1; raw <= 7; ++raw) {
    Error in;
    in.id = countingId();
    in.code = static_cast<ErrorCode>(raw);
    std::vector<std::string> frames;
    Error out = roundTrip<Error>(in, frames);
    EXPECT_EQ(out.code, in.code) << "code " << raw;
  }
}

TEST(ErrorCodec, EncodesGoldenFrames) {
  Error in;
  in.id = countingId();
  in.code = ErrorCode::kTimeout;
  in.text = "deadline passed";

  const std::vector<std::string> expected = {
      "ST\x02\x04"s + kCountingIdFrame +
      "\x00\x02"s  // kTimeout, u16 BE
      "deadline passed"s,
  };
  EXPECT_EQ(encode(in), expected);
}

// ---- READY ----

TEST(ReadyCodec, RoundTripKeepsEveryField) {
  Ready in;
  in.credit = kMaxCredit;
  in.heartbeatMs = 600'000;
  in.services = {"echo", "sql.query", "a-b_c"};

  std::vector<std::string> frames;
  Ready out = roundTrip<Ready>(in, frames);

  EXPECT_EQ(in.credit, out.credit);
  EXPECT_EQ(in.heartbeatMs, out.heartbeatMs);
  EXPECT_EQ(in.services, out.services);
}

TEST(ReadyCodec, EncodesGoldenFrames) {
  Ready in;
  in.credit = 10;
  in.heartbeatMs = 2500;
  in.services = {"echo", "sql.query"};

  const std::vector<std::string> expected = {
      "ST\x02\x05"s
      "\x00\x00\x00\x0a" "\x00\x00\x09\xc4"s  // credit 10, heartbeat 2500 ms, both u32 BE
      "\x04" "echo"s                          // services, each after its length
      "\x09" "sql.query"s,
  };
  EXPECT_EQ(encode(in), expected);
}

// ---- CREDIT ----

TEST(CreditCodec, RoundTripKeepsCredit) {
  Credit in{123'456};
  std::vector<std::string> frames;
  Credit out = roundTrip<Credit>(in, frames);
  EXPECT_EQ(out.credit, 123'456u);
}

TEST(CreditCodec, EncodesGoldenFrames) {
  const std::vector<std::string> expected = {"ST\x02\x06" "\x00\x00\x01\x2c"s};  // 300
  EXPECT_EQ(encode(Credit{300}), expected);
}

// ---- HEARTBEAT ----

TEST(HeartbeatCodec, RoundTripDecodesHeartbeat) {
  std::vector<std::string> frames;
  roundTrip<Heartbeat>(Heartbeat{}, frames);
  EXPECT_EQ(frames.size(), 1u);
}

TEST(HeartbeatCodec, EncodesGoldenFrames) {
  const std::vector<std::string> expected = {"ST\x02\x07"s};
  EXPECT_EQ(encode(Heartbeat{}), expected);
}

// ---- DISCONNECT ----

TEST(DisconnectCodec, RoundTripKeepsReason) {
  Disconnect in{"broker shutting down"};
  std::vector<std::string> frames;
  Disconnect out = roundTrip<Disconnect>(in, frames);
  EXPECT_EQ(out.reason, "broker shutting down");
}

TEST(DisconnectCodec, RoundTripKeepsEmptyReason) {
  std::vector<std::string> frames;
  Disconnect out = roundTrip<Disconnect>(Disconnect{}, frames);
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_TRUE(out.reason.empty());
}

TEST(DisconnectCodec, EncodesGoldenFrames) {
  const std::vector<std::string> expected = {"ST\x02\x08" "shutting down"s};
  EXPECT_EQ(encode(Disconnect{"shutting down"}), expected);
}

// ---- Golden frames decode too ----
// The hand-written bytes also go the other way, so a decoder that drifted together with
// the encoder (say, both switching to little endian) cannot pass.

TEST(WireCodec, DecodesHandWrittenRequest) {
  const std::vector<std::string> frames = {
      "ST\x02\x01" "\x01"s + kCountingIdFrame + "\x00\x01\x00\x00" "\x04" "\x04" "ops" "\x04" "echo"s +
      "\x00\x00\x00\x06" "\x01" "a" "\x00\x02" "xy" "payload"s,
  };
  DecodeResult result = decodeOwned(frames);
  ASSERT_TRUE(result.ok()) << decodeErrorName(result.error);
  const auto& r = std::get<Request>(result.message);
  EXPECT_EQ(r.id, countingId());
  EXPECT_EQ(r.service, "echo");
  EXPECT_EQ(r.timeoutMs, 65536u);
  EXPECT_EQ(r.caller.layer, 4);
  EXPECT_EQ(r.caller.name, "ops");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].key, "a");
  EXPECT_EQ(r.headers[0].value, "xy");
  EXPECT_EQ(r.body, (std::vector<std::string_view>{"payload"}));
}

TEST(WireCodec, DecodesHandWrittenReady) {
  const std::vector<std::string> frames = {"ST\x02\x05" "\x00\x00\x01\x00" "\x00\x00\x03\xe8" "\x04" "echo"s};
  DecodeResult result = decodeOwned(frames);
  ASSERT_TRUE(result.ok()) << decodeErrorName(result.error);
  const auto& r = std::get<Ready>(result.message);
  EXPECT_EQ(r.credit, 256u);
  EXPECT_EQ(r.heartbeatMs, 1000u);
  EXPECT_EQ(r.services, (std::vector<std::string_view>{"echo"}));
}

TEST(WireCodec, DecodesHandWrittenError) {
  const std::vector<std::string> frames = {"ST\x02\x04"s + kCountingIdFrame + "\x00\x07" "boom"s};
  DecodeResult result = decodeOwned(frames);
  ASSERT_TRUE(result.ok()) << decodeErrorName(result.error);
  const auto& e = std::get<Error>(result.message);
  EXPECT_EQ(e.code, ErrorCode::kInternal);
  EXPECT_EQ(e.text, "boom");
}

// ---- Small pieces the broker uses directly ----

TEST(WireCodec, EncodeU32IsBigEndian) {
  EXPECT_EQ(encodeU32(0x01020304u), "\x01\x02\x03\x04"s);
  EXPECT_EQ(encodeU32(0xffffffffu), "\xff\xff\xff\xff"s);
}

TEST(WireCodec, ReadU32ReadsBigEndian) {
  EXPECT_EQ(readU32("\x01\x02\x03\x04"s), 0x01020304u);
  EXPECT_EQ(readU32("\x80\x00\x00\x00"s), 0x80000000u);
}

TEST(WireCodec, PeeksTheIdOfARequestWhoseRestIsBroken) {
  auto frames = encode(Request{countingId(), "echo", 1000, {}, {}, {"x"}});
  std::string truncated = frames[0].substr(0, kRequestIdOffset + core::MessageId::kSize);
  EXPECT_EQ(peekRequestId(truncated), countingId());
  EXPECT_EQ(peekRequestId(truncated.substr(0, truncated.size() - 1)), std::nullopt);
  EXPECT_EQ(peekRequestId(encode(Reply{countingId(), {}, {}})[0]), std::nullopt);  // not a request
}

TEST(WireCodec, EncodeIntoMatchesEncodeWhateverTheVectorHeldBefore) {
  std::string large(kMaxInlineBody + 10, 'L');
  std::vector<Message> messages = {
      Request{countingId(), "orders", 1000, Caller{2, "web"}, {{"k", "v"}}, {"a", "bc", large}},
      Request{countingId(), "echo", 5, {}, {}, {"hi"}},
      Reply{countingId(), {{"strata-worker", "w1"}}, {large}},
      Reply{countingId(), {}, {}},
      Partial{countingId(), {}, {"x", "y"}},
      Error{countingId(), ErrorCode::kTimeout, "late"},
      Heartbeat{},
  };
  std::vector<std::string> reused;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass starts from what the last message left
    for (const auto& m : messages) {
      encodeInto(m, reused);
      EXPECT_EQ(reused, encode(m)) << "alternative " << m.index();
    }
  }
}

// ---- Version 1 peers and stores ----

const std::string kV1Header = "ST\x01"s;

// Frames held as strings, and views of them as the decoder takes them.
struct Frames {
  explicit Frames(std::vector<std::string> frames) : owned(std::move(frames)), views(owned.begin(), owned.end()) {}
  std::vector<std::string> owned;
  std::vector<std::string_view> views;
};

TEST(WireCodec, RefusesVersion1RequestWithVersion1ErrorNamingBothVersions) {
  const Frames v1({kV1Header + "\x01", kCountingIdFrame, "echo", "\x00\x00\x03\xe8"s, "", "", "hi"});
  EXPECT_EQ(decodeOwned(v1.owned).error, DecodeError::kBadVersion);
  auto refusal = versionRefusal(v1.views);
  ASSERT_TRUE(refusal);
  ASSERT_EQ(refusal->size(), 4u);  // version 1's ERROR: header, id, code, text
  EXPECT_EQ((*refusal)[0], kV1Header + "\x04");
  EXPECT_EQ((*refusal)[1], kCountingIdFrame);
  EXPECT_EQ((*refusal)[2], "\x00\x05"s);  // malformed
  EXPECT_NE((*refusal)[3].find("version 1"), std::string::npos);
  EXPECT_NE((*refusal)[3].find("version 2"), std::string::npos);
}

TEST(WireCodec, RefusesVersion1WorkerWithVersion1Disconnect) {
  const Frames ready({kV1Header + "\x05", "\x00\x00\x00\x05\x00\x00\x03\xe8"s, "echo"});
  auto refusal = versionRefusal(ready.views);
  ASSERT_TRUE(refusal);
  ASSERT_EQ(refusal->size(), 2u);
  EXPECT_EQ((*refusal)[0], kV1Header + "\x08");
  EXPECT_NE((*refusal)[1].find("version 2"), std::string::npos);
}

// ---- BATCH ----

TEST(BatchCodec, GoldenBytes) {
  const std::string heartbeat = "ST\x02\x07"s;
  const std::string credit = "ST\x02\x06\x00\x00\x00\x05"s;
  Batch in{{heartbeat, credit}};
  std::vector<std::string> golden{"ST\x02\x0f"s + "\x00\x00\x00\x04"s + "ST\x02\x07"s + "\x00\x00\x00\x08"s +
                                  "ST\x02\x06\x00\x00\x00\x05"s};
  EXPECT_EQ(encode(in), golden);
  auto out = roundTrip<Batch>(in, golden);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0], in.messages[0]);
  EXPECT_EQ(out.messages[1], in.messages[1]);
}

TEST(BatchWriter, SendsALoneMessageAsItself) {
  BatchWriter writer;
  auto credit = encode(Credit{5}).front();
  writer.add(credit);
  EXPECT_EQ(writer.count(), 1u);
  EXPECT_EQ(writer.frame(), credit);
}

TEST(BatchWriter, GathersMessagesInOrderIntoOneBatch) {
  BatchWriter writer;
  std::vector<std::string> sent;
  for (std::uint32_t i = 1; i <= 3; ++i) sent.push_back(encode(Credit{i}).front());
  sent.push_back(encode(Reply{countingId(), {{"k", "v"}}, {"body"}}).front());
  for (const auto& m : sent) writer.add(m);
  std::vector<std::string> frames{std::string(writer.frame())};
  DecodeResult result = decodeOwned(frames);
  ASSERT_TRUE(result.ok()) << decodeErrorName(result.error);
  const auto& batch = std::get<Batch>(result.message);
  ASSERT_EQ(batch.messages.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(batch.messages[i], sent[i]) << i;
    std::vector<std::string_view> one{batch.messages[i]};
    EXPECT_TRUE(decode(one).ok()) << i;
  }
  EXPECT_EQ(frames, encode(batch));  // one encoding: the writer's and the encoder's agree
}

TEST(BatchWriter, StaysWithinItsBytesAndCount) {
  BatchWriter small(100);  // a node whose frame limit is 100 bytes
  std::string message = "ST\x02\x08" + std::string(40, 'r');
  EXPECT_TRUE(small.takes(message.size()));
  EXPECT_FALSE(small.takes(100));
  ASSERT_TRUE(small.fits(message.size()));
  small.add(message);
  ASSERT_TRUE(small.fits(message.size()));
  small.add(message);
  EXPECT_FALSE(small.fits(message.size()));
  EXPECT_LE(small.frame().size(), 100u);
  small.clear();
  EXPECT_TRUE(small.empty());

  BatchWriter big(1u << 30);  // never past kMaxBatchBytes, whatever the frame limit
  EXPECT_FALSE(big.takes(kMaxBatchBytes));
  auto heartbeat = encode(Heartbeat{}).front();
  std::size_t added = 0;
  while (big.fits(heartbeat.size())) {
    big.add(heartbeat);
    ++added;
  }
  EXPECT_EQ(added, kMaxBatchMessages);
}

TEST(WireCodec, HasNoRefusalForCurrentOrUnknownVersions) {
  auto current = encode(Heartbeat{});
  EXPECT_FALSE(versionRefusal(std::vector<std::string_view>(current.begin(), current.end())));
  EXPECT_FALSE(versionRefusal(std::vector<std::string_view>{"ST\x07\x01"s}));
  EXPECT_FALSE(versionRefusal(std::vector<std::string_view>{"nonsense"}));
}

TEST(WireCodec, UpgradesVersion1RequestReplyAndError) {
  const Frames request({kV1Header + "\x01", kCountingIdFrame, "echo", "\x00\x00\x03\xe8"s, "\x02" "web"s,
                        "\x01" "k" "\x00\x01" "v"s, "hi"});
  auto upgraded = upgradeVersion1(request.views);
  ASSERT_TRUE(upgraded);
  Request expected{countingId(), "echo", 1000, Caller{2, "web"}, {{"k", "v"}}, {"hi"}};
  EXPECT_EQ(*upgraded, encode(expected));

  const Frames reply({kV1Header + "\x03", kCountingIdFrame, "", "a", "b"});
  auto upgradedReply = upgradeVersion1(reply.views);
  ASSERT_TRUE(upgradedReply);
  EXPECT_EQ(*upgradedReply, encode(Reply{countingId(), {}, {"a", "b"}}));

  const Frames error({kV1Header + "\x04", kCountingIdFrame, "\x00\x02"s, "late"});
  auto upgradedError = upgradeVersion1(error.views);
  ASSERT_TRUE(upgradedError);
  EXPECT_EQ(*upgradedError, encode(Error{countingId(), ErrorCode::kTimeout, "late"}));
}

TEST(WireCodec, UpgradeRefusesBrokenVersion1Messages) {
  EXPECT_FALSE(upgradeVersion1(std::vector<std::string_view>{kV1Header + "\x01", kCountingIdFrame, "echo"}));
  EXPECT_FALSE(upgradeVersion1(std::vector<std::string_view>{kV1Header + "\x01", kCountingIdFrame, "bad name",
                                                             "\x00\x00\x03\xe8"s, "", ""}));
  EXPECT_FALSE(upgradeVersion1(std::vector<std::string_view>{kV1Header + "\x04", kCountingIdFrame, "\x00\x63"s, ""}));
  auto current = encode(Reply{countingId(), {}, {}});
  EXPECT_FALSE(upgradeVersion1(std::vector<std::string_view>(current.begin(), current.end())));
}

TEST(WireCodec, EncodeHeadersOfNoHeadersIsEmpty) { EXPECT_EQ(encodeHeaders({}), ""); }

TEST(WireCodec, DecodedFieldsPointIntoTheFrames) {
  // The contract says decoded messages are views; check it so a change to copying (or a
  // dangling view) shows up here rather than as a use-after-free in the broker.
  Disconnect in{"bye"};
  std::vector<std::string> frames = encode(in);
  DecodeResult result = decodeOwned(frames);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(std::get<Disconnect>(result.message).reason.data(), frames[0].data() + kHeaderSize);
}

}  // namespace
}  // namespace strata::codecs
