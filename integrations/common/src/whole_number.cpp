#include <strata/integrations/common/whole_number.h>

#include <charconv>

#include <strata/core/errors.h>

namespace strata::integrations {

std::optional<long long> parseWholeNumber(std::string_view text, long long min, long long max) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

long long wholeNumberSetting(const std::optional<std::string>& text, const std::string& key, long long fallback,
                             long long min, long long max) {
  if (!text) return fallback;
  auto value = parseWholeNumber(*text, min, max);
  if (!value) {
    throw ConfigError(key + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", not '" + *text + "'");
  }
  return *value;
}

}  // namespace strata::integrations
