#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace strata::core {

// A 128-bit request id. It is chosen by the client, kept across retries and brokers,
// and is the key under which replies, deadlines and idempotency records are filed.
// 64 bits from libsodium's random source, unpredictable across processes.
std::uint64_t randomWord();

class MessageId {
 public:
  static constexpr std::size_t kSize = 16;

  MessageId() = default;
  explicit MessageId(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // A fresh id: 64 random bits fixed per process and thread, then a 64-bit counter, so
  // ids never repeat within a process and collide across processes with odds of 2^-64.
  static MessageId generate();
  // Reads exactly kSize bytes; nullopt for any other length.
  static std::optional<MessageId> fromBytes(std::string_view bytes);
  static std::optional<MessageId> fromHex(std::string_view hex);

  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  std::string hex() const;
  bool isZero() const;

  auto operator<=>(const MessageId&) const = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

struct MessageIdHash {
  std::size_t operator()(const MessageId& id) const noexcept {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, id.bytes().data(), 8);
    std::memcpy(&b, id.bytes().data() + 8, 8);
    return static_cast<std::size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
  }
};

}  // namespace strata::core
