#include <strata/nodes/messages.h>

namespace strata::nodes {

std::optional<std::string> findHeader(const Headers& headers, std::string_view key) {
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return std::nullopt;
}

std::string Response::bodyText() const {
  std::string out;
  for (const auto& frame : body) out += frame;
  return out;
}

}  // namespace strata::nodes
