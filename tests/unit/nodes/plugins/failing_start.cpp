// Registers a service, then fails to start: the node must keep none of it.
#include <stdexcept>

#include <strata/plugin.h>

namespace {

class FailingStart : public strata::plugin::Plugin {
 public:
  explicit FailingStart(strata::plugin::Host& host) {
    host.addService("failing.service", [](const strata::plugin::Request&, strata::plugin::Reply& reply) {
      reply.frame("never");
    });
    throw std::runtime_error("database unreachable");
  }
};

}  // namespace

STRATA_PLUGIN(FailingStart, "failing_start", "0", "fails on purpose")
