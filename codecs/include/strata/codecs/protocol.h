#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace strata::codecs {

// Protocol version 2. A message is one envelope frame, then body frames, if any. The
// envelope starts with a 4-byte header (the signature "ST", the protocol version, the
// command) and holds every fixed field of the command after it; body frames pass through
// brokers untouched. A body of one small frame travels inside the envelope instead, so a
// typical request or reply is a single frame. The table below is the one description of
// the envelopes (docs/protocol.md mirrors it and a test checks).
inline constexpr std::uint8_t kSignature0 = 'S';
inline constexpr std::uint8_t kSignature1 = 'T';
inline constexpr std::uint8_t kVersion = 2;
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
inline constexpr std::size_t kMaxHeadersSize = 64 * 1024;
inline constexpr std::size_t kMaxErrorText = 1024;
inline constexpr std::size_t kMaxServicesPerReady = 256;
inline constexpr std::uint32_t kMaxTimeoutMs = 24u * 3600u * 1000u;
inline constexpr std::uint32_t kMaxCredit = 1'000'000;
// A body of exactly one frame of at most this many bytes is carried inside the envelope
// (the "inline" flag); any other body follows as frames of its own. One rule, so every
// message has exactly one encoding.
inline constexpr std::size_t kMaxInlineBody = 4096;

// Envelope flags (REQUEST, PARTIAL, REPLY).
inline constexpr std::uint8_t kFlagInlineBody = 0x01;

// Where the broker patches a REQUEST envelope in place: header, flags, id, then timeout.
inline constexpr std::size_t kRequestIdOffset = kHeaderSize + 1;
inline constexpr std::size_t kRequestTimeoutOffset = kRequestIdOffset + 16;

inline constexpr std::size_t kAnyNumber = SIZE_MAX;

struct CommandSpec {
  Command command;
  std::string_view name;
  std::size_t maxFrames;     // the envelope included; kAnyNumber where body frames may follow
  std::string_view fields;   // the envelope's fields after the header, as docs/protocol.md names them
};

inline constexpr std::array<CommandSpec, 8> kCommands{{
    {Command::kRequest, "REQUEST", kAnyNumber, "flags id timeout caller service headers [body]"},
    {Command::kPartial, "PARTIAL", kAnyNumber, "flags id headers [body]"},
    {Command::kReply, "REPLY", kAnyNumber, "flags id headers [body]"},
    {Command::kError, "ERROR", 1, "id code text"},
    {Command::kReady, "READY", 1, "credit heartbeat service+"},
    {Command::kCredit, "CREDIT", 1, "credit"},
    {Command::kHeartbeat, "HEARTBEAT", 1, ""},
    {Command::kDisconnect, "DISCONNECT", 1, "reason"},
}};

// Names, prefixes and headers with a meaning on the wire, in one place.
inline constexpr std::string_view kReservedPrefix = "strata.";
inline constexpr std::string_view kPingService = "strata.ping";
inline constexpr std::string_view kServicesService = "strata.services";
inline constexpr std::string_view kServiceService = "strata.service";
inline constexpr std::string_view kStatsService = "strata.stats";
inline constexpr std::string_view kDurableHeader = "strata-durable";
inline constexpr std::string_view kAcceptedHeader = "strata-accepted";
inline constexpr std::string_view kWorkerHeader = "strata-worker";

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
