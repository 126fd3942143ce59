#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <strata/core/config.h>
#include <strata/nodes/node.h>

namespace strata::nodes {

// One plug-in to load, as the node's config describes it.
struct PluginSpec {
  std::string name;
  std::filesystem::path path;
  // Layer 3: a business module inside this layer-2 process; its services are called in
  // process only and offered to no broker.
  core::Layer layer = 2;
  std::map<std::string, std::string> config;  // its keys, without "strata.plugin.<name>."
};

// The plug-ins strata.plugins names, resolved: strata.plugin.<name>.path, or
// libstrata_<name>.so in pluginDir. Throws ConfigError for keys under strata.plugin. that
// name a plug-in strata.plugins does not list, or a bad layer.
std::vector<PluginSpec> pluginSpecsFrom(const core::Config& config, const std::filesystem::path& pluginDir);

// Where plug-ins are looked for by default: lib/strata/plugins beside the bin/ directory
// that holds the running program (the same in the build tree and in an install).
std::filesystem::path defaultPluginDir();

// Loads plug-ins into a Node through the C ABI of <strata/plugin_abi.h>. A plug-in that
// fails (missing file, wrong ABI version, unknown config key, start() refusing) is
// reported and leaves nothing behind; the others load as if it had not been there.
class PluginHost {
 public:
  PluginHost(Node& node, std::filesystem::path dataDir);
  // Stops every plug-in (stop() first), then unloads them.
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Before node.start(): loads, checks and starts one plug-in and adds its services to
  // the node. Returns what went wrong, or nullopt when it runs.
  std::optional<std::string> load(const PluginSpec& spec);

  // Stops the plug-ins, last loaded first: no handler of theirs runs afterwards. Call
  // after the node stopped serving.
  void stop();

  struct Loaded {
    std::string name;
    std::string version;
    std::string description;
    std::filesystem::path path;
    std::vector<std::string> services;
    std::uint64_t calls = 0;  // bus calls it has made
  };
  std::vector<Loaded> loaded() const;

  struct Plugin;  // one loaded library: the ABI's strata_host

 private:
  Node& node_;
  std::filesystem::path dataDir_;
  std::vector<std::unique_ptr<Plugin>> plugins_;
};

}  // namespace strata::nodes
