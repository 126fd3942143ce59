#include <strata/codecs/protocol.h>

namespace strata::codecs {

const CommandSpec* findCommand(std::uint8_t code) {
  for (const auto& spec : kCommands)
    if (static_cast<std::uint8_t>(spec.command) == code) return &spec;
  return nullptr;
}

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownService: return "unknown_service";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kConflict: return "conflict";
  }
  return "unknown";
}

bool isKnownErrorCode(std::uint16_t code) {
  return code >= static_cast<std::uint16_t>(ErrorCode::kUnknownService) &&
         code <= static_cast<std::uint16_t>(ErrorCode::kConflict);
}

}  // namespace strata::codecs
