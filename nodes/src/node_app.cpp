#include <strata/nodes/node_app.h>

#include <sys/stat.h>

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>

#include <strata/admin/metrics_text.h>
#include <strata/core/version.h>

#include <strata/core/errors.h>
#include <strata/nodes/builtin_services.h>
#include <strata/nodes/node_config.h>

namespace strata::nodes {

namespace {

constexpr const char* kDefaultDataDir = "data";
// How long a stopping node waits for calls its plug-ins are still making or serving.
constexpr std::chrono::milliseconds kStopGrace{5000};
// /livez turns 503 once the worker's loop, which turns at least every second, has been
// still this long.
constexpr std::chrono::milliseconds kStuckAfter{5000};

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
  if (auto adminOptions = admin::adminOptionsFrom(config)) startAdmin(*adminOptions);
}

void NodeApp::startAdmin(const admin::AdminOptions& options) {
  admin::AdminSources sources;
  sources.metrics = [this] {
    admin::MetricsText m;
    m.processMetrics(core::version());
    m.counter("strata_node_calls_total", "Calls this node's services and plug-ins made, by where they went.",
              {{"to", "in_process"}}, static_cast<double>(node_->localCalls()));
    m.counter("strata_node_calls_total", "Calls this node's services and plug-ins made, by where they went.",
              {{"to", "brokers"}}, static_cast<double>(node_->remoteCalls()));
    auto loaded = plugins_->loaded();
    m.gauge("strata_node_plugins", "Plug-ins loaded and started.", {}, static_cast<double>(loaded.size()));
    for (const auto& plugin : loaded) {
      m.counter("strata_plugin_calls_total", "Bus calls a plug-in made (call and call_start).", {{"plugin", plugin.name}},
                static_cast<double>(plugin.calls));
    }
    if (auto status = node_->workerStatus()) {
      m.gauge("strata_node_brokers", "Brokers this node is configured to register with.", {},
              static_cast<double>(status->brokers));
      m.gauge("strata_node_brokers_registered", "Brokers that have heard this node's registration.", {},
              static_cast<double>(status->registered));
    }
    return m.text();
  };
  sources.stats = [this] {
    Poco::JSON::Object out;
    out.set("role", "node");
    out.set("name", node_->name());
    out.set("version", core::version());
    out.set("calls_in_process", node_->localCalls());
    out.set("calls_to_brokers", node_->remoteCalls());
    if (auto status = node_->workerStatus()) {
      out.set("brokers", status->brokers);
      out.set("brokers_registered", status->registered);
    }
    Poco::JSON::Array::Ptr plugins = new Poco::JSON::Array;
    for (const auto& p : plugins_->loaded()) plugins->add(p.name);
    out.set("plugins", plugins);
    std::ostringstream text;
    out.stringify(text);
    return text.str();
  };
  sources.live = [this] {
    auto status = node_->workerStatus();
    if (!status || status->sinceLastTurn < kStuckAfter) return admin::Health{};
    return admin::Health{false, "the worker's loop has not turned for " +
                                    std::to_string(status->sinceLastTurn.count()) + " ms"};
  };
  sources.ready = [this] {
    auto status = node_->workerStatus();
    if (!status || status->brokers == 0) return admin::Health{};  // a gateway alone, or direct mode
    if (status->registered == 0) {
      return admin::Health{false, "registered with none of its " + std::to_string(status->brokers) + " broker(s)"};
    }
    return admin::Health{};
  };
  admin_ = std::make_unique<admin::AdminServer>(options, std::move(sources), [](const std::string& text) {
    Poco::Logger::get("strata-node").information(text);
  });
}

void NodeApp::stop() {
  if (admin_) admin_->stop();
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
