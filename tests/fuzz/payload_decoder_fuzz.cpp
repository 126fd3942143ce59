// libFuzzer target for the payload decoders (codecs::jsonCodec(), codecs::xmlCodec(),
// codecs::mailCodec()).
//
// Input: the first byte picks the codec ('j': JSON, 'x': XML, 'm': RFC 2822 mail; any
// other byte by its value modulo 3); the rest is the body. tests/fuzz/payload_corpus
// holds seeds in this form.
//
// Properties checked, each aborting (which libFuzzer and the replay report) if broken:
//  - decode never crashes, hangs or throws, and a failure always has an error text;
//  - a decoded XML value always encodes (every decoded document has an XML form);
//  - a decoded JSON or mail value encodes, or is refused with std::invalid_argument (an
//    escaped lone surrogate decodes to bytes that are not UTF-8);
//  - the encoding is stable: decode(encode(v)) encodes to the same bytes again.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include <strata/codecs/payload.h>

namespace {

enum class Kind { kJson, kXml, kMail };

Kind kindOf(std::uint8_t selector) {
  switch (selector) {
    case 'j': return Kind::kJson;
    case 'x': return Kind::kXml;
    case 'm': return Kind::kMail;
    default: return static_cast<Kind>(selector % 3);
  }
}

void check(bool ok, const char* property) {
  if (ok) return;
  std::fprintf(stderr, "payload_decoder_fuzz: property broken: %s\n", property);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace strata::codecs;
  if (size == 0) return 0;
  const Kind kind = kindOf(data[0]);
  const bool xml = kind == Kind::kXml;
  const PayloadCodec& codec = kind == Kind::kXml ? xmlCodec() : kind == Kind::kMail ? mailCodec() : jsonCodec();
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  PayloadResult first;
  try {
    first = codec.decode(body);
  } catch (...) {
    check(false, "decode does not throw");
  }
  if (!first.ok()) {
    check(!first.error.empty(), "a failure has an error text");
    return 0;
  }

  std::string encoded;
  try {
    encoded = codec.encode(first.value);
  } catch (const std::invalid_argument&) {
    check(!xml, "a decoded XML value always has an XML form");
    return 0;
  } catch (...) {
    check(false, "encode throws only std::invalid_argument");
  }
  PayloadResult second = codec.decode(encoded);
  check(second.ok(), "an encoded value decodes");
  check(codec.encode(second.value) == encoded, "encode(decode(encode(v))) == encode(v)");
  return 0;
}
