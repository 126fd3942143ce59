#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <strata/codecs/wire_codec.h>
#include <strata/core/message_id.h>

namespace strata::codecs::test {

// Decodes owned frames. The decoded message holds views into `frames`, so the caller
// keeps `frames` alive (and unmodified) for as long as it reads the result.
inline DecodeResult decodeOwned(const std::vector<std::string>& frames) {
  std::vector<std::string_view> views(frames.begin(), frames.end());
  return decode(views);
}

// The id 01 02 03 ... 10: fixed so golden frames can spell it out byte by byte.
inline core::MessageId countingId() {
  std::array<std::uint8_t, core::MessageId::kSize> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i + 1);
  return core::MessageId(bytes);
}

}  // namespace strata::codecs::test
