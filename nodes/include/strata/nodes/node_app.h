#pragma once

#include <memory>

#include <strata/core/daemon_application.h>
#include <strata/nodes/node.h>
#include <strata/nodes/plugin_host.h>

namespace strata::nodes {

// The strata-node daemon: runs the built-in services strata.services names and the
// plug-ins strata.plugins names.
class NodeApp : public core::DaemonApplication {
 public:
  NodeApp();

 protected:
  void start(core::Config& config) override;
  void stop() override;

 private:
  std::unique_ptr<Node> node_;
  std::unique_ptr<PluginHost> plugins_;
};

}  // namespace strata::nodes
