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

ExitCode exitCodeOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownService:
    case ErrorCode::kUnavailable: return ExitCode::kUnavailable;
    case ErrorCode::kTimeout: return ExitCode::kTempFail;
    case ErrorCode::kForbidden: return ExitCode::kNoPermission;
    case ErrorCode::kTooLarge:
    case ErrorCode::kMalformed: return ExitCode::kDataError;
    case ErrorCode::kInternal: return ExitCode::kSoftware;
    case ErrorCode::kConflict: return ExitCode::kDataError;
  }
  return ExitCode::kSoftware;
}

}  // namespace strata::nodes
