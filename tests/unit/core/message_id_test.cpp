#include <strata/core/message_id.h>

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>

#include <gtest/gtest.h>

namespace strata::core {
namespace {

using namespace std::string_literals;

TEST(MessageId, GenerateIsUniqueOver100kIds) {
  constexpr std::size_t kCount = 100'000;
  std::unordered_set<MessageId, MessageIdHash> seen;
  seen.reserve(kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(seen.insert(MessageId::generate()).second) << "repeated after " << i << " ids";
  }
}

TEST(MessageId, GenerateNeverReturnsZeroId) {
  // The decoder refuses the zero id, so a generated one must never be zero.
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(MessageId::generate().isZero());
}

TEST(MessageId, GenerateOnAnotherThreadGivesDifferentIds) {
  // Each thread has its own random prefix and counter; ids must still not collide.
  std::unordered_set<MessageId, MessageIdHash> mine;
  for (int i = 0; i < 1000; ++i) mine.insert(MessageId::generate());
  std::unordered_set<MessageId, MessageIdHash> theirs;
  std::thread other([&] {
    for (int i = 0; i < 1000; ++i) theirs.insert(MessageId::generate());
  });
  other.join();
  ASSERT_EQ(theirs.size(), 1000u);
  for (const auto& id : theirs) EXPECT_FALSE(mine.contains(id)) << id.hex();
}

TEST(MessageId, HexIs32LowercaseDigits) {
  std::array<std::uint8_t, MessageId::kSize> bytes{0x00, 0x01, 0xab, 0xcd, 0xef, 0x10, 0x20, 0x30,
                                                   0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xff};
  EXPECT_EQ(MessageId(bytes).hex(), "0001abcdef102030405060708090a0ff");
}

TEST(MessageId, HexRoundTripsThroughFromHex) {
  for (int i = 0; i < 100; ++i) {
    MessageId id = MessageId::generate();
    auto parsed = MessageId::fromHex(id.hex());
    ASSERT_TRUE(parsed.has_value()) << id.hex();
    EXPECT_EQ(*parsed, id);
  }
}

TEST(MessageId, FromHexAcceptsUppercase) {
  auto lower = MessageId::fromHex("0001abcdef102030405060708090a0ff");
  auto upper = MessageId::fromHex("0001ABCDEF102030405060708090A0FF");
  ASSERT_TRUE(lower && upper);
  EXPECT_EQ(*lower, *upper);
}

TEST(MessageId, FromHexRejectsWrongLength) {
  EXPECT_FALSE(MessageId::fromHex(""));
  EXPECT_FALSE(MessageId::fromHex(std::string(31, 'a')));
  EXPECT_FALSE(MessageId::fromHex(std::string(33, 'a')));
}

TEST(MessageId, FromHexRejectsNonHexDigit) {
  EXPECT_FALSE(MessageId::fromHex("g" + std::string(31, '0')));
  EXPECT_FALSE(MessageId::fromHex(std::string(31, '0') + " "));
  EXPECT_FALSE(MessageId::fromHex(std::string(30, '0') + "-1"));
}

TEST(MessageId, FromBytesKeepsTheBytes) {
  const std::string raw = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\xff"s;
  auto id = MessageId::fromBytes(raw);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->bytes(), raw);
  EXPECT_EQ(id->hex(), "000102030405060708090a0b0c0d0eff");
}

TEST(MessageId, FromBytesRejectsWrongLength) {
  EXPECT_FALSE(MessageId::fromBytes(""));
  EXPECT_FALSE(MessageId::fromBytes(std::string(15, 'x')));
  EXPECT_FALSE(MessageId::fromBytes(std::string(17, 'x')));
}

TEST(MessageId, DefaultIsZero) {
  EXPECT_TRUE(MessageId().isZero());
  EXPECT_TRUE(MessageId::fromBytes(std::string(16, '\0'))->isZero());
}

TEST(MessageId, OneNonZeroByteIsNotZero) {
  std::array<std::uint8_t, MessageId::kSize> bytes{};
  bytes[15] = 1;
  EXPECT_FALSE(MessageId(bytes).isZero());
}

TEST(MessageId, EqualIdsHashEqual) {
  MessageId id = MessageId::generate();
  MessageId copy = *MessageId::fromBytes(id.bytes());
  EXPECT_EQ(id, copy);
  EXPECT_EQ(MessageIdHash{}(id), MessageIdHash{}(copy));
}

}  // namespace
}  // namespace strata::core
