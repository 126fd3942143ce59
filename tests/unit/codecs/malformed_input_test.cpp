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

std::string header(std::uint8_t command) { return "ST\x01"s + static_cast<char>(command); }

std::string u16(std::uint16_t value) {
  return {static_cast<char>(value >> 8), static_cast<char>(value & 0xff)};
}

// Valid messages to break. Each decodes cleanly (ValidBaseMessagesDecode checks that).
std::vector<std::string> request() {
  return {header(0x01), kId, "echo", encodeU32(1000), "\x02" "web"s, "\x01" "k" "\x00\x01" "v"s, "body"};
}
std::vector<std::string> partial() { return {header(0x02), kId, "", "chunk"}; }
std::vector<std::string> reply() { return {header(0x03), kId, "", "body"}; }
std::vector<std::string> error() { return {header(0x04), kId, u16(1), "no such service"}; }
std::vector<std::string> ready() { return {header(0x05), encodeU32(5) + encodeU32(1000), "echo"}; }
std::vector<std::string> credit() { return {header(0x06), encodeU32(5)}; }
std::vector<std::string> heartbeat() { return {header(0x07)}; }
std::vector<std::string> disconnect() { return {header(0x08), "bye"}; }

std::vector<std::string> with(std::vector<std::string> frames, std::size_t index, std::string frame) {
  frames.at(index) = std::move(frame);
  return frames;
}
std::vector<std::string> without(std::vector<std::string> frames, std::size_t count = 1) {
  frames.resize(frames.size() - count);
  return frames;
}
std::vector<std::string> plus(std::vector<std::string> frames, std::string frame = "extra") {
  frames.push_back(std::move(frame));
  return frames;
}

std::vector<std::string> requestHeaders(std::string headersFrame) {
  return with(request(), kRequestHeadersFrame, std::move(headersFrame));
}
std::vector<std::string> requestCaller(std::string callerFrame) {
  return with(request(), kRequestCallerFrame, std::move(callerFrame));
}
std::vector<std::string> readySettings(std::uint32_t creditValue, std::uint32_t heartbeatMs) {
  return with(ready(), 1, encodeU32(creditValue) + encodeU32(heartbeatMs));
}

std::vector<std::string> readyWithServices(std::size_t count) {
  std::vector<std::string> frames = {header(0x05), encodeU32(5) + encodeU32(1000)};
  for (std::size_t i = 0; i < count; ++i) frames.push_back("svc" + std::to_string(i));
  return frames;
}

// One header "k" whose value makes the frame exactly `frameSize` bytes.
std::string headersFrameOfSize(std::size_t frameSize) {
  const std::size_t overhead = 1 + 1 + 2;  // key length, key, value length
  std::size_t valueSize = frameSize - overhead;
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
  std::vector<std::string> frames;
  DecodeError expected;
};

// gtest prints a parameter when a case fails; the name says more than a byte dump.
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

