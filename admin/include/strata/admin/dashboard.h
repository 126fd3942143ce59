#pragma once

#include <string>

namespace strata::admin {

// The live dashboard: one self-contained HTML page (no external scripts or fonts) that
// reads /api/stats every second and draws services, workers, rates, p99 and errors, and
// /api/pool for the other brokers of its pool side by side.
const std::string& dashboardPage();

}  // namespace strata::admin
