#pragma once

// The host's side of the plug-in ABI's opaque strata_reply: the Outcome a C handler
// builds through the host API, where its partial replies go, and, once detached, the
// answer it finishes later.

#include <strata/nodes/messages.h>
#include <strata/nodes/worker.h>
#include <strata/plugin_abi.h>

struct strata_reply {
  strata::nodes::Outcome outcome;
  const strata::nodes::PartialSender* partial = nullptr;  // null: partials are dropped
  // Where reply_detach may take the answer from (null or empty: it may not).
  const strata::nodes::IncomingRequest* request = nullptr;
  // A detached reply: its own answer, which reply_finish sends.
  std::shared_ptr<strata::nodes::LaterAnswer> later;
};
