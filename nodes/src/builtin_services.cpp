#include <strata/nodes/builtin_services.h>

#include <strata/core/errors.h>

namespace strata::nodes {

Outcome echoService(const IncomingRequest& request, const PartialSender&) {
  return Outcome::reply(request.body, request.headers);
}

void addBuiltinServices(Worker& worker, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (name == "echo") {
      worker.addService(name, echoService);
    } else {
      throw ConfigError("unknown service '" + name + "' in strata.services; built in: echo");
    }
  }
}

}  // namespace strata::nodes
