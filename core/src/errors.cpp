#include <strata/core/errors.h>

#include <cstdio>
#include <cstdlib>

namespace strata {

void assertionFailed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "strata: assertion failed: %s (%s:%d)\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace strata
