#pragma once

// Checks and encodings of text that several payloads, headers and integrations need:
// one home, so that "is this UTF-8" and "base64" mean the same everywhere.

#include <optional>
#include <string>
#include <string_view>

namespace strata::codecs {

// True when text is well-formed UTF-8: no overlong forms, surrogates or values past
// U+10FFFF, no truncated sequence.
bool isUtf8(std::string_view text);

// RFC 4648 base64 with padding, on one line.
std::string toBase64(std::string_view bytes);

// The bytes of RFC 4648 base64 text; whitespace between characters is skipped (as in
// XML-RPC's <base64> and MIME bodies). nullopt when it is not base64: a character
// outside the alphabet, a bad length or misplaced padding.
std::optional<std::string> fromBase64(std::string_view text);

}  // namespace strata::codecs
