#pragma once

#include <string>

namespace strata::core {

// Strata's version, as the build gives it (the project's VERSION in CMakeLists.txt).
std::string version();

}  // namespace strata::core
