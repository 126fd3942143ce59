#pragma once

#include <optional>
#include <string_view>

namespace strata::integrations {

// text as a whole number in [min, max] (decimal, an optional sign, nothing else), or
// nullopt. The integrations' settings use it, each naming its own key in the error.
std::optional<long long> parseWholeNumber(std::string_view text, long long min, long long max);

}  // namespace strata::integrations
