// The protocol table and the small helpers around it: names for logs, service-name rules
// and routing on the header frame alone.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>

namespace strata::codecs {
namespace {

using namespace std::string_literals;

// The last enumerators; a new one added after these must extend the loops below.
constexpr auto kLastErrorCode = ErrorCode::kConflict;
constexpr auto kLastDecodeError = DecodeError::kBadBatch;

TEST(Protocol, FindCommandFindsEveryTableEntry) {
  for (const auto& spec : kCommands) {
    const CommandSpec* found = findCommand(static_cast<std::uint8_t>(spec.command));
    ASSERT_NE(found, nullptr) << spec.name;
    EXPECT_EQ(found->name, spec.name);
  }
}

TEST(Protocol, FindCommandRejectsCodesOutsideTable) {
  EXPECT_EQ(findCommand(0x00), nullptr);
  EXPECT_EQ(findCommand(0x10), nullptr);
  EXPECT_EQ(findCommand(0xff), nullptr);
}

TEST(Protocol, CommandTableHasUniqueCodesAndNames) {
  std::set<std::uint8_t> codes;
  std::set<std::string_view> names;
  for (const auto& spec : kCommands) {
    EXPECT_TRUE(codes.insert(static_cast<std::uint8_t>(spec.command)).second) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_FALSE(spec.name.empty());
    EXPECT_GE(spec.maxFrames, 1u) << spec.name;
  }
}

TEST(Protocol, ErrorCodeNameIsDistinctForEveryCode) {
  std::set<std::string_view> names;
  for (auto raw = static_cast<std::uint16_t>(ErrorCode::kUnknownService);
       raw <= static_cast<std::uint16_t>(kLastErrorCode); ++raw) {
    std::string_view name = errorCodeName(static_cast<ErrorCode>(raw));
    EXPECT_FALSE(name.empty()) << raw;
    EXPECT_NE(name, "unknown") << raw;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
}

TEST(Protocol, IsKnownErrorCodeAcceptsExactlyTheEnumeratedCodes) {
  EXPECT_FALSE(isKnownErrorCode(0));
  for (std::uint16_t raw = 1; raw <= static_cast<std::uint16_t>(kLastErrorCode); ++raw) {
    EXPECT_TRUE(isKnownErrorCode(raw)) << raw;
  }
  EXPECT_FALSE(isKnownErrorCode(static_cast<std::uint16_t>(kLastErrorCode) + 1));
  EXPECT_FALSE(isKnownErrorCode(0xffff));
}

TEST(WireCodec, DecodeErrorNameIsDistinctForEveryValue) {
  std::set<std::string_view> names;
  for (int raw = 0; raw <= static_cast<int>(kLastDecodeError); ++raw) {
    std::string_view name = decodeErrorName(static_cast<DecodeError>(raw));
    EXPECT_FALSE(name.empty()) << raw;
    EXPECT_NE(name, "unknown") << raw;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
}

// ---- peekCommand ----

TEST(PeekCommand, ReturnsCommandOfEveryTableEntry) {
  for (const auto& spec : kCommands) {
    Command command{};
    std::string header = "ST\x02"s + static_cast<char>(spec.command);
    EXPECT_EQ(peekCommand(header, command), DecodeError::kNone) << spec.name;
    EXPECT_EQ(command, spec.command) << spec.name;
  }
}

TEST(PeekCommand, RejectsHeaderCutShort) {
  Command command{};
  EXPECT_EQ(peekCommand("", command), DecodeError::kBadHeader);
  EXPECT_EQ(peekCommand("ST\x02"s, command), DecodeError::kBadHeader);
}

TEST(PeekCommand, RejectsWrongSignature) {
  Command command{};
  EXPECT_EQ(peekCommand("ZT\x02\x01"s, command), DecodeError::kBadSignature);
}

TEST(PeekCommand, RejectsWrongVersion) {
  Command command{};
  EXPECT_EQ(peekCommand("ST\x01\x01"s, command), DecodeError::kBadVersion);
  EXPECT_EQ(peekCommand("ST\x03\x01"s, command), DecodeError::kBadVersion);
}

TEST(PeekCommand, RejectsUnknownCommand) {
  Command command{};
  EXPECT_EQ(peekCommand("ST\x02\x42"s, command), DecodeError::kUnknownCommand);
}

TEST(PeekCommand, ReadsOnlyTheHeader) {
  // Routing must not depend on the rest of the message: a header that peeks as REQUEST
  // does so even though none of its fields follow.
  Command command{};
  ASSERT_EQ(peekCommand("ST\x02\x01"s, command), DecodeError::kNone);
  EXPECT_EQ(command, Command::kRequest);
}

TEST(PeekCommand, PeekVersionReadsTheVersionOfAnySignedEnvelope) {
  EXPECT_EQ(peekVersion("ST\x01\x01"s), 1);
  EXPECT_EQ(peekVersion("ST\x02\x07"s), 2);
  EXPECT_EQ(peekVersion("ZT\x02\x07"s), std::nullopt);
  EXPECT_EQ(peekVersion("ST\x02"s), std::nullopt);
}

}  // namespace
}  // namespace strata::codecs
