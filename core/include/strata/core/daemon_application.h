#pragma once

#include <string>
#include <vector>

#include <Poco/Util/ServerApplication.h>

#include <strata/core/config.h>

namespace strata::core {

// What strata-broker and strata-node share: `--config FILE`, `--define key=value`,
// `--help`, `--version`, logging to stdout, Strata errors turned into sysexits codes, and
// a clean stop on SIGTERM or SIGINT. A subclass starts its work in start(), which must not
// block, and stops it in stop(). SIGHUP calls onHangup(), and onIdle() runs about once a
// second, both on the main thread, between start() and stop().
class DaemonApplication : public Poco::Util::ServerApplication {
 public:
  DaemonApplication(std::string name, std::string summary, const std::vector<KeySpec>& keys);

  // main() of a daemon: parses options, runs, maps failures to sysexits codes.
  int runFromMain(int argc, char** argv);

 protected:
  virtual void start(Config& config) = 0;
  virtual void stop() = 0;
  virtual void onHangup();
  virtual void onIdle() {}

  void defineOptions(Poco::Util::OptionSet& options) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void handleVersion(const std::string& name, const std::string& value);
  // Blocks until SIGTERM, SIGINT or SIGQUIT, serving SIGHUP and onIdle meanwhile.
  void serveSignals();
  void handleConfig(const std::string& name, const std::string& value);
  void handleDefine(const std::string& name, const std::string& value);
  void displayHelp();

  std::string name_;
  std::string summary_;
  const std::vector<KeySpec>& keys_;
  std::string configFile_;
  std::vector<std::string> defines_;
  bool helpRequested_ = false;
  bool versionRequested_ = false;
};

}  // namespace strata::core
