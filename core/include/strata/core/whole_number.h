#pragma once

// Whole-number settings: one rule for the bus's configuration and every plug-in's
// (the plug-in SDK, strata/plugin.h, includes this header, so it stays header-only).

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace strata::core {

// text as a whole number in [min, max]: decimal digits after an optional sign, nothing
// else (no spaces, no hex, no fraction); nullopt otherwise.
inline std::optional<long long> parseWholeNumber(std::string_view text, long long min, long long max) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// "<key> must be a whole number from <min> to <max>, not '<text>'".
inline std::string wholeNumberProblem(std::string_view key, std::string_view text, long long min, long long max) {
  return std::string(key) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
         ", not '" + std::string(text) + "'";
}

}  // namespace strata::core
