#include <strata/nodes/node_app.h>

#include <sys/stat.h>

#include <Poco/Logger.h>

#include <strata/core/errors.h>
#include <strata/nodes/builtin_services.h>
#include <strata/nodes/node_config.h>

namespace strata::nodes {

namespace {

constexpr const char* kDefaultDataDir = "data";
// How long a stopping node waits for calls its plug-ins are still making or serving.
constexpr std::chrono::milliseconds kStopGrace{5000};

std::filesystem::path prepareDataDir(const core::Config& config) {
  std::filesystem::path dir = config.getString("strata.data_dir", kDefaultDataDir);
  std::error_code error;
  if (std::filesystem::create_directories(dir, error)) ::chmod(dir.c_str(), 0700);
  if (error || !std::filesystem::is_directory(dir)) {
    throw ConfigError("strata.data_dir: cannot use " + dir.string() + (error ? ": " + error.message() : ""));
  }
  return std::filesystem::absolute(dir);
}

}  // namespace

NodeApp::NodeApp()
    : DaemonApplication("strata-node",
                        "Runs Strata services (built in and from plug-ins) and serves them to brokers or, in "
                        "direct mode, to clients.",
                        core::nodeKeys()) {}

void NodeApp::start(core::Config& config) {
  auto& log = Poco::Logger::get("strata-node");
  auto options = workerOptionsFrom(config);
  auto builtins = config.getList("strata.services");
  std::filesystem::path pluginDir = config.getString("strata.plugin_dir", defaultPluginDir().string());
  auto specs = pluginSpecsFrom(config, pluginDir);
  if (builtins.empty() && specs.empty()) {
    throw ConfigError("nothing to run: set strata.services (built in: echo, sleep) or strata.plugins");
  }
  auto clientOptions = nodeClientOptionsFrom(config, options);
  std::string name = options.name;
  node_ = std::make_unique<Node>(std::move(options), std::move(clientOptions));
  addBuiltinServices(*node_, builtins);

  plugins_ = std::make_unique<PluginHost>(*node_, specs.empty() ? std::filesystem::path() : prepareDataDir(config));
  std::vector<std::string> failures;
  for (const auto& spec : specs) {
    if (auto failure = plugins_->load(spec)) {
      log.error("%s; the node goes on without it", *failure);
      failures.push_back(*failure);
    }
  }
  if (node_->services().empty() && plugins_->loaded().empty()) {
    std::string all;
    for (const auto& f : failures) all += "\n  " + f;
    throw ConfigError("no service to run: every plug-in failed to load:" + all);
  }
  node_->start();
  std::string list;
  for (const auto& [service, reach] : node_->services()) {
    list += (list.empty() ? "" : ", ") + service + (reach == Node::Reach::kLocal ? " (in process)" : "");
  }
  log.information("node %s serving %s", name, list);
  for (const auto& e : node_->endpoints()) log.information("direct mode: listening on %s (CURVE)", e);
}

void NodeApp::stop() {
  if (!node_) return;
  // Brokers first (no new work arrives), then calls made in process (a gateway's threads)
  // drain, and only then do plug-ins stop: none of them may run code of a stopped one.
  node_->stop();
  if (!node_->close(kStopGrace)) {
    Poco::Logger::get("strata-node")
        .warning("calls still running %d ms after the stop; exiting without stopping the plug-ins",
                 static_cast<int>(kStopGrace.count()));
    // The process is exiting: leave the plug-ins and the node as they are rather than
    // free what running code still uses.
    static_cast<void>(plugins_.release());
    static_cast<void>(node_.release());
    return;
  }
  if (plugins_) plugins_->stop();
  plugins_.reset();
  node_.reset();
}

}  // namespace strata::nodes
