#pragma once

// The host's side of the plug-in ABI's opaque strata_reply: the Outcome a C handler
// builds through the host API, and where its partial replies go.

#include <strata/nodes/messages.h>
#include <strata/nodes/worker.h>
#include <strata/plugin_abi.h>

struct strata_reply {
  strata::nodes::Outcome outcome;
  const strata::nodes::PartialSender* partial = nullptr;  // null: partials are dropped
};
