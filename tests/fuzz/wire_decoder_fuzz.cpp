// libFuzzer target for the wire decoder.
//
// Input framing, so that the fuzzer can shape whole messages: the first byte modulo 16
// is the frame count; each frame is then a u16 big-endian length and that many bytes.
// A length longer than what is left is cut to what is left, a frame with no length
// bytes left is empty, and bytes after the last frame are ignored, so every input maps
// to some frame list. tests/fuzz/corpus holds seeds in this framing. A frame here is at
// most 65535 bytes, so the 64 KiB headers limit is left to the unit tests.
//
// Properties checked, each aborting (which libFuzzer and the replay report) if broken:
//  - decode never crashes or reads outside the frames (ASan in the fuzz build);
//  - a decoded message's command is the one peekCommand reads from its header;
//  - encode(decode(frames)) == frames: the encoding is canonical, so a decoder that
//    accepts bytes the encoder can never produce has a hole;
//  - decode(encode(m)) succeeds and encodes to the same frames again;
//  - each message of a decoded BATCH decodes (or fails) on its own, never as a batch.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>

namespace {

constexpr std::size_t kMaxFuzzFrames = 16;
constexpr std::size_t kLengthBytes = 2;

std::vector<std::string_view> splitFrames(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string_view> frames;
  if (size == 0) return frames;
  const char* text = reinterpret_cast<const char*>(data);
  std::size_t count = data[0] % kMaxFuzzFrames;
  std::size_t pos = 1;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t length = 0;
    if (size - pos >= kLengthBytes) {
      length = (static_cast<std::size_t>(data[pos]) << 8) | data[pos + 1];
      pos += kLengthBytes;
    } else {
      pos = size;
    }
    length = std::min(length, size - pos);
    frames.emplace_back(text + pos, length);
    pos += length;
  }
  return frames;
}

void check(bool ok, const char* property) {
  if (ok) return;
  std::fprintf(stderr, "wire_decoder_fuzz: property broken: %s\n", property);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace strata::codecs;

  std::vector<std::string_view> frames = splitFrames(data, size);
  DecodeResult first = decode(frames);
  check(!decodeErrorName(first.error).empty(), "every DecodeError has a name");
  if (!first.ok()) return 0;

  Command command{};
  check(peekCommand(frames[0], command) == DecodeError::kNone, "a decoded message has a valid header");
  // Message's alternatives are in command order, REQUEST (1) first.
  check(static_cast<std::size_t>(command) == first.message.index() + 1, "decoded type matches the header");

  std::vector<std::string> encoded = encode(first.message);
  check(std::equal(frames.begin(), frames.end(), encoded.begin(), encoded.end()),
        "encode(decode(frames)) == frames");

  if (const auto* batch = std::get_if<Batch>(&first.message)) {
    for (auto message : batch->messages) {
      std::vector<std::string_view> one{message};
      DecodeResult inner = decode(one);
      check(!decodeErrorName(inner.error).empty(), "every DecodeError has a name");
      check(!inner.ok() || !std::holds_alternative<Batch>(inner.message), "a batch holds no batch");
    }
  }

  std::vector<std::string_view> views(encoded.begin(), encoded.end());
  DecodeResult second = decode(views);
  check(second.ok(), "a re-encoded message decodes");
  check(encode(second.message) == encoded, "encode(decode(encode(m))) == encode(m)");
  return 0;
}
