#include <strata/nodes/node_app.h>

#include <Poco/Logger.h>

#include <strata/core/errors.h>
#include <strata/nodes/builtin_services.h>
#include <strata/nodes/node_config.h>

namespace strata::nodes {

NodeApp::NodeApp()
    : DaemonApplication("strata-node", "Runs Strata services and serves them to brokers or, in direct mode, to clients.",
                        core::nodeKeys()) {}

void NodeApp::start(core::Config& config) {
  auto options = workerOptionsFrom(config);
  auto services = config.getList("strata.services");
  if (services.empty()) throw ConfigError("strata.services names no service to run (e.g. echo)");
  std::string name = options.name;
  worker_ = std::make_unique<Worker>(std::move(options));
  addBuiltinServices(*worker_, services);
  worker_->start();
  auto& log = Poco::Logger::get("strata-node");
  log.information("node %s serving %s", name, config.getString("strata.services"));
  for (const auto& e : worker_->endpoints()) log.information("direct mode: listening on %s (CURVE)", e);
}

void NodeApp::stop() {
  if (worker_) worker_->stop();
  worker_.reset();
}

}  // namespace strata::nodes
