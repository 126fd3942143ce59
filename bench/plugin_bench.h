#pragma once

#include <cstdint>

namespace strata::bench {

// The plug-in measurements (docs/performance.md, "Plug-ins and integrations"): a layer-3
// module called in process against the same module called through a broker, and the
// integrations' request rates. Prints a table; returns a process exit code.
int runPluginBench(std::uint64_t requests);

}  // namespace strata::bench
