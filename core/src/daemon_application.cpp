#include <strata/core/daemon_application.h>

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <ctime>
#include <iostream>

#include <Poco/Logger.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>
#include <Poco/Util/OptionSet.h>

#include <strata/core/errors.h>
#include <strata/core/logging.h>
#include <strata/core/version.h>

namespace strata::core {

using Poco::Util::Option;
using Poco::Util::OptionCallback;

DaemonApplication::DaemonApplication(std::string name, std::string summary, const std::vector<KeySpec>& keys)
    : name_(std::move(name)), summary_(std::move(summary)), keys_(keys) {
  setUnixOptions(true);
}

void DaemonApplication::defineOptions(Poco::Util::OptionSet& options) {
  // Not ServerApplication's options: --daemon and --pidfile would need run(argc, argv),
  // and Strata's daemons run in the foreground (containers, service managers).
  Application::defineOptions(options);
  options.addOption(Option("help", "h", "print this help and exit")
                        .required(false)
                        .repeatable(false)
                        .callback(OptionCallback<DaemonApplication>(this, &DaemonApplication::handleHelp)));
  options.addOption(Option("version", "", "print the version and exit")
                        .required(false)
                        .repeatable(false)
                        .callback(OptionCallback<DaemonApplication>(this, &DaemonApplication::handleVersion)));
  options.addOption(Option("config", "c", "read configuration from FILE (.properties, .ini or .json)")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE")
                        .callback(OptionCallback<DaemonApplication>(this, &DaemonApplication::handleConfig)));
  options.addOption(Option("define", "D", "set configuration key to value, over the file")
                        .required(false)
                        .repeatable(true)
                        .argument("key=value")
                        .callback(OptionCallback<DaemonApplication>(this, &DaemonApplication::handleDefine)));
}

void DaemonApplication::handleHelp(const std::string&, const std::string&) {
  helpRequested_ = true;
  stopOptionsProcessing();
}

void DaemonApplication::handleVersion(const std::string&, const std::string&) {
  versionRequested_ = true;
  stopOptionsProcessing();
}

void DaemonApplication::onHangup() { Poco::Logger::get(name_).information("SIGHUP: nothing to reload"); }

void DaemonApplication::serveSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) sigaddset(&signals, sig);
  const timespec second{1, 0};
  for (;;) {
    int sig = sigtimedwait(&signals, nullptr, &second);
    if (sig == SIGHUP) {
      onHangup();
    } else if (sig > 0) {
      return;
    } else if (errno == EAGAIN) {
      onIdle();
    }
    // EINTR: another signal's handler ran; wait again.
  }
}

void DaemonApplication::handleConfig(const std::string&, const std::string& value) { configFile_ = value; }

void DaemonApplication::handleDefine(const std::string&, const std::string& value) { defines_.push_back(value); }

void DaemonApplication::displayHelp() {
  Poco::Util::HelpFormatter help(options());
  help.setCommand(name_);
  help.setUsage("--config FILE [--define key=value ...]");
  help.setHeader(summary_);
  std::string footer = "Configuration keys (docs/configuration.md says more):\n";
  for (const auto& key : keys_) {
    footer += "  " + std::string(key.name) + (key.prefix ? std::string(key.placeholder) : "") + "\n      " + std::string(key.help) + "\n";
  }
  footer += "Exit codes follow sysexits(3): 0 stopped cleanly, 64 usage, 65 bad key data, 66 missing input, 70 "
            "internal error, 71 system error, 77 key permissions, 78 configuration.";
  help.setFooter(footer);
  help.format(std::cout);
}

int DaemonApplication::main(const std::vector<std::string>& args) {
  if (helpRequested_) {
    displayHelp();
    return EXIT_OK;
  }
  if (versionRequested_) {
    std::cout << name_ << " " << version() << "\n";
    return EXIT_OK;
  }
  if (!args.empty()) {
    std::cerr << name_ << ": unexpected argument '" << args.front() << "'; try --help\n";
    return EXIT_USAGE;
  }
  if (configFile_.empty()) {
    std::cerr << name_ << ": --config FILE is required; try --help\n";
    return EXIT_USAGE;
  }
  // Blocked here, before start() makes threads, so that every thread inherits the mask and
  // the signals reach serveSignals() alone (SIGHUP's default would end the process).
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    Config config = Config::load(configFile_, defines_);
    config.checkKnownKeys(keys_);
    setupLogging(config.getString("strata.log.level", "information"), std::cout);
    start(config);
  } catch (const Error& e) {
    std::cerr << name_ << ": " << e.what() << "\n";
    return static_cast<int>(e.exitCode());
  }
  serveSignals();
  auto& log = Poco::Logger::get(name_);
  log.information("stopping");
  stop();
  log.information("stopped cleanly");
  return EXIT_OK;
}

int DaemonApplication::runFromMain(int argc, char** argv) {
  try {
    init(argc, argv);
  } catch (const Poco::Exception& e) {
    std::cerr << name_ << ": " << e.displayText() << "; try --help\n";
    return static_cast<int>(strata::ExitCode::kUsage);
  }
  return run();
}

}  // namespace strata::core
