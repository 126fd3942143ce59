#pragma once

// Private to the broker: the services it answers itself, strata.* (docs/protocol.md,
// "Reserved services").

#include <string>

#include <strata/broker/broker_core.h>
#include <strata/codecs/wire_codec.h>

#include "event_hub.h"
#include "pending_requests.h"
#include "service_table.h"

namespace strata::broker {

// What a reserved service answers: a JSON (or, for strata.ping, plain) body, or an error.
struct ReservedAnswer {
  bool ok = false;
  std::string body;
  codecs::ErrorCode code = codecs::ErrorCode::kUnknownService;
  std::string text;
  bool noSuchService = false;  // the strata.* name itself is unknown (counted as unknown_service)
};

// The broker itself, as strata.stats reports it.
struct Self {
  std::string_view name;
  std::chrono::milliseconds uptime{};
};

// The answer to request, a call of a strata.* service, from the broker's tables as they
// stand. Changes nothing.
ReservedAnswer answerReserved(const codecs::Request& request, const ServiceTable& services, const BrokerStats& stats,
                              const PendingRequests& pending, const EventHub& events, const Self& self);

}  // namespace strata::broker