std::vector<MalformedCase> malformedCases() {
  using E = DecodeError;
  return {
      // Envelope.
      {"NoFrames", {}, E::kNoFrames},
      {"EmptyHeaderFrame", {""}, E::kBadHeader},
      {"HeaderTruncatedToThreeBytes", {"ST\x01"s}, E::kBadHeader},
      {"HeaderOfFiveBytes", {"ST\x01\x07\x00"s}, E::kBadHeader},
      {"WrongFirstSignatureByte", {"XT\x01\x07"s}, E::kBadSignature},
      {"WrongSecondSignatureByte", {"SX\x01\x07"s}, E::kBadSignature},
      {"LowercaseSignature", {"st\x01\x07"s}, E::kBadSignature},
      {"VersionZero", {"ST\x00\x07"s}, E::kBadVersion},
      {"VersionTwo", {"ST\x02\x07"s}, E::kBadVersion},
      {"CommandZero", {"ST\x01\x00"s}, E::kUnknownCommand},
      {"CommandAfterLast", {"ST\x01\x09"s}, E::kUnknownCommand},
      {"CommandFF", {"ST\x01\xff"s}, E::kUnknownCommand},

      // Frame counts.
      {"RequestHeaderOnly", {header(0x01)}, E::kMissingFrame},
      {"RequestWithoutHeadersFrame", without(request(), 2), E::kMissingFrame},
      {"PartialWithoutHeadersFrame", without(partial(), 2), E::kMissingFrame},
      {"ReplyWithoutHeadersFrame", without(reply(), 2), E::kMissingFrame},
      {"ErrorWithoutText", without(error()), E::kMissingFrame},
      {"ReadyWithoutService", without(ready()), E::kMissingFrame},
      {"CreditWithoutValue", without(credit()), E::kMissingFrame},
      {"DisconnectWithoutReason", without(disconnect()), E::kMissingFrame},
      {"ErrorWithExtraFrame", plus(error()), E::kExtraFrame},
      {"CreditWithExtraFrame", plus(credit()), E::kExtraFrame},
      {"HeartbeatWithExtraFrame", plus(heartbeat()), E::kExtraFrame},
      {"HeartbeatWithEmptyExtraFrame", plus(heartbeat(), ""), E::kExtraFrame},
      {"DisconnectWithExtraFrame", plus(disconnect()), E::kExtraFrame},
      {"ReadyWithTooManyServices", readyWithServices(kMaxServicesPerReady + 1), E::kExtraFrame},

      // Ids.
      {"RequestIdOf15Bytes", with(request(), kRequestIdFrame, kId.substr(1)), E::kBadId},
      {"RequestIdOf17Bytes", with(request(), kRequestIdFrame, kId + "x"), E::kBadId},
      {"RequestIdEmpty", with(request(), kRequestIdFrame, ""), E::kBadId},
      {"RequestIdZero", with(request(), kRequestIdFrame, std::string(16, '\0')), E::kBadId},
      {"PartialIdOf15Bytes", with(partial(), 1, kId.substr(1)), E::kBadId},
      {"ReplyIdOf17Bytes", with(reply(), 1, kId + "x"), E::kBadId},
      {"ReplyIdZero", with(reply(), 1, std::string(16, '\0')), E::kBadId},
      {"ErrorIdZero", with(error(), 1, std::string(16, '\0')), E::kBadId},

      // Service names.
      {"ServiceEmpty", with(request(), kRequestServiceFrame, ""), E::kBadService},
      {"ServiceOf256Bytes", with(request(), kRequestServiceFrame, std::string(256, 'a')), E::kBadService},
      {"ServiceWithSpace", with(request(), kRequestServiceFrame, "my service"), E::kBadService},
      {"ServiceWithSlash", with(request(), kRequestServiceFrame, "a/b"), E::kBadService},
      {"ServiceWithNul", with(request(), kRequestServiceFrame, "echo\0"s), E::kBadService},
      {"ServiceWithUtf8", with(request(), kRequestServiceFrame, "caf\xc3\xa9"s), E::kBadService},

      // Timeouts.
      {"TimeoutOfThreeBytes", with(request(), kRequestTimeoutFrame, "\x00\x00\x01"s), E::kBadTimeout},
      {"TimeoutOfFiveBytes", with(request(), kRequestTimeoutFrame, "\x00\x00\x00\x00\x01"s), E::kBadTimeout},
      {"TimeoutEmpty", with(request(), kRequestTimeoutFrame, ""), E::kBadTimeout},
      {"TimeoutZero", with(request(), kRequestTimeoutFrame, encodeU32(0)), E::kBadTimeout},
      {"TimeoutOverOneDay", with(request(), kRequestTimeoutFrame, encodeU32(kMaxTimeoutMs + 1)), E::kBadTimeout},
      {"TimeoutAllOnes", with(request(), kRequestTimeoutFrame, encodeU32(0xffffffffu)), E::kBadTimeout},

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
      {"HeadersFrameOver64KiB", requestHeaders(headersFrameOfSize(kMaxHeadersFrame + 1)), E::kBadHeaders},
      {"PartialHeadersTruncated", with(partial(), 2, "\x01" "k" "\x00"s), E::kBadHeaders},
      {"ReplyHeadersTruncated", with(reply(), 2, "\x09" "k"s), E::kBadHeaders},

      // ERROR.
      {"ErrorCodeZero", with(error(), 2, u16(0)), E::kBadCode},
      {"ErrorCodeAfterLast", with(error(), 2, u16(8)), E::kBadCode},
      {"ErrorCodeFFFF", with(error(), 2, u16(0xffff)), E::kBadCode},
      {"ErrorCodeOfOneByte", with(error(), 2, "\x01"s), E::kBadCode},
      {"ErrorCodeOfThreeBytes", with(error(), 2, "\x00\x00\x01"s), E::kBadCode},
      {"ErrorTextOver1024", with(error(), 3, std::string(kMaxErrorText + 1, 't')), E::kBadText},

      // READY.
      {"ReadySettingsOfSevenBytes", with(ready(), 1, std::string(7, '\x01')), E::kBadSettings},
      {"ReadySettingsOfNineBytes", with(ready(), 1, encodeU32(5) + encodeU32(1000) + "\x00"s), E::kBadSettings},
      {"ReadySettingsEmpty", with(ready(), 1, ""), E::kBadSettings},
      {"ReadyCreditZero", readySettings(0, 1000), E::kBadSettings},
      {"ReadyCreditTooBig", readySettings(kMaxCredit + 1, 1000), E::kBadSettings},
      {"ReadyHeartbeatTooSmall", readySettings(5, 9), E::kBadSettings},
      {"ReadyHeartbeatZero", readySettings(5, 0), E::kBadSettings},
      {"ReadyHeartbeatTooBig", readySettings(5, 600'001), E::kBadSettings},
      {"ReadyInvalidService", with(ready(), 2, "bad service"), E::kBadService},
      {"ReadyEmptyService", with(ready(), 2, ""), E::kBadService},
      {"ReadyInvalidSecondService", plus(ready(), "a/b"), E::kBadService},

      // CREDIT.
      {"CreditZero", with(credit(), 1, encodeU32(0)), E::kBadCredit},
      {"CreditTooBig", with(credit(), 1, encodeU32(kMaxCredit + 1)), E::kBadCredit},
      {"CreditOfThreeBytes", with(credit(), 1, "\x00\x00\x05"s), E::kBadCredit},
      {"CreditOfFiveBytes", with(credit(), 1, "\x00\x00\x00\x00\x05"s), E::kBadCredit},

      // DISCONNECT.
      {"DisconnectReasonOver1024", with(disconnect(), 1, std::string(kMaxErrorText + 1, 'r')), E::kBadText},
  };
}

class MalformedInput : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedInput, IsRejectedWithTheMatchingError) {
  const MalformedCase& c = GetParam();
  DecodeResult result = decodeOwned(c.frames);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, c.expected) << "got '" << decodeErrorName(result.error) << "', expected '"
                                      << decodeErrorName(c.expected) << "'";
}

