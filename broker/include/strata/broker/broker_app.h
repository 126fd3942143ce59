#pragma once

#include <memory>
#include <thread>

#include <strata/admin/admin_server.h>
#include <strata/broker/broker.h>
#include <strata/core/daemon_application.h>

namespace strata::broker {

// Reads a broker's configuration into BrokerOptions. Throws ConfigError or KeyError.
BrokerOptions brokerOptionsFrom(const core::Config& config);
// The strata.events.* limits; throws ConfigError for a value out of range.
EventSettings eventSettingsFrom(const core::Config& config);

// The strata-broker daemon.
class BrokerApp : public core::DaemonApplication {
 public:
  BrokerApp();

 protected:
  void start(core::Config& config) override;
  void stop() override;

 private:
  core::SteadyClock clock_;
  std::unique_ptr<Broker> broker_;
  std::thread loop_;
  std::unique_ptr<admin::AdminServer> admin_;  // when strata.admin.bind is set
};

}  // namespace strata::broker
