#pragma once

#include <string_view>

namespace strata::integrations::http {

// RFC 9110 field names: one or more tchar ("!#$%&'*+-.^_`|~", letters, digits).
bool isHeaderName(std::string_view name);

// A field value that can be written as it is: visible ASCII, spaces and tabs only. CR, LF,
// NUL and other control bytes are refused (Poco writes them out unchanged, which is
// response splitting); so are bytes over 0x7e, which this gateway never needs.
bool isHeaderValue(std::string_view value);

}  // namespace strata::integrations::http
