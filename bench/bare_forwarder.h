#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <strata/core/authorized_keys.h>
#include <strata/core/curve_keys.h>

namespace strata::bench {

// The baseline the broker is measured against: a ZeroMQ ROUTER-to-ROUTER forwarder with
// credit-based dispatch and nothing else. It reads only the command byte, the id and
// READY's credit; no validation, policy, deadlines, limits or stats. Same CURVE and ZAP
// as the broker, so the two differ only in the broker's own work.
class BareForwarder {
 public:
  BareForwarder(std::shared_ptr<const core::SecretKey> key, std::shared_ptr<const core::AuthorizedKeys> keys);
  ~BareForwarder();

  // Binds a frontend (clients) and a backend (workers) on 127.0.0.1:* and prints
  // "frontend listening on ENDPOINT" and "backend listening on ENDPOINT" to stdout.
  void run(const std::atomic<bool>& stop);

 private:
  std::shared_ptr<const core::SecretKey> key_;
  std::shared_ptr<const core::AuthorizedKeys> keys_;
};

}  // namespace strata::bench
