#include <strata/core/version.h>

namespace strata::core {

std::string version() { return STRATA_VERSION; }

}  // namespace strata::core
