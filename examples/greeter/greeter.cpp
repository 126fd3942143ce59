// A plug-in as a user writes one: a service "greet" that answers "hello, <body>", with
// the greeting taken from the node's config (strata.plugin.greeter.greeting).
#include <strata/plugin.h>

namespace {

class Greeter : public strata::plugin::Plugin {
 public:
  explicit Greeter(strata::plugin::Host& host) : greeting_(host.config("greeting", "hello")) {
    host.addService("greet", [this](const strata::plugin::Request& request, strata::plugin::Reply& reply) {
      if (request.body().empty()) throw strata::plugin::ServiceError(STRATA_ERROR_MALFORMED, "greet needs a name");
      reply.frame(greeting_ + ", " + request.body());
    });
    host.info("greeter ready, greeting '" + greeting_ + "'");
  }

 private:
  std::string greeting_;
};

}  // namespace

STRATA_PLUGIN(Greeter, "greeter", "1.0.0", "answers greet with a greeting", "greeting")
