#pragma once

// Service names: one rule for every part of the bus. The wire codec, the broker, nodes,
// the plug-in host and the HTTP gateway all check names here, so a name one of them
// accepts is never refused by another later.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace strata::core {

inline constexpr std::size_t kMaxServiceName = 255;

// The bus's own services (strata.ping, strata.services, ...): answered by the broker or
// node itself, open to every layer, never offered by an application.
inline constexpr std::string_view kReservedPrefix = "strata.";

// 1 to kMaxServiceName characters, each a letter, a digit, '.', '_' or '-'.
bool isServiceName(std::string_view name);

bool isReservedService(std::string_view name);

// Why an application cannot offer name (not a service name, or reserved), or nullopt.
std::optional<std::string> serviceNameProblem(std::string_view name);

}  // namespace strata::core
