// Offers a service under a name the node must refuse: its "service" setting, by
// default one with a space in it.
#include <strata/plugin.h>

namespace {

class BadServiceName : public strata::plugin::Plugin {
 public:
  explicit BadServiceName(strata::plugin::Host& host) {
    host.addService(host.config("service", "has space"), [](const strata::plugin::Request&, strata::plugin::Reply& reply) { reply.frame("x"); });
  }
};

}  // namespace

STRATA_PLUGIN(BadServiceName, "bad_service_name", "0", "offers a bad service name", "service")
