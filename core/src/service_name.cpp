#include <strata/core/service_name.h>

#include <algorithm>

namespace strata::core {

namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

bool isServiceName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxServiceName && std::all_of(name.begin(), name.end(), isNameChar);
}

bool isReservedService(std::string_view name) { return name.starts_with(kReservedPrefix); }

std::optional<std::string> serviceNameProblem(std::string_view name) {
  constexpr std::size_t kShown = 64;  // a hostile name is not echoed whole
  std::string shown(name.substr(0, kShown));
  if (name.size() > kShown) shown += "...";
  if (!isServiceName(name)) {
    return "service name '" + shown + "' must be 1 to " + std::to_string(kMaxServiceName) +
           " letters, digits, '.', '_' or '-'";
  }
  if (isReservedService(name)) {
    return "service name '" + shown + "' is reserved: names starting '" + std::string(kReservedPrefix) +
           "' are the bus's own";
  }
  return std::nullopt;
}

}  // namespace strata::core
