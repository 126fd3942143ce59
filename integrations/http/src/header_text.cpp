#include <strata/integrations/http/header_text.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace strata::integrations::http {

namespace {
constexpr char kTab = '\t';
constexpr char kFirstVisible = ' ';
constexpr char kLastVisible = '~';
}  // namespace

bool isHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
  });
}

bool isHeaderValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c == kTab || (c >= kFirstVisible && c <= kLastVisible); });
}

}  // namespace strata::integrations::http
