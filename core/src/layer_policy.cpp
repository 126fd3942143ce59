#include <strata/core/layer_policy.h>

#include <strata/core/config.h>
#include <strata/core/errors.h>

namespace strata::core {

namespace {

Layer parseLayer(std::string_view text, std::string_view context) {
  if (text.size() != 1 || text[0] < '0' || text[0] > '0' + kMaxLayer) {
    throw ConfigError("layer policy '" + std::string(context) + "': layer must be 0 to 4, not '" +
                      std::string(text) + "'");
  }
  return text[0] - '0';
}

constexpr std::string_view kReservedPrefix = "strata.";

}  // namespace

LayerPolicy::LayerPolicy() { setDefaultRules("4:2;3:1,0;2:1,0;1:0"); }

void LayerPolicy::setDefaultRules(std::string_view rules) {
  std::array<std::set<Layer>, kMaxLayer + 1> targets;
  for (const auto& rule : splitList(rules, ';')) {
    auto colon = rule.find(':');
    if (colon == std::string::npos) {
      throw ConfigError("layer policy rule '" + rule + "' must read caller:target,target");
    }
    Layer caller = parseLayer(rule.substr(0, colon), rule);
    for (const auto& t : splitList(rule.substr(colon + 1))) targets[caller].insert(parseLayer(t, rule));
  }
  targets_ = targets;
}

void LayerPolicy::setServiceCallers(const std::string& service, std::string_view callerLayers) {
  std::set<Layer> callers;
  for (const auto& c : splitList(callerLayers)) callers.insert(parseLayer(c, service));
  serviceCallers_[service] = callers;
}

bool LayerPolicy::allows(Layer caller, Layer serviceLayer, std::string_view service) const {
  if (service.starts_with(kReservedPrefix)) return true;
  if (caller < kMinLayer || caller > kMaxLayer) return false;
  if (auto it = serviceCallers_.find(service); it != serviceCallers_.end()) return it->second.contains(caller);
  return targets_[caller].contains(serviceLayer);
}

}  // namespace strata::core
