#include <strata/integrations/common/whole_number.h>

#include <charconv>

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

}  // namespace strata::integrations
