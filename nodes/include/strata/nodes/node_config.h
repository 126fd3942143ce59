#pragma once

#include <strata/core/config.h>
#include <strata/nodes/client.h>
#include <strata/nodes/worker.h>

namespace strata::nodes {

// Reads a node's configuration. Throws ConfigError or KeyError.
WorkerOptions workerOptionsFrom(const core::Config& config);
// Reads a client's configuration: strata.workers (direct mode) or strata.brokers.
ClientOptions clientOptionsFrom(const core::Config& config);

}  // namespace strata::nodes
