#include <strata/codecs/payload.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace strata::codecs {

std::string mediaType(std::string_view contentType) {
  auto end = contentType.find(';');
  std::string_view type = contentType.substr(0, end);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.remove_prefix(1);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.remove_suffix(1);
  std::string out(type);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const PayloadCodec* findPayloadCodec(std::string_view contentType) {
  auto type = mediaType(contentType);
  if (type == kJsonType) return &jsonCodec();
  if (type == kXmlType || type == "text/xml") return &xmlCodec();
  if (type == kMailType) return &mailCodec();
  return nullptr;
}

}  // namespace strata::codecs
