#pragma once

#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <strata/core/authorized_keys.h>

namespace strata::core {

// Decides which layer may call which. By default: 4 -> 2, 2 -> 1 and 0, 3 -> 1 and 0
// (a layer-3 module speaks for its layer-2 host), 1 -> 0. A service may instead name
// the caller layers it accepts. Reserved `strata.*` services answer every layer.
class LayerPolicy {
 public:
  LayerPolicy();

  // Parses "4:2;2:1,0;1:0" (caller:targets, ...). Throws ConfigError.
  void setDefaultRules(std::string_view rules);
  // Callers allowed for one service, "4,2". Throws ConfigError.
  void setServiceCallers(const std::string& service, std::string_view callerLayers);

  bool allows(Layer caller, Layer serviceLayer, std::string_view service) const;

 private:
  std::array<std::set<Layer>, kMaxLayer + 1> targets_;
  std::map<std::string, std::set<Layer>, std::less<>> serviceCallers_;
};

}  // namespace strata::core
