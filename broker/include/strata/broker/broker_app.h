#pragma once

#include <atomic>
#include <filesystem>
#include <optional>

#include <memory>
#include <thread>

#include <strata/admin/admin_server.h>
#include <strata/broker/broker.h>
#include <strata/core/daemon_application.h>

namespace strata::broker {

// Reads a broker's configuration into BrokerOptions. Throws ConfigError or KeyError.
BrokerOptions brokerOptionsFrom(const core::Config& config);
// An authorized_keys file that parses and lists at least one key; throws ConfigError.
std::shared_ptr<const core::AuthorizedKeys> loadAuthorizedKeys(const std::filesystem::path& file);
// The strata.events.* limits; throws ConfigError for a value out of range.
EventSettings eventSettingsFrom(const core::Config& config);

// The strata-broker daemon.
class BrokerApp : public core::DaemonApplication {
 public:
  BrokerApp();

 protected:
  void start(core::Config& config) override;
  void stop() override;
  // SIGHUP, or a change of the file seen by onIdle: rereads strata.authorized_keys.
  void onHangup() override;
  void onIdle() override;

 private:
  // Rereads the keys file; a file that does not parse, or lists nobody, is refused with a
  // log line and the old list stays in force.
  void reloadKeys(const char* why);
  struct FileStamp {
    std::filesystem::file_time_type written{};
    std::uintmax_t size = 0;
    bool operator==(const FileStamp&) const = default;
  };
  std::optional<FileStamp> stampOfKeys() const;

  std::filesystem::path keysFile_;
  std::optional<FileStamp> keysStamp_;
  core::SteadyClock clock_;
  std::unique_ptr<Broker> broker_;
  std::thread loop_;
  std::unique_ptr<admin::AdminServer> admin_;  // when strata.admin.bind is set
};

}  // namespace strata::broker
