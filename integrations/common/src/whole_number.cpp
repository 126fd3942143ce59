#include <strata/integrations/common/whole_number.h>

#include <strata/core/errors.h>
#include <strata/core/whole_number.h>

namespace strata::integrations {

long long wholeNumberSetting(const std::optional<std::string>& text, const std::string& key, long long fallback,
                             long long min, long long max) {
  if (!text) return fallback;
  auto value = core::parseWholeNumber(*text, min, max);
  if (!value) throw ConfigError(core::wholeNumberProblem(key, *text, min, max));
  return *value;
}

}  // namespace strata::integrations
