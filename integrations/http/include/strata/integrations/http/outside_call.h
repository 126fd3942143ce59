#pragma once

// How the gateway's bus calls go out through the plug-in host.

#include <strata/plugin.h>

#include <strata/integrations/http/bus_call.h>

namespace strata::integrations::http {

// The Host::call options for a call the gateway makes for an HTTP or XML-RPC client:
// the request's headers and timeout, marked fromOutside (STRATA_CALL_FROM_OUTSIDE), so
// the node sends it through its brokers, under the node's own identity and the brokers'
// layer policy, even when the service is hosted in the same process, and never to a
// service of a process-only (layer-3) module.
inline plugin::CallOptions outsideCallOptions(const BusRequest& request) {
  plugin::CallOptions options;
  options.headers = request.headers;
  options.timeout = request.timeout;
  options.fromOutside = true;
  return options;
}

}  // namespace strata::integrations::http
