#pragma once

#include <string>

namespace strata::admin {

// The live dashboard: one self-contained HTML page (no external scripts or fonts) that
// reads /api/stats every second and draws services, workers, rates, p99 and errors.
const std::string& dashboardPage();

}  // namespace strata::admin
