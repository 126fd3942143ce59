#pragma once

#include <strata/core/config.h>
#include <strata/nodes/client.h>
#include <strata/nodes/worker.h>

namespace strata::nodes {

// Reads a node's configuration. Throws ConfigError or KeyError.
WorkerOptions workerOptionsFrom(const core::Config& config);
// Reads a client's configuration: strata.workers (direct mode) or strata.brokers.
ClientOptions clientOptionsFrom(const core::Config& config);
// How a node's own calls leave it: through its brokers, with its own key; nullopt in
// direct mode (no brokers).
std::optional<ClientOptions> nodeClientOptionsFrom(const core::Config& config, const WorkerOptions& worker);

}  // namespace strata::nodes
