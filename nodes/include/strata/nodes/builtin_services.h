#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <strata/nodes/node.h>
#include <strata/nodes/worker.h>

namespace strata::nodes {

// The services strata-node runs without plug-ins.
// echo: replies with the request's body and headers, unchanged. For smoke tests and benchmarks.
Outcome echoService(const IncomingRequest& request, const PartialSender& sendPartial);
// sleep: the body is a number of milliseconds; holds the request that long (never past its
// deadline, at most kMaxSleep), then replies "slept N ms". For demos and failover tests.
Outcome sleepService(const IncomingRequest& request, const PartialSender& sendPartial);
inline constexpr std::chrono::milliseconds kMaxSleep{60'000};

// Registers the named built-in services on worker. Throws ConfigError for a name that
// is not built in.
void addBuiltinServices(Node& node, const std::vector<std::string>& names);

}  // namespace strata::nodes
