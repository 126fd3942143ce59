#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::integrations {

// A setting that must be a whole number in [min, max] (core::parseWholeNumber): fallback
// when text is nullopt.
// Throws strata::ConfigError "<key> must be a whole number from <min> to <max>, not
// '<text>'" otherwise; key is the full name the user wrote.
long long wholeNumberSetting(const std::optional<std::string>& text, const std::string& key, long long fallback,
                             long long min, long long max);

}  // namespace strata::integrations
