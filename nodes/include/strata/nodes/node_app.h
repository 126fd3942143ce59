#pragma once

#include <memory>

#include <strata/core/daemon_application.h>
#include <strata/nodes/worker.h>

namespace strata::nodes {

// The strata-node daemon: runs the services named in strata.services.
class NodeApp : public core::DaemonApplication {
 public:
  NodeApp();

 protected:
  void start(core::Config& config) override;
  void stop() override;

 private:
  std::unique_ptr<Worker> worker_;
};

}  // namespace strata::nodes
