#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <strata/codecs/protocol.h>
#include <strata/core/message_id.h>

namespace strata::codecs {

// Decoded messages hold views into the frames they came from: the frames must outlive
// them. Encoders take the same structs and return freshly owned frames.

using Frames = std::span<const std::string_view>;

struct Header {
  std::string_view key;
  std::string_view value;
};

// Who sent a request, as the broker (or a direct-mode worker) authenticated it. Clients
// send it empty; the broker overwrites it, so a client can never claim another name.
struct Caller {
  std::uint8_t layer = 0;
  std::string_view name;
};

struct Request {
  core::MessageId id;
  std::string_view service;
  std::uint32_t timeoutMs = 0;  // the deadline, as time left when the message is sent
  Caller caller;
  std::vector<Header> headers;
  std::vector<std::string_view> body;
};

struct Partial {
  core::MessageId id;
  std::vector<Header> headers;
  std::vector<std::string_view> body;
};

struct Reply {
  core::MessageId id;
  std::vector<Header> headers;
  std::vector<std::string_view> body;
};

struct Error {
  core::MessageId id;
  ErrorCode code = ErrorCode::kInternal;
  std::string_view text;
};

struct Ready {
  std::uint32_t credit = 0;
  std::uint32_t heartbeatMs = 0;
  std::vector<std::string_view> services;
};

struct Credit {
  std::uint32_t credit = 0;
};

struct Heartbeat {};

struct Disconnect {
  std::string_view reason;
};

using Message = std::variant<Request, Partial, Reply, Error, Ready, Credit, Heartbeat, Disconnect>;

enum class DecodeError {
  kNone = 0,
  kNoFrames,
  kBadHeader,
  kBadSignature,
  kBadVersion,
  kUnknownCommand,
  kMissingFrame,
  kExtraFrame,
  kBadId,
  kBadService,
  kBadTimeout,
  kBadCaller,
  kBadHeaders,
  kBadCode,
  kBadText,
  kBadSettings,
  kBadCredit,
};

std::string_view decodeErrorName(DecodeError error);

struct DecodeResult {
  Message message;
  DecodeError error = DecodeError::kNone;
  bool ok() const { return error == DecodeError::kNone; }
};

// Never throws, never reads outside the frames; every failure is a DecodeError.
DecodeResult decode(Frames frames);

// Reads only the header frame, for code that routes on the command alone.
DecodeError peekCommand(std::string_view headerFrame, Command& command);

// A service name: 1 to 255 bytes of letters, digits, '.', '-', '_'.
bool isValidServiceName(std::string_view name);

std::vector<std::string> encode(const Message& message);
std::string encodeHeaderFrame(Command command);
std::string encodeHeaders(const std::vector<Header>& headers);
std::string encodeCaller(const Caller& caller);
std::string encodeU32(std::uint32_t value);

// Frames stored as one blob (journal, idempotency store): each frame as a big-endian u32
// length and its bytes. unpackFrames returns nullopt for a torn or truncated blob.
std::string packFrames(const std::vector<std::string>& frames);
std::optional<std::vector<std::string_view>> unpackFrames(std::string_view blob);
std::uint32_t readU32(std::string_view four);

}  // namespace strata::codecs
