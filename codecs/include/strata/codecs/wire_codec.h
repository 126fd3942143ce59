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

// Client to broker: hold these patterns for the subscriber session (a random number the
// client keeps for its life, so a subscriber that reconnects finds its queue again).
// Answered by REPLY or ERROR with id.
struct Subscribe {
  core::MessageId id;
  std::uint64_t session = 0;
  std::vector<std::string_view> patterns;
};

// Drops these patterns of the session; none at all ends the session.
struct Unsubscribe {
  core::MessageId id;
  std::uint64_t session = 0;
  std::vector<std::string_view> patterns;
};

struct SequenceRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // first <= last
};

// Broker to publisher: the events of session with these sequence numbers are accepted.
struct Accepted {
  std::uint64_t session = 0;
  std::vector<SequenceRange> ranges;
};

// One event of a PUBLISH or EVENTS batch. id is the publisher's session and sequence
// number (kEventSessionSize); headerBlock the encoded headers (encodeHeaders,
// parseHeaderBlock). publisher is empty in PUBLISH and, in EVENTS, who published it, as
// the broker authenticated them.
struct Event {
  core::MessageId id;
  Caller publisher;
  std::string_view subject;
  std::string_view headerBlock;
  std::string_view body;
};

// Publisher to broker: events in the order published, each answered by ACCEPTED, or by
// ERROR with its id when refused.
struct Publish {
  std::vector<Event> events;
};

// Broker to subscriber: events in the order the broker took them. batch numbers the
// batches of a session from 1; dropped counts every event the broker has dropped for
// the session so far (a running total, so a batch sent twice counts nothing twice).
struct Events {
  std::uint64_t batch = 0;
  std::uint64_t dropped = 0;
  std::vector<Event> events;
};

// Subscriber to broker: every batch of session up to this one has arrived.
struct Received {
  std::uint64_t session = 0;
  std::uint64_t batch = 0;
};

// Several one-frame messages for one peer in one frame, in the order they were sent. The
// decoder checks only how the batch is built (each message's length and header); the
// receiver decodes each message in turn, so one malformed message costs only itself.
struct Batch {
  std::vector<std::string_view> messages;
};

using Message = std::variant<Request, Partial, Reply, Error, Ready, Credit, Heartbeat, Disconnect, Subscribe,
                             Unsubscribe, Publish, Accepted, Events, Received, Batch>;

enum class DecodeError {
  kNone = 0,
  kNoFrames,
  kBadHeader,
  kBadSignature,
  kBadVersion,
  kUnknownCommand,
  kTruncated,     // a field runs past the end of the envelope
  kTrailingBytes,  // bytes after the envelope's last field
  kExtraFrame,    // frames after an envelope that takes none
  kBadFlags,
  kBadId,
  kBadService,
  kBadTimeout,
  kBadCaller,
  kBadHeaders,
  kBadBody,       // an inline body over kMaxInlineBody, or a small one-frame body not inline
  kBadCode,
  kBadText,
  kBadSettings,
  kBadCredit,
  kBadSession,
  kBadSubject,
  kBadPattern,
  kBadRange,
  kBadCount,
  kBadBatch,  // a batched message that runs past the end, has no valid header, or is a batch
};

std::string_view decodeErrorName(DecodeError error);

struct DecodeResult {
  Message message;
  DecodeError error = DecodeError::kNone;
  bool ok() const { return error == DecodeError::kNone; }
};

// frames[0] is the envelope, the rest body frames. Never throws, never reads outside the
// frames; every failure is a DecodeError, and then message holds nothing of use.
DecodeResult decode(Frames frames);
// The same into message, reusing the vectors it already holds when it holds the same
// command: a loop that decodes into one Message allocates nothing once warm.
DecodeError decodeInto(Frames frames, Message& message);

// Reads only the envelope's header, for code that routes on the command alone.
DecodeError peekCommand(std::string_view envelope, Command& command);
// The version byte of an envelope that starts with the signature, or nullopt.
std::optional<std::uint8_t> peekVersion(std::string_view envelope);

// The id of a version-2 REQUEST envelope whose header and id are readable, even when the
// rest is not: so a malformed or oversized request can still be answered by id.
std::optional<core::MessageId> peekRequestId(std::string_view envelope);


