#include <strata/core/message_id.h>

#include <atomic>

#include <sodium.h>

namespace strata::core {

std::uint64_t randomWord() {
  std::uint64_t word = 0;
  if (sodium_init() < 0) {
    // Not a peer's fault and nothing to go on with: ids must be unpredictable across processes.
    std::abort();
  }
  randombytes_buf(&word, sizeof word);
  return word;
}

MessageId MessageId::generate() {
  thread_local const std::uint64_t prefix = randomWord();
  thread_local std::uint64_t counter = randomWord();
  ++counter;
  std::array<std::uint8_t, kSize> bytes{};
  std::memcpy(bytes.data(), &prefix, 8);
  std::memcpy(bytes.data() + 8, &counter, 8);
  return MessageId(bytes);
}

std::optional<MessageId> MessageId::fromBytes(std::string_view bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  std::array<std::uint8_t, kSize> out{};
  std::memcpy(out.data(), bytes.data(), kSize);
  return MessageId(out);
}

std::optional<MessageId> MessageId::fromHex(std::string_view hex) {
  if (hex.size() != kSize * 2) return std::nullopt;
  std::array<std::uint8_t, kSize> out{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < kSize; ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return MessageId(out);
}

std::string MessageId::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(kSize * 2);
  for (auto b : bytes_) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

bool MessageId::isZero() const {
  for (auto b : bytes_)
    if (b != 0) return false;
  return true;
}

}  // namespace strata::core
