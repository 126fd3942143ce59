#pragma once

// Bus errors as HTTP statuses, and the JSON body of every error the gateway sends.
//
//   bus error        HTTP
//   unknown_service  404 Not Found
//   timeout          504 Gateway Timeout
//   forbidden        403 Forbidden
//   too_large        413 Payload Too Large
//   malformed        400 Bad Request
//   unavailable      503 Service Unavailable
//   internal         500 Internal Server Error

#include <cstdint>
#include <string>
#include <string_view>

#include <strata/codecs/protocol.h>

namespace strata::integrations::http {

int httpStatusFor(codecs::ErrorCode code);

// The code for a number from the wire or the plug-in ABI; unknown numbers are internal.
codecs::ErrorCode errorCodeFromNumber(std::uint16_t number);

// {"error": "<name>", "message": "<text>"}, escaped as JSON.
std::string errorBody(std::string_view name, std::string_view message);

}  // namespace strata::integrations::http