// The frames of message: its envelope, then its body frames unless the body is inline.
std::vector<std::string> encode(const Message& message);
// The same into out, reusing the capacity of the strings it holds: a loop that encodes
// into one vector allocates nothing once warm.
void encodeInto(const Message& message, std::vector<std::string>& out);

// A REQUEST's envelope, for code that builds it into its own buffer (the broker writes
// it straight into a ZeroMQ message). envelopeSize says how many bytes writeEnvelope
// writes; inlinesBody whether the body goes inside it, so no body frames follow.
bool inlinesBody(const std::vector<std::string_view>& body);
std::size_t envelopeSize(const Request& request);
void writeEnvelope(const Request& request, char* out);
// Overwrites the timeout of an encoded REQUEST envelope (at least kRequestTimeoutOffset + 4 bytes).
void patchTimeout(char* envelope, std::uint32_t timeoutMs);

// Gathers the one-frame messages a loop sends one peer in one turn; what frame() gives is
// then sent as one message: the message itself when it is alone, else a BATCH.
class BatchWriter {
 public:
  // maxBytes: the most one frame of the sender may carry (a batch never grows past it or
  // kMaxBatchBytes).
  explicit BatchWriter(std::size_t maxBytes = kMaxBatchBytes);
  // Whether a message of size bytes may ever travel in a batch.
  bool takes(std::size_t size) const { return size + kLengthSize + kHeaderSize <= maxBytes_; }
  // Whether it fits beside what is held, for a message that takes() allows; if not, send
  // frame() and clear() first.
  bool fits(std::size_t size) const {
    return count_ < kMaxBatchMessages && buffer_.size() + kLengthSize + size <= maxBytes_;
  }
  void add(std::string_view message);
  std::size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::string_view frame() const;
  void clear();

 private:
  static constexpr std::size_t kLengthSize = 4;
  std::size_t maxBytes_;
  std::string buffer_;  // the BATCH header, then each message as a u32 length and its bytes
  std::size_t count_ = 0;
};

std::string encodeHeaders(const std::vector<Header>& headers);
// The same into out, reusing its capacity.
void encodeHeadersInto(const std::vector<Header>& headers, std::string& out);
// The headers of an encoded block (as Publish and Event carry them) into out.
DecodeError parseHeaderBlock(std::string_view block, std::vector<Header>& out);

// An event id from its publisher's session and sequence number, and back.
core::MessageId eventId(std::uint64_t session, std::uint64_t sequence);
std::uint64_t eventSession(const core::MessageId& id);
std::uint64_t eventSequence(const core::MessageId& id);
// A fresh session number for a publisher or a subscriber: random, never 0.
std::uint64_t newEventSession();

// PUBLISH and EVENTS batches as publishers and brokers build them: each event encoded
// once, as a record; a batch is a header and the records of the events it carries.
inline constexpr std::size_t kEventsHeaderSize = kHeaderSize + 8 + 8 + 4;
inline constexpr std::size_t kPublishHeaderSize = kHeaderSize + 4;
std::size_t eventRecordSize(const Event& event);
void writeEventRecord(const Event& event, char* out);
void writeEventsHeader(std::uint64_t batch, std::uint64_t dropped, std::uint32_t count, char* out);
void writePublishHeader(std::uint32_t count, char* out);
std::string encodeU32(std::uint32_t value);
std::uint32_t readU32(std::string_view four);

// A peer of another protocol version is told so in its own version, where the codec
// knows it (version 1): a REQUEST gets an ERROR `malformed`, anything else a DISCONNECT,
// each naming the version spoken here. nullopt when frames are of no version we can answer.
std::optional<std::vector<std::string>> versionRefusal(Frames frames);

// A version 1 REQUEST, REPLY or ERROR, as durable journals and idempotency stores written
// by version 1 kept them, as the frames of the same message in version 2; nullopt when
// frames are no valid version 1 message of those three.
std::optional<std::vector<std::string>> upgradeVersion1(Frames frames);

// Frames stored as one blob (journal, idempotency store): each frame as a big-endian u32
// length and its bytes. unpackFrames returns nullopt for a torn or truncated blob.
std::string packFrames(const std::vector<std::string>& frames);
std::optional<std::vector<std::string_view>> unpackFrames(std::string_view blob);

}  // namespace strata::codecs
