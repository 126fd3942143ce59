#pragma once

#include <memory>

#include <strata/admin/admin_server.h>
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
  void startAdmin(const admin::AdminOptions& options);

  std::unique_ptr<Node> node_;
  std::unique_ptr<PluginHost> plugins_;
  std::unique_ptr<admin::AdminServer> admin_;  // when strata.admin.bind is set
};

}  // namespace strata::nodes
