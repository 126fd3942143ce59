#include <strata/integrations/http/error_status.h>

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPResponse.h>

namespace strata::integrations::http {

using Poco::Net::HTTPResponse;

int httpStatusFor(codecs::ErrorCode code) {
  switch (code) {
    case codecs::ErrorCode::kUnknownService: return HTTPResponse::HTTP_NOT_FOUND;
    case codecs::ErrorCode::kTimeout: return HTTPResponse::HTTP_GATEWAY_TIMEOUT;
    case codecs::ErrorCode::kForbidden: return HTTPResponse::HTTP_FORBIDDEN;
    case codecs::ErrorCode::kTooLarge: return HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE;
    case codecs::ErrorCode::kMalformed: return HTTPResponse::HTTP_BAD_REQUEST;
    case codecs::ErrorCode::kUnavailable: return HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
    case codecs::ErrorCode::kInternal: return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
    case codecs::ErrorCode::kConflict: return HTTPResponse::HTTP_CONFLICT;
  }
  return HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
}

codecs::ErrorCode errorCodeFromNumber(std::uint16_t number) {
  if (!codecs::isKnownErrorCode(number)) return codecs::ErrorCode::kInternal;
  return static_cast<codecs::ErrorCode>(number);
}

std::string errorBody(std::string_view name, std::string_view message) {
  Poco::JSON::Object object;
  object.set("error", std::string(name));
  object.set("message", std::string(message));
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

}  // namespace strata::integrations::http
