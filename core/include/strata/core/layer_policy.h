#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <strata/core/authorized_keys.h>

namespace strata::core {

// Decides which layer may call which. By default: 4 -> 2, 2 -> 1 and 0, 3 -> 1 and 0
// (a layer-3 module speaks for its layer-2 host), 1 -> 0. A service may instead name
// the caller layers it accepts. Reserved `strata.*` services answer every layer. It
// also holds who may publish and subscribe to which event subjects.
class LayerPolicy {
 public:
  LayerPolicy();

  // Parses "4:2;2:1,0;1:0" (caller:targets, ...). Throws ConfigError.
  void setDefaultRules(std::string_view rules);
  // Callers allowed for one service, "4,2". Throws ConfigError.
  void setServiceCallers(const std::string& service, std::string_view callerLayers);

  bool allows(Layer caller, Layer serviceLayer, std::string_view service) const;

  // Event rights: the subject patterns a layer may publish to and subscribe to, as a
  // comma-separated list ("orders.>, audit.*"), or "none". By default layers 0 to 3 may
  // publish on any subject and layer 4 (front ends) on none; every layer may subscribe
  // to any subject. Throws ConfigError for a pattern that is not one.
  void setPublishRights(Layer layer, std::string_view patterns);
  void setSubscribeRights(Layer layer, std::string_view patterns);
  bool mayPublish(Layer publisher, std::string_view subject) const;
  // Whether every subject pattern matches is one the layer may receive.
  bool maySubscribe(Layer subscriber, std::string_view pattern) const;

 private:
  std::array<std::set<Layer>, kMaxLayer + 1> targets_;
  std::map<std::string, std::set<Layer>, std::less<>> serviceCallers_;
  std::array<std::vector<std::string>, kMaxLayer + 1> publish_;
  std::array<std::vector<std::string>, kMaxLayer + 1> subscribe_;
};

// The one text for a refused call: "layer 4 may not call 'orders.get'", with " (layer 1)"
// when the service's layer is known to the one refusing.
std::string mayNotCall(Layer caller, std::string_view service, std::optional<Layer> serviceLayer = std::nullopt);

}  // namespace strata::core
