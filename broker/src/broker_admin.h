#pragma once

// Private to the broker: its figures as the admin endpoint serves them.

#include <string>

#include <strata/broker/broker.h>

namespace strata::broker {

// /metrics: Prometheus text (docs/operations.md lists every metric).
std::string metricsText(const BrokerSnapshot& snapshot);
// /api/stats: the same figures as JSON, in the shape the dashboard reads.
std::string statsJson(const BrokerSnapshot& snapshot, const std::string& name);

}  // namespace strata::broker
