#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::integrations {

// text as a whole number in [min, max] (decimal, an optional sign, nothing else), or
// nullopt. The integrations' settings use it, each naming its own key in the error.
std::optional<long long> parseWholeNumber(std::string_view text, long long min, long long max);

// A setting that must be a whole number in [min, max]: fallback when text is nullopt.
// Throws strata::ConfigError "<key> must be a whole number from <min> to <max>, not
// '<text>'" otherwise; key is the full name the user wrote.
long long wholeNumberSetting(const std::optional<std::string>& text, const std::string& key, long long fallback,
                             long long min, long long max);

}  // namespace strata::integrations
