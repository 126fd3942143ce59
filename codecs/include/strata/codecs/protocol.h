#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <strata/core/service_name.h>

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
  kSubscribe = 0x09,
  kUnsubscribe = 0x0A,
  kPublish = 0x0B,
  kAccepted = 0x0C,
  kEvents = 0x0D,
  kReceived = 0x0E,
  kBatch = 0x0F,
};

// Bounds on fields, checked by the decoder.
using core::kMaxServiceName;  // the rule is core/service_name.h
inline constexpr std::size_t kMaxCallerName = 64;
inline constexpr std::size_t kMaxHeadersSize = 64 * 1024;
inline constexpr std::size_t kMaxErrorText = 1024;
inline constexpr std::size_t kMaxServicesPerReady = 256;
inline constexpr std::uint32_t kMaxTimeoutMs = 24u * 3600u * 1000u;
inline constexpr std::uint32_t kMaxCredit = 1'000'000;
inline constexpr std::size_t kMaxPatternsPerMessage = 256;  // SUBSCRIBE, UNSUBSCRIBE
inline constexpr std::size_t kMaxAcceptedRanges = 256;
inline constexpr std::size_t kMaxEventsPerBatch = 65'536;
// Flow control of EVENTS: a broker has at most kEventWindow batches unconfirmed at a
// subscriber, and a subscriber confirms (RECEIVED) at least every kEventWindow / 2
// batches, so a paused subscriber holds at most this many in the pipes and the rest
// waits, bounded, in the broker's queue for it.
inline constexpr std::size_t kEventWindow = 8;
// An EVENTS batch the broker builds grows past this only to hold a single larger event.
inline constexpr std::size_t kEventsBatchBytes = 64 * 1024;
// A body of exactly one frame of at most this many bytes is carried inside the envelope
// (the "inline" flag); any other body follows as frames of its own. One rule, so every
// message has exactly one encoding.
inline constexpr std::size_t kMaxInlineBody = 4096;
// A BATCH carries 2 to kMaxBatchMessages one-frame messages for one peer, gathered in one
// turn of the sender's loop, so that CURVE encrypts and ZeroMQ frames them once. A sender
// lets a batch grow to at most kMaxBatchBytes (and never past its own frame limit).
inline constexpr std::size_t kMaxBatchMessages = 1024;
inline constexpr std::size_t kMaxBatchBytes = 32 * 1024;

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

// An event id is 16 bytes like a request id: the publisher's session (8 bytes, random
// per client) then its sequence number (8 bytes, big-endian, from 1). Subscribers drop
// an event whose sequence is not above the last they saw from that session.
inline constexpr std::size_t kEventSessionSize = 8;

inline constexpr std::array<CommandSpec, 15> kCommands{{
    {Command::kRequest, "REQUEST", kAnyNumber, "flags id timeout caller service headers [body]"},
    {Command::kPartial, "PARTIAL", kAnyNumber, "flags id headers [body]"},
    {Command::kReply, "REPLY", kAnyNumber, "flags id headers [body]"},
    {Command::kError, "ERROR", 1, "id code text"},
    {Command::kReady, "READY", 1, "credit heartbeat service+"},
    {Command::kCredit, "CREDIT", 1, "credit"},
    {Command::kHeartbeat, "HEARTBEAT", 1, ""},
    {Command::kDisconnect, "DISCONNECT", 1, "reason"},
    {Command::kSubscribe, "SUBSCRIBE", 1, "id session pattern+"},
    {Command::kUnsubscribe, "UNSUBSCRIBE", 1, "id session pattern*"},
    {Command::kPublish, "PUBLISH", 1, "count event+"},
    {Command::kAccepted, "ACCEPTED", 1, "session range+"},
    {Command::kEvents, "EVENTS", 1, "batch dropped count event+"},
    {Command::kReceived, "RECEIVED", 1, "session batch"},
    {Command::kBatch, "BATCH", 1, "message+"},
}};

// Liveness, the same at both ends of every link: a heartbeat (or any message) each
// kDefaultHeartbeat, and a peer silent for kDefaultLiveness of them is taken for dead.
inline constexpr std::chrono::milliseconds kDefaultHeartbeat{1000};
inline constexpr int kDefaultLiveness = 3;

// Names, prefixes and headers with a meaning on the wire, in one place.
using core::kReservedPrefix;
inline constexpr std::string_view kPingService = "strata.ping";
inline constexpr std::string_view kServicesService = "strata.services";
inline constexpr std::string_view kServiceService = "strata.service";
inline constexpr std::string_view kStatsService = "strata.stats";
inline constexpr std::string_view kSubjectsService = "strata.subjects";
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
  kConflict = 8,  // an expectation failed (a compare-and-set saw another revision); nothing changed
};

std::string_view errorCodeName(ErrorCode code);
bool isKnownErrorCode(std::uint16_t code);

}  // namespace strata::codecs
