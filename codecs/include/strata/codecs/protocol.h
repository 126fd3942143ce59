#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace strata::codecs {

// Every message starts with a 4-byte header frame: the signature "ST", the protocol
// version, and the command. The rest of the frames depend on the command; the table
// below is the one description of them (docs/protocol.md mirrors it and a test checks).
inline constexpr std::uint8_t kSignature0 = 'S';
inline constexpr std::uint8_t kSignature1 = 'T';
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 4;

enum class Command : std::uint8_t {
  kRequest = 0x01,
  kPartial = 0x02,
  kReply = 0x03,
  kError = 0x04,
  kReady = 0x05,
  kCredit = 0x06,
  kHeartbeat = 0x07,
  kDisconnect = 0x08,
};

// Bounds on fields, checked by the decoder.
inline constexpr std::size_t kMaxServiceName = 255;
inline constexpr std::size_t kMaxCallerName = 64;
inline constexpr std::size_t kMaxHeadersFrame = 64 * 1024;
inline constexpr std::size_t kMaxErrorText = 1024;
inline constexpr std::size_t kMaxServicesPerReady = 256;
inline constexpr std::uint32_t kMaxTimeoutMs = 24u * 3600u * 1000u;
inline constexpr std::uint32_t kMaxCredit = 1'000'000;

// Frame positions the broker uses to rewrite a request without decoding it again.
inline constexpr std::size_t kRequestIdFrame = 1;
inline constexpr std::size_t kRequestServiceFrame = 2;
inline constexpr std::size_t kRequestTimeoutFrame = 3;
inline constexpr std::size_t kRequestCallerFrame = 4;
inline constexpr std::size_t kRequestHeadersFrame = 5;
inline constexpr std::size_t kRequestBodyFrame = 6;
inline constexpr std::size_t kReplyBodyFrame = 3;

inline constexpr std::size_t kAnyNumber = SIZE_MAX;

struct CommandSpec {
  Command command;
  std::string_view name;
  std::size_t minFrames;  // including the header frame
  std::size_t maxFrames;  // kAnyNumber where body frames follow
  std::string_view frames;  // the frames after the header, as docs/protocol.md names them
};

inline constexpr std::array<CommandSpec, 8> kCommands{{
    {Command::kRequest, "REQUEST", 6, kAnyNumber, "id service timeout caller headers body*"},
    {Command::kPartial, "PARTIAL", 3, kAnyNumber, "id headers body*"},
    {Command::kReply, "REPLY", 3, kAnyNumber, "id headers body*"},
    {Command::kError, "ERROR", 4, 4, "id code text"},
    {Command::kReady, "READY", 3, 2 + kMaxServicesPerReady, "settings service+"},
    {Command::kCredit, "CREDIT", 2, 2, "credit"},
    {Command::kHeartbeat, "HEARTBEAT", 1, 1, ""},
    {Command::kDisconnect, "DISCONNECT", 2, 2, "reason"},
}};

const CommandSpec* findCommand(std::uint8_t code);

// Error codes carried by ERROR. Stable on the wire: never renumber.
enum class ErrorCode : std::uint16_t {
  kUnknownService = 1,
  kTimeout = 2,
  kForbidden = 3,
  kTooLarge = 4,
  kMalformed = 5,
  kUnavailable = 6,
  kInternal = 7,  // the handler failed
};

std::string_view errorCodeName(ErrorCode code);
bool isKnownErrorCode(std::uint16_t code);

}  // namespace strata::codecs
