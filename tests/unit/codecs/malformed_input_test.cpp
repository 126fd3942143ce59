// What a peer sends is data: every malformed input must come back as the one DecodeError
// that names what is wrong, never a crash and never a different error. Each case starts
// from a valid message and breaks exactly one thing, so a case passes only if the decoder
// checks that one thing.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>

#include "frames.h"

namespace strata::codecs {
namespace {

using namespace std::string_literals;
using test::decodeOwned;

const std::string kId = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"s;

std::string header(std::uint8_t command) { return "ST\x02"s + static_cast<char>(command); }

std::string u16(std::uint16_t value) {
  return {static_cast<char>(value >> 8), static_cast<char>(value & 0xff)};
}

// A length-prefixed field: a u8 length (service, caller, READY's names) or a u32 one (headers).
std::string shortField(const std::string& content) { return static_cast<char>(content.size()) + content; }
std::string longField(const std::string& content) {
  return encodeU32(static_cast<std::uint32_t>(content.size())) + content;
}

// A message as the fields of its envelope, joined into frame 0, and its body frames.
// Cases change one field and keep every other byte as it was.
struct Parts {
  std::vector<std::string> fields;
  std::vector<std::string> body;
};

std::vector<std::string> wire(const Parts& parts) {
  std::string envelope;
  for (const auto& f : parts.fields) envelope += f;
  std::vector<std::string> frames{envelope};
  frames.insert(frames.end(), parts.body.begin(), parts.body.end());
  return frames;
}

// Positions of the fields in each envelope, after the header at 0.
constexpr std::size_t kFlags = 1;
constexpr std::size_t kRequestId = 2;
constexpr std::size_t kTimeout = 3;
constexpr std::size_t kCaller = 4;
constexpr std::size_t kService = 5;
constexpr std::size_t kRequestHeaders = 6;
constexpr std::size_t kRequestInline = 7;
constexpr std::size_t kAnswerId = 2;  // PARTIAL and REPLY
constexpr std::size_t kAnswerHeaders = 3;
constexpr std::size_t kErrorId = 1;
constexpr std::size_t kErrorCode = 2;
constexpr std::size_t kErrorText = 3;

// SUBSCRIBE, UNSUBSCRIBE, PUBLISH, ACCEPTED, EVENTS, RECEIVED.
constexpr std::size_t kSubscriptionId = 1;
constexpr std::size_t kSession = 2;  // SUBSCRIBE and UNSUBSCRIBE; ACCEPTED and RECEIVED have it at 1
constexpr std::size_t kPattern = 3;
constexpr std::size_t kPublishCount = 1;
constexpr std::size_t kPublishId = 2;
constexpr std::size_t kPublishPublisher = 3;
constexpr std::size_t kPublishSubject = 4;
constexpr std::size_t kPublishHeaders = 5;
constexpr std::size_t kPublishBody = 6;
constexpr std::size_t kBatch = 1;
constexpr std::size_t kEventCount = 3;
constexpr std::size_t kEventId = 4;
constexpr std::size_t kEventPublisher = 5;
constexpr std::size_t kEventSubject = 6;
constexpr std::size_t kEventHeaders = 7;
constexpr std::size_t kEventBody = 8;

std::string u64(std::uint64_t value) { return encodeU32(static_cast<std::uint32_t>(value >> 32)) + encodeU32(static_cast<std::uint32_t>(value)); }
std::string mediumField(const std::string& content) { return u16(static_cast<std::uint16_t>(content.size())) + content; }
// A subject of count tokens: "a.a.a...".
std::string tokens(std::size_t count) {
  std::string out = "a";
  for (std::size_t i = 1; i < count; ++i) out += ".a";
  return out;
}
// An event id: session 1, sequence 2.
const std::string kEventIdBytes = u64(1) + u64(2);

// Valid messages to break. Each decodes cleanly (ValidBaseMessagesDecode checks that).
Parts request() {
  return {{header(0x01), "\x01"s, kId, encodeU32(1000), shortField("\x02" "web"s), shortField("echo"),
           longField("\x01" "k" "\x00\x01" "v"s), "body"},
          {}};
}
Parts requestWithBodyFrames() {
  return {{header(0x01), "\x00"s, kId, encodeU32(1000), shortField(""), shortField("echo"), longField("")},
          {"one", "two"}};
}
Parts partial() { return {{header(0x02), "\x01"s, kId, longField(""), "chunk"}, {}}; }
Parts reply() { return {{header(0x03), "\x01"s, kId, longField(""), "body"}, {}}; }
Parts error() { return {{header(0x04), kId, u16(1), "no such service"}, {}}; }
Parts ready() { return {{header(0x05), encodeU32(5), encodeU32(1000), shortField("echo")}, {}}; }
Parts credit() { return {{header(0x06), encodeU32(5)}, {}}; }
Parts heartbeat() { return {{header(0x07)}, {}}; }
Parts disconnect() { return {{header(0x08), "bye"}, {}}; }
Parts subscribe() { return {{header(0x09), kId, u64(7), mediumField("orders.>")}, {}}; }
Parts unsubscribe() { return {{header(0x0a), kId, u64(7), mediumField("orders.>")}, {}}; }
Parts publish() {
  return {{header(0x0b), encodeU32(1), kEventIdBytes, shortField(""), mediumField("orders.eu"), longField(""),
           longField("body")},
          {}};
}
Parts accepted() { return {{header(0x0c), u64(7), u64(1), u64(3)}, {}}; }
Parts events() {
  return {{header(0x0d), u64(1), u64(0), encodeU32(1), kEventIdBytes, shortField("\x01" "store"s),
           mediumField("orders.eu"), longField(""), longField("body")},
          {}};
}
Parts received() { return {{header(0x0e), u64(7), u64(1)}, {}}; }
// Two whole messages, each a u32 length and its bytes.
Parts batch() {
  auto first = wire(credit())[0];
  auto second = wire(heartbeat())[0];
  return {{header(0x0f), longField(first), longField(second)}, {}};
}
Parts batchOf(std::size_t count) {
  Parts parts{{header(0x0f)}, {}};
  for (std::size_t i = 0; i < count; ++i) parts.fields.push_back(longField(wire(heartbeat())[0]));
  return parts;
}
// A PUBLISH or EVENTS whose first record is the valid one above and whose second has
// this publisher and subject: the decoder checks a field again unless it is the same
// bytes as the one before, so a bad second one must be caught however alike it looks.
Parts withSecondEvent(Parts parts, std::size_t countIndex, std::string publisher, std::string subject) {
  parts.fields.at(countIndex) = encodeU32(2);
  for (auto field : {kEventIdBytes, shortField(publisher), mediumField(subject), longField(""), longField("b")})
    parts.fields.push_back(field);
  return parts;
}

Parts with(Parts parts, std::size_t index, std::string field) {
  parts.fields.at(index) = std::move(field);
  return parts;
}
Parts withoutFields(Parts parts, std::size_t count = 1) {
  parts.fields.resize(parts.fields.size() - count);
  return parts;
}
Parts plusField(Parts parts, std::string field) {
  parts.fields.push_back(std::move(field));
  return parts;
}
Parts plusFrame(Parts parts, std::string frame = "extra") {
  parts.body.push_back(std::move(frame));
  return parts;
}
// The envelope cut after `size` bytes.
Parts cut(const Parts& parts, std::size_t size) { return {{wire(parts)[0].substr(0, size)}, {}}; }

Parts requestHeaders(std::string block) { return with(request(), kRequestHeaders, longField(block)); }
Parts requestCaller(std::string caller) { return with(request(), kCaller, shortField(caller)); }
Parts readySettings(std::uint32_t creditValue, std::uint32_t heartbeatMs) {
  return with(with(ready(), 1, encodeU32(creditValue)), 2, encodeU32(heartbeatMs));
}

Parts subscribeWithPatterns(std::size_t count) {
  Parts parts = withoutFields(subscribe());
  for (std::size_t i = 0; i < count; ++i) parts.fields.push_back(mediumField("p" + std::to_string(i)));
  return parts;
}
Parts acceptedWithRanges(std::size_t count) {
  Parts parts = withoutFields(accepted(), 2);
  for (std::size_t i = 0; i < count; ++i) {
    parts.fields.push_back(u64(2 * i + 1));
    parts.fields.push_back(u64(2 * i + 1));
  }
  return parts;
}

Parts readyWithServices(std::size_t count) {
  Parts parts{{header(0x05), encodeU32(5), encodeU32(1000)}, {}};
  for (std::size_t i = 0; i < count; ++i) parts.fields.push_back(shortField("svc" + std::to_string(i)));
  return parts;
}

// One header "k" whose value makes the block exactly `blockSize` bytes.
std::string headerBlockOfSize(std::size_t blockSize) {
  const std::size_t overhead = 1 + 1 + 2;  // key length, key, value length
  std::size_t valueSize = blockSize - overhead;
  return "\x01" "k"s + u16(static_cast<std::uint16_t>(valueSize)) + std::string(valueSize, 'v');
}

// Names each instantiated test after its case. A functor, not a lambda: gtest's macro
// already has a parameter called `info`, and -Wshadow would flag the lambda's.
struct CaseName {
  template <typename Case>
  std::string operator()(const ::testing::TestParamInfo<Case>& param) const {
    return param.param.name;
  }
};

struct MalformedCase {
  std::string name;
  Parts parts;
  DecodeError expected;
};

// gtest prints a parameter when a case fails; the name says more than a byte dump.
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

std::vector<MalformedCase> malformedCases() {
  using E = DecodeError;
  return {
      // Header.
      {"NoFrames", {{}, {}}, E::kNoFrames},
      {"EmptyEnvelope", {{""}, {}}, E::kBadHeader},
      {"HeaderTruncatedToThreeBytes", {{"ST\x02"s}, {}}, E::kBadHeader},
      {"WrongFirstSignatureByte", {{"XT\x02\x07"s}, {}}, E::kBadSignature},
      {"WrongSecondSignatureByte", {{"SX\x02\x07"s}, {}}, E::kBadSignature},
      {"LowercaseSignature", {{"st\x02\x07"s}, {}}, E::kBadSignature},
      {"VersionZero", {{"ST\x00\x07"s}, {}}, E::kBadVersion},
      {"VersionOne", {{"ST\x01\x07"s}, {}}, E::kBadVersion},
      {"VersionThree", {{"ST\x03\x07"s}, {}}, E::kBadVersion},
      {"CommandZero", {{"ST\x02\x00"s}, {}}, E::kUnknownCommand},
      {"CommandAfterLast", {{"ST\x02\x10"s}, {}}, E::kUnknownCommand},
      {"CommandFF", {{"ST\x02\xff"s}, {}}, E::kUnknownCommand},

      // Envelopes cut short, at each field.
      {"RequestHeaderOnly", {{header(0x01)}, {}}, E::kTruncated},
      {"RequestCutInId", cut(request(), 4 + 1 + 8), E::kTruncated},
      {"RequestCutInTimeout", cut(request(), 4 + 1 + 16 + 2), E::kTruncated},
      {"RequestCutBeforeCaller", cut(request(), 4 + 1 + 16 + 4), E::kTruncated},
      {"RequestCutInCaller", cut(request(), 4 + 1 + 16 + 4 + 2), E::kTruncated},
      {"RequestCutInService", cut(request(), 4 + 1 + 16 + 4 + 5 + 2), E::kTruncated},
      {"RequestCutInHeadersLength", cut(request(), 4 + 1 + 16 + 4 + 5 + 5 + 2), E::kTruncated},
      {"RequestHeadersLengthPastEnd", with(withoutFields(request()), kRequestHeaders, encodeU32(9) + "ab"), E::kTruncated},
      {"PartialWithoutHeaders", withoutFields(partial(), 2), E::kTruncated},
      {"ReplyWithoutHeaders", withoutFields(reply(), 2), E::kTruncated},
      {"ErrorWithoutCode", withoutFields(error(), 2), E::kTruncated},
      {"ErrorWithHalfACode", with(withoutFields(error()), kErrorCode, "\x01"s), E::kTruncated},
      {"ReadyWithoutService", withoutFields(ready()), E::kTruncated},
      {"ReadyWithHalfSettings", withoutFields(ready(), 2), E::kTruncated},
      {"ReadyServiceLengthPastEnd", with(ready(), 3, "\x09" "echo"s), E::kTruncated},
      {"CreditWithoutValue", withoutFields(credit()), E::kTruncated},
      {"CreditOfThreeBytes", with(credit(), 1, "\x00\x00\x05"s), E::kTruncated},

      // Bytes or frames where none may be.
      {"CreditWithTrailingByte", plusField(credit(), "\x00"s), E::kTrailingBytes},
      {"HeartbeatWithTrailingByte", plusField(heartbeat(), "x"), E::kTrailingBytes},
      {"RequestWithoutInlineFlagButTrailingBytes", with(request(), kFlags, "\x00"s), E::kTrailingBytes},
      {"ReadyWithTooManyServices", readyWithServices(kMaxServicesPerReady + 1), E::kTrailingBytes},
      {"ErrorWithExtraFrame", plusFrame(error()), E::kExtraFrame},
      {"CreditWithExtraFrame", plusFrame(credit()), E::kExtraFrame},
      {"HeartbeatWithExtraFrame", plusFrame(heartbeat()), E::kExtraFrame},
      {"HeartbeatWithEmptyExtraFrame", plusFrame(heartbeat(), ""), E::kExtraFrame},
      {"ReadyWithExtraFrame", plusFrame(ready()), E::kExtraFrame},
      {"DisconnectWithExtraFrame", plusFrame(disconnect()), E::kExtraFrame},
      {"InlineBodyAndBodyFramesToo", plusFrame(request()), E::kExtraFrame},
      {"ReplyInlineBodyAndBodyFramesToo", plusFrame(reply()), E::kExtraFrame},

      // Flags and the body's form: one encoding per message.
      {"RequestUnknownFlag", with(request(), kFlags, "\x03"s), E::kBadFlags},
      {"RequestHighFlag", with(request(), kFlags, "\x80"s), E::kBadFlags},
      {"ReplyUnknownFlag", with(reply(), kFlags, "\x02"s), E::kBadFlags},
      {"InlineBodyOverTheLimit", with(request(), kRequestInline, std::string(kMaxInlineBody + 1, 'b')), E::kBadBody},
      {"SmallOneFrameBodyNotInline", {requestWithBodyFrames().fields, {"small"}}, E::kBadBody},
      {"EmptyOneFrameBodyNotInline", {requestWithBodyFrames().fields, {""}}, E::kBadBody},

      // Ids.
      {"RequestIdZero", with(request(), kRequestId, std::string(16, '\0')), E::kBadId},
      {"PartialIdZero", with(partial(), kAnswerId, std::string(16, '\0')), E::kBadId},
      {"ReplyIdZero", with(reply(), kAnswerId, std::string(16, '\0')), E::kBadId},
      {"ErrorIdZero", with(error(), kErrorId, std::string(16, '\0')), E::kBadId},

      // Service names.
      {"ServiceEmpty", with(request(), kService, shortField("")), E::kBadService},
      {"ServiceWithSpace", with(request(), kService, shortField("my service")), E::kBadService},
      {"ServiceWithSlash", with(request(), kService, shortField("a/b")), E::kBadService},
      {"ServiceWithNul", with(request(), kService, shortField("echo\0"s)), E::kBadService},
      {"ServiceWithUtf8", with(request(), kService, shortField("caf\xc3\xa9"s)), E::kBadService},

      // Timeouts.
      {"TimeoutZero", with(request(), kTimeout, encodeU32(0)), E::kBadTimeout},
      {"TimeoutOverOneDay", with(request(), kTimeout, encodeU32(kMaxTimeoutMs + 1)), E::kBadTimeout},
      {"TimeoutAllOnes", with(request(), kTimeout, encodeU32(0xffffffffu)), E::kBadTimeout},

      // Callers.
      {"CallerLayerFive", requestCaller("\x05" "web"s), E::kBadCaller},
      {"CallerLayerFF", requestCaller("\xff" "web"s), E::kBadCaller},
      {"CallerLayerWithoutName", requestCaller("\x02"s), E::kBadCaller},
      {"CallerNameWithSpace", requestCaller("\x02" "we b"s), E::kBadCaller},
      {"CallerNameWithColon", requestCaller("\x02" "web:1"s), E::kBadCaller},
      {"CallerNameOf65Bytes", requestCaller("\x02"s + std::string(kMaxCallerName + 1, 'n')), E::kBadCaller},

      // Headers, truncated at each step of [u8 key length][key][u16 value length][value].
      {"HeadersKeyLengthBeyondEnd", requestHeaders("\x05" "ab"s), E::kBadHeaders},
      {"HeadersKeyLengthOnly", requestHeaders("\x01"s), E::kBadHeaders},
      {"HeadersMissingValueLength", requestHeaders("\x01" "k"s), E::kBadHeaders},
      {"HeadersHalfValueLength", requestHeaders("\x01" "k" "\x00"s), E::kBadHeaders},
      {"HeadersValueLengthBeyondEnd", requestHeaders("\x01" "k" "\x00\x05" "ab"s), E::kBadHeaders},
      {"HeadersValueLengthFFFF", requestHeaders("\x01" "k" "\xff\xff" "ab"s), E::kBadHeaders},
      {"HeadersZeroKeyLength", requestHeaders("\x00\x00\x00"s), E::kBadHeaders},
      {"HeadersKeyWithSpace", requestHeaders("\x03" "a b" "\x00\x00"s), E::kBadHeaders},
      {"HeadersKeyWithNul", requestHeaders("\x01" "\x00" "\x00\x00"s), E::kBadHeaders},
      {"HeadersSecondEntryTruncated", requestHeaders("\x01" "k" "\x00\x00" "\x02" "k"s), E::kBadHeaders},
      {"HeadersOver64KiB", requestHeaders(headerBlockOfSize(kMaxHeadersSize + 1)), E::kBadHeaders},
      {"HeadersLengthAllOnes", with(request(), kRequestHeaders, encodeU32(0xffffffffu)), E::kBadHeaders},
      {"PartialHeadersTruncated", with(partial(), kAnswerHeaders, longField("\x01" "k" "\x00"s)), E::kBadHeaders},
      {"ReplyHeadersTruncated", with(reply(), kAnswerHeaders, longField("\x09" "k"s)), E::kBadHeaders},

      // ERROR.
      {"ErrorCodeZero", with(error(), kErrorCode, u16(0)), E::kBadCode},
      {"ErrorCodeAfterLast", with(error(), kErrorCode, u16(9)), E::kBadCode},
      {"ErrorCodeFFFF", with(error(), kErrorCode, u16(0xffff)), E::kBadCode},
      {"ErrorTextOver1024", with(error(), kErrorText, std::string(kMaxErrorText + 1, 't')), E::kBadText},

      // READY.
      {"ReadyCreditZero", readySettings(0, 1000), E::kBadSettings},
      {"ReadyCreditTooBig", readySettings(kMaxCredit + 1, 1000), E::kBadSettings},
      {"ReadyHeartbeatTooSmall", readySettings(5, 9), E::kBadSettings},
      {"ReadyHeartbeatZero", readySettings(5, 0), E::kBadSettings},
      {"ReadyHeartbeatTooBig", readySettings(5, 600'001), E::kBadSettings},
      {"ReadyInvalidService", with(ready(), 3, shortField("bad service")), E::kBadService},
      {"ReadyEmptyService", with(ready(), 3, shortField("")), E::kBadService},
      {"ReadyInvalidSecondService", plusField(ready(), shortField("a/b")), E::kBadService},

      // CREDIT.
      {"CreditZero", with(credit(), 1, encodeU32(0)), E::kBadCredit},
      {"CreditTooBig", with(credit(), 1, encodeU32(kMaxCredit + 1)), E::kBadCredit},

      // DISCONNECT.
      {"DisconnectReasonOver1024", with(disconnect(), 1, std::string(kMaxErrorText + 1, 'r')), E::kBadText},

      // SUBSCRIBE and UNSUBSCRIBE.
      {"SubscribeCutInSession", cut(subscribe(), 4 + 16 + 3), E::kTruncated},
      {"SubscribePatternLengthPastEnd", with(subscribe(), kPattern, u16(40) + "orders"), E::kTruncated},
      {"SubscribeIdZero", with(subscribe(), kSubscriptionId, std::string(16, '\0')), E::kBadId},
      {"SubscribeSessionZero", with(subscribe(), kSession, u64(0)), E::kBadSession},
      {"SubscribeWithoutPattern", withoutFields(subscribe()), E::kBadCount},
      {"SubscribeWithTooManyPatterns", subscribeWithPatterns(kMaxPatternsPerMessage + 1), E::kBadCount},
      {"SubscribeEmptyPattern", with(subscribe(), kPattern, mediumField("")), E::kBadPattern},
      {"SubscribePatternWithEmptyToken", with(subscribe(), kPattern, mediumField("orders..eu")), E::kBadPattern},
      {"SubscribePatternWithSpace", with(subscribe(), kPattern, mediumField("orders eu")), E::kBadPattern},
      {"SubscribePatternWithNul", with(subscribe(), kPattern, mediumField("orders\0"s)), E::kBadPattern},
      {"SubscribeTailWildcardNotLast", with(subscribe(), kPattern, mediumField("orders.>.eu")), E::kBadPattern},
      {"SubscribeWildcardInsideToken", with(subscribe(), kPattern, mediumField("ord*rs")), E::kBadPattern},
      {"SubscribePatternOver1024", with(subscribe(), kPattern, mediumField(std::string(1025, 'p'))), E::kBadPattern},
      {"SubscribePatternOf65Tokens", with(subscribe(), kPattern, mediumField(tokens(65))), E::kBadPattern},
      {"SubscribeWithExtraFrame", plusFrame(subscribe()), E::kExtraFrame},
      {"UnsubscribeSessionZero", with(unsubscribe(), kSession, u64(0)), E::kBadSession},
      {"UnsubscribeBadPattern", with(unsubscribe(), kPattern, mediumField("a..b")), E::kBadPattern},

      // PUBLISH.
      {"PublishCutInCount", cut(publish(), 4 + 2), E::kTruncated},
      {"PublishCutInId", cut(publish(), 4 + 4 + 9), E::kTruncated},
      {"PublishCutInSubject", cut(publish(), 4 + 4 + 16 + 1 + 3), E::kTruncated},
      {"PublishWithoutHeaders", withoutFields(publish(), 2), E::kTruncated},
      {"PublishWithoutBody", withoutFields(publish()), E::kTruncated},
      {"PublishBodyLengthPastEnd", with(publish(), kPublishBody, encodeU32(9) + "body"), E::kTruncated},
      {"PublishCountZero", with(publish(), kPublishCount, encodeU32(0)), E::kBadCount},
      {"PublishCountAboveTheEventsThere", with(publish(), kPublishCount, encodeU32(2)), E::kTruncated},
      {"PublishWithAPublisherNamed", with(publish(), kPublishPublisher, shortField("\x01" "store"s)), E::kBadCaller},
      {"PublishWithTrailingByte", plusField(publish(), "x"), E::kTrailingBytes},
      {"PublishIdZero", with(publish(), kPublishId, std::string(16, '\0')), E::kBadId},
      {"PublishSessionZero", with(publish(), kPublishId, u64(0) + u64(2)), E::kBadId},
      {"PublishSecondSubjectWildcardOfEqualLength", withSecondEvent(publish(), kPublishCount, "", "orders.e*"),
       E::kBadSubject},
      {"PublishSecondSubjectWithControl", withSecondEvent(publish(), kPublishCount, "", "orders\x01eu"),
       E::kBadSubject},
      {"PublishSecondWithAPublisherNamed", withSecondEvent(publish(), kPublishCount, "\x01" "store"s, "orders.eu"),
       E::kBadCaller},
      {"PublishSequenceZero", with(publish(), kPublishId, u64(1) + u64(0)), E::kBadId},
      {"PublishEmptySubject", with(publish(), kPublishSubject, mediumField("")), E::kBadSubject},
      {"PublishSubjectWithWildcard", with(publish(), kPublishSubject, mediumField("orders.*")), E::kBadSubject},
      {"PublishSubjectWithTailWildcard", with(publish(), kPublishSubject, mediumField("orders.>")), E::kBadSubject},
      {"PublishSubjectWithControl", with(publish(), kPublishSubject, mediumField("orders\n")), E::kBadSubject},
      {"PublishSubjectOver1024", with(publish(), kPublishSubject, mediumField(std::string(1025, 's'))), E::kBadSubject},
      {"PublishHeadersTruncated", with(publish(), kPublishHeaders, longField("\x01" "k"s)), E::kBadHeaders},
      {"PublishHeadersOver64KiB", with(publish(), kPublishHeaders, longField(headerBlockOfSize(kMaxHeadersSize + 1))), E::kBadHeaders},
      {"PublishWithExtraFrame", plusFrame(publish()), E::kExtraFrame},

      // ACCEPTED.
      {"AcceptedSessionZero", with(accepted(), 1, u64(0)), E::kBadSession},
      {"AcceptedWithoutRange", withoutFields(accepted(), 2), E::kBadCount},
      {"AcceptedHalfARange", withoutFields(accepted()), E::kTruncated},
      {"AcceptedRangeFromZero", with(accepted(), 2, u64(0)), E::kBadRange},
      {"AcceptedRangeBackwards", with(accepted(), 2, u64(4)), E::kBadRange},
      {"AcceptedWithTooManyRanges", acceptedWithRanges(kMaxAcceptedRanges + 1), E::kBadCount},

      // EVENTS.
      {"EventsBatchZero", with(events(), kBatch, u64(0)), E::kBadRange},
      {"EventsSecondSubjectWildcardOfEqualLength", withSecondEvent(events(), kEventCount, "\x01" "store"s, "orders.e*"),
       E::kBadSubject},
      {"EventsSecondSubjectWithEmptyToken", withSecondEvent(events(), kEventCount, "\x01" "store"s, "orders..eu"),
       E::kBadSubject},
      {"EventsSecondPublisherWithSpace", withSecondEvent(events(), kEventCount, "\x01" "st re"s, "orders.eu"),
       E::kBadCaller},
      {"EventsSecondPublisherLayerFive", withSecondEvent(events(), kEventCount, "\x05" "store"s, "orders.eu"),
       E::kBadCaller},
      {"EventsSecondPublisherEmpty", withSecondEvent(events(), kEventCount, "", "orders.eu"), E::kBadCaller},
      {"EventsCountZero", with(events(), kEventCount, encodeU32(0)), E::kBadCount},
      {"EventsCountOverTheLimit", with(events(), kEventCount, encodeU32(kMaxEventsPerBatch + 1)), E::kBadCount},
      {"EventsCountAboveTheEventsThere", with(events(), kEventCount, encodeU32(2)), E::kTruncated},
      {"EventsCountBelowTheEventsThere", plusField(plusField(plusField(plusField(plusField(events(), kEventIdBytes), shortField("\x01" "store"s)), mediumField("a")), longField("")), longField("")), E::kTrailingBytes},
      {"EventsIdSequenceZero", with(events(), kEventId, u64(1) + u64(0)), E::kBadId},
      {"EventsWithoutPublisher", with(events(), kEventPublisher, shortField("")), E::kBadCaller},
      {"EventsPublisherLayerFive", with(events(), kEventPublisher, shortField("\x05" "store"s)), E::kBadCaller},
      {"EventsSubjectWithWildcard", with(events(), kEventSubject, mediumField("a.*")), E::kBadSubject},
      {"EventsHeadersTruncated", with(events(), kEventHeaders, longField("\x03" "k"s)), E::kBadHeaders},
      {"EventsBodyLengthPastEnd", with(events(), kEventBody, encodeU32(9) + "body"), E::kTruncated},
      {"EventsWithExtraFrame", plusFrame(events()), E::kExtraFrame},

      // RECEIVED.
      {"ReceivedSessionZero", with(received(), 1, u64(0)), E::kBadSession},
      {"ReceivedBatchZero", with(received(), 2, u64(0)), E::kBadRange},
      {"ReceivedWithoutBatch", withoutFields(received()), E::kTruncated},
      {"ReceivedWithTrailingByte", plusField(received(), "x"), E::kTrailingBytes},

      // BATCH: how it is built; each message in it is decoded on its own, later.
      {"BatchEmpty", {{header(0x0f)}, {}}, E::kBadCount},
      {"BatchOfOne", withoutFields(batch()), E::kBadCount},
      {"BatchOverTheLimit", batchOf(kMaxBatchMessages + 1), E::kBadCount},
      {"BatchLengthPastEnd", with(batch(), 2, encodeU32(9) + "ST\x02\x07"s), E::kTruncated},
      {"BatchLengthCut", plusField(batch(), "\x00\x00"s), E::kTruncated},
      {"BatchOfAnEmptyMessage", with(batch(), 2, longField("")), E::kBadBatch},
      {"BatchOfAVersionOneMessage", with(batch(), 2, longField("ST\x01\x07"s)), E::kBadBatch},
      {"BatchOfAnUnknownCommand", with(batch(), 2, longField("ST\x02\x10"s)), E::kBadBatch},
      {"BatchInABatch", with(batch(), 2, longField(wire(batch())[0])), E::kBadBatch},
      {"BatchWithExtraFrame", plusFrame(batch()), E::kExtraFrame},
  };
}

class MalformedInput : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedInput, IsRejectedWithTheMatchingError) {
  const MalformedCase& c = GetParam();
  auto frames = c.parts.fields.empty() ? std::vector<std::string>{} : wire(c.parts);
  DecodeResult result = decodeOwned(frames);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, c.expected) << "got '" << decodeErrorName(result.error) << "', expected '"
                                      << decodeErrorName(c.expected) << "'";
}

INSTANTIATE_TEST_SUITE_P(WireCodec, MalformedInput, ::testing::ValuesIn(malformedCases()),
                         CaseName{});

// The table is only as good as its base messages: if one of them did not decode, a case
// could pass because of an unrelated fault.
TEST(WireCodec, ValidBaseMessagesDecode) {
  for (const auto& parts : {request(), requestWithBodyFrames(), partial(), reply(), error(), ready(), credit(),
                            heartbeat(), disconnect(), subscribe(), unsubscribe(), publish(), accepted(), events(),
                            received(), batch(), batchOf(kMaxBatchMessages)}) {
    auto frames = wire(parts);
    DecodeResult result = decodeOwned(frames);
    EXPECT_TRUE(result.ok()) << "command " << static_cast<int>(frames[0][3]) << ": "
                             << decodeErrorName(result.error);
  }
}

// The bounds themselves are accepted: each pairs with an over-the-bound case above.
struct BoundaryCase {
  std::string name;
  Parts parts;
};

void PrintTo(const BoundaryCase& c, std::ostream* os) { *os << c.name; }

std::vector<BoundaryCase> boundaryCases() {
  return {
      {"ServiceOf255Bytes", with(request(), kService, shortField(std::string(kMaxServiceName, 'a')))},
      {"ServiceOfOneByte", with(request(), kService, shortField("a"))},
      {"TimeoutOfOneMs", with(request(), kTimeout, encodeU32(1))},
      {"TimeoutOfOneDay", with(request(), kTimeout, encodeU32(kMaxTimeoutMs))},
      {"CallerLayerZero", requestCaller("\x00" "db"s)},
      {"CallerLayerFour", requestCaller("\x04" "web"s)},
      {"CallerNameOf64Bytes", requestCaller("\x02"s + std::string(kMaxCallerName, 'n'))},
      {"EmptyCaller", requestCaller("")},
      {"HeadersOfExactly64KiB", requestHeaders(headerBlockOfSize(kMaxHeadersSize))},
      {"HeaderKeyOf255Bytes", requestHeaders("\xff"s + std::string(255, 'k') + "\x00\x00"s)},
      {"HeaderKeyWithColonAndSlash", requestHeaders("\x05" "a:b/c" "\x00\x00"s)},
      {"HeaderValueWithAnyBytes", requestHeaders("\x01" "k" "\x00\x03" "\x00\xff\n"s)},
      {"InlineBodyOfExactlyTheLimit", with(request(), kRequestInline, std::string(kMaxInlineBody, 'b'))},
      {"InlineBodyEmpty", with(request(), kRequestInline, "")},
      {"NoBodyAtAll", withoutFields(with(request(), kFlags, "\x00"s))},
      {"OneBodyFrameOverTheInlineLimit", {requestWithBodyFrames().fields, {std::string(kMaxInlineBody + 1, 'b')}}},
      {"ManyBodyFrames", plusFrame(plusFrame(requestWithBodyFrames()))},
      {"ErrorTextOf1024", with(error(), kErrorText, std::string(kMaxErrorText, 't'))},
      {"ErrorTextEmpty", with(error(), kErrorText, "")},
      {"ErrorCodeInternal", with(error(), kErrorCode, u16(7))},
      {"ReadyWith256Services", readyWithServices(kMaxServicesPerReady)},
      {"ReadyCreditOfOne", readySettings(1, 1000)},
      {"ReadyCreditMax", readySettings(kMaxCredit, 1000)},
      {"ReadyHeartbeatOf10Ms", readySettings(5, 10)},
      {"ReadyHeartbeatOf600s", readySettings(5, 600'000)},
      {"CreditOfOne", with(credit(), 1, encodeU32(1))},
      {"CreditMax", with(credit(), 1, encodeU32(kMaxCredit))},
      {"DisconnectReasonOf1024", with(disconnect(), 1, std::string(kMaxErrorText, 'r'))},
      {"DisconnectReasonEmpty", with(disconnect(), 1, "")},
      {"SubscribeWith256Patterns", subscribeWithPatterns(kMaxPatternsPerMessage)},
      {"SubscribePatternOf1024Bytes", with(subscribe(), kPattern, mediumField(std::string(1024, 'p')))},
      {"SubscribePatternOf64Tokens", with(subscribe(), kPattern, mediumField(tokens(64)))},
      {"SubscribePatternOfStarAndTail", with(subscribe(), kPattern, mediumField("*.>"))},
      {"SubscribePatternTailAlone", with(subscribe(), kPattern, mediumField(">"))},
      {"SubscribePatternOfUtf8", with(subscribe(), kPattern, mediumField("caf\xc3\xa9.*"s))},
      {"UnsubscribeAllOfNoPattern", withoutFields(unsubscribe())},
      {"PublishSubjectOf1024Bytes", with(publish(), kPublishSubject, mediumField(std::string(1024, 's')))},
      {"PublishEmptyBody", with(publish(), kPublishBody, longField(""))},
      {"PublishHeadersOfExactly64KiB", with(publish(), kPublishHeaders, longField(headerBlockOfSize(kMaxHeadersSize)))},
      {"AcceptedRangeOfOne", with(accepted(), 3, u64(1))},
      {"AcceptedWith256Ranges", acceptedWithRanges(kMaxAcceptedRanges)},
      {"EventsEmptyBody", with(events(), kEventBody, longField(""))},
      {"EventsDroppedAllOnes", with(events(), 2, u64(~0ull))},
  };
}

class BoundaryInput : public ::testing::TestWithParam<BoundaryCase> {};

TEST_P(BoundaryInput, IsAccepted) {
  auto frames = wire(GetParam().parts);
  DecodeResult result = decodeOwned(frames);
  EXPECT_TRUE(result.ok()) << decodeErrorName(result.error);
}

INSTANTIATE_TEST_SUITE_P(WireCodec, BoundaryInput, ::testing::ValuesIn(boundaryCases()),
                         CaseName{});

}  // namespace
}  // namespace strata::codecs