INSTANTIATE_TEST_SUITE_P(WireCodec, MalformedInput, ::testing::ValuesIn(malformedCases()),
                         CaseName{});

// The table is only as good as its base messages: if one of them did not decode, a case
// could pass because of an unrelated fault.
TEST(WireCodec, ValidBaseMessagesDecode) {
  for (const auto& frames : {request(), partial(), reply(), error(), ready(), credit(), heartbeat(), disconnect()}) {
    DecodeResult result = decodeOwned(frames);
    EXPECT_TRUE(result.ok()) << "command " << static_cast<int>(frames[0][3]) << ": "
                             << decodeErrorName(result.error);
  }
}

// The bounds themselves are accepted: each pairs with an over-the-bound case above.
struct BoundaryCase {
  std::string name;
  std::vector<std::string> frames;
};

void PrintTo(const BoundaryCase& c, std::ostream* os) { *os << c.name; }

std::vector<BoundaryCase> boundaryCases() {
  return {
      {"ServiceOf255Bytes", with(request(), kRequestServiceFrame, std::string(kMaxServiceName, 'a'))},
      {"ServiceOfOneByte", with(request(), kRequestServiceFrame, "a")},
      {"TimeoutOfOneMs", with(request(), kRequestTimeoutFrame, encodeU32(1))},
      {"TimeoutOfOneDay", with(request(), kRequestTimeoutFrame, encodeU32(kMaxTimeoutMs))},
      {"CallerLayerZero", requestCaller("\x00" "db"s)},
      {"CallerLayerFour", requestCaller("\x04" "web"s)},
      {"CallerNameOf64Bytes", requestCaller("\x02"s + std::string(kMaxCallerName, 'n'))},
      {"EmptyCaller", requestCaller("")},
      {"HeadersFrameOfExactly64KiB", requestHeaders(headersFrameOfSize(kMaxHeadersFrame))},
      {"HeaderKeyOf255Bytes", requestHeaders("\xff"s + std::string(255, 'k') + "\x00\x00"s)},
      {"HeaderKeyWithColonAndSlash", requestHeaders("\x05" "a:b/c" "\x00\x00"s)},
      {"HeaderValueWithAnyBytes", requestHeaders("\x01" "k" "\x00\x03" "\x00\xff\n"s)},
      {"ErrorTextOf1024", with(error(), 3, std::string(kMaxErrorText, 't'))},
      {"ErrorTextEmpty", with(error(), 3, "")},
      {"ErrorCodeInternal", with(error(), 2, u16(7))},
      {"ReadyWith256Services", readyWithServices(kMaxServicesPerReady)},
      {"ReadyCreditOfOne", readySettings(1, 1000)},
      {"ReadyCreditMax", readySettings(kMaxCredit, 1000)},
      {"ReadyHeartbeatOf10Ms", readySettings(5, 10)},
      {"ReadyHeartbeatOf600s", readySettings(5, 600'000)},
      {"CreditOfOne", with(credit(), 1, encodeU32(1))},
      {"CreditMax", with(credit(), 1, encodeU32(kMaxCredit))},
      {"DisconnectReasonOf1024", with(disconnect(), 1, std::string(kMaxErrorText, 'r'))},
      {"RequestWithManyBodyFrames", plus(plus(plus(request())))},
  };
}

class BoundaryInput : public ::testing::TestWithParam<BoundaryCase> {};

TEST_P(BoundaryInput, IsAccepted) {
  DecodeResult result = decodeOwned(GetParam().frames);
  EXPECT_TRUE(result.ok()) << decodeErrorName(result.error);
}

INSTANTIATE_TEST_SUITE_P(WireCodec, BoundaryInput, ::testing::ValuesIn(boundaryCases()),
                         CaseName{});

}  // namespace
}  // namespace strata::codecs
