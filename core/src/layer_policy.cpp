#include <strata/core/layer_policy.h>

#include <strata/core/config.h>
#include <strata/core/errors.h>
#include <strata/core/service_name.h>
#include <strata/core/subject.h>

namespace strata::core {

namespace {

Layer parseLayer(std::string_view text, std::string_view context) {
  if (text.size() != 1 || text[0] < '0' || text[0] > '0' + kMaxLayer) {
    throw ConfigError("layer policy '" + std::string(context) + "': layer must be 0 to 4, not '" +
                      std::string(text) + "'");
  }
  return text[0] - '0';
}

constexpr std::string_view kNoRights = "none";
constexpr std::string_view kAnySubject = ">";

std::vector<std::string> parseRights(Layer layer, std::string_view patterns, const char* what) {
  if (layer < kMinLayer || layer > kMaxLayer) throw ConfigError("event rights: layer must be 0 to 4");
  std::vector<std::string> out;
  for (const auto& pattern : splitList(patterns)) {
    if (pattern == kNoRights) continue;
    if (const char* problem = subjectProblem(pattern, SubjectKind::kPattern)) {
      throw ConfigError(std::string(what) + " rights of layer " + std::to_string(layer) + ": '" + pattern +
                        "' is no subject pattern: " + problem);
    }
    out.push_back(pattern);
  }
  return out;
}

}  // namespace

LayerPolicy::LayerPolicy() {
  setDefaultRules("4:2;3:1,0;2:1,0;1:0");
  for (Layer layer = kMinLayer; layer <= kMaxLayer; ++layer) {
    if (layer != kMaxLayer) publish_[layer] = {std::string(kAnySubject)};
    subscribe_[layer] = {std::string(kAnySubject)};
  }
}

void LayerPolicy::setPublishRights(Layer layer, std::string_view patterns) {
  publish_[layer] = parseRights(layer, patterns, "publish");
}

void LayerPolicy::setSubscribeRights(Layer layer, std::string_view patterns) {
  subscribe_[layer] = parseRights(layer, patterns, "subscribe");
}

bool LayerPolicy::mayPublish(Layer publisher, std::string_view subject) const {
  if (publisher < kMinLayer || publisher > kMaxLayer) return false;
  for (const auto& allowed : publish_[publisher])
    if (subjectMatches(allowed, subject)) return true;
  return false;
}

bool LayerPolicy::maySubscribe(Layer subscriber, std::string_view pattern) const {
  if (subscriber < kMinLayer || subscriber > kMaxLayer) return false;
  for (const auto& allowed : subscribe_[subscriber])
    if (patternCovers(allowed, pattern)) return true;
  return false;
}

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
  if (isReservedService(service)) return true;
  if (caller < kMinLayer || caller > kMaxLayer) return false;
  if (auto it = serviceCallers_.find(service); it != serviceCallers_.end()) return it->second.contains(caller);
  return targets_[caller].contains(serviceLayer);
}

std::string mayNotCall(Layer caller, std::string_view service, std::optional<Layer> serviceLayer) {
  std::string text = "layer " + std::to_string(caller) + " may not call '" + std::string(service) + "'";
  if (serviceLayer) text += " (layer " + std::to_string(*serviceLayer) + ")";
  return text;
}

}  // namespace strata::core
