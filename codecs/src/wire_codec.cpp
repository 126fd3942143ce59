#include <strata/codecs/wire_codec.h>

#include <algorithm>
#include <cstring>

#include <strata/core/subject.h>

namespace strata::codecs {

namespace {

constexpr std::uint32_t kMinHeartbeatMs = 10;
constexpr std::uint32_t kMaxHeartbeatMs = 600'000;
constexpr std::size_t kIdSize = core::MessageId::kSize;
constexpr std::uint8_t kVersion1 = 1;

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

bool isHeaderKeyChar(char c) { return isNameChar(c) || c == ':' || c == '/'; }

bool isValidCallerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCallerName) return false;
  for (char c : name)
    if (!isNameChar(c)) return false;
  return true;
}

std::uint16_t readU16(std::string_view two) {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(two[0]) << 8) | static_cast<std::uint8_t>(two[1]));
}

// Reads an envelope's fields front to back. Every length is compared against what is
// left before anything is taken, never added to a position first (CVE-2019-6250's lesson).
class Reader {
 public:
  explicit Reader(std::string_view envelope) : rest_(envelope.substr(kHeaderSize)) {}

  bool take(std::size_t size, std::string_view& out) {
    if (size > rest_.size()) return false;
    out = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return true;
  }
  bool u8(std::uint8_t& out) {
    std::string_view b;
    if (!take(1, b)) return false;
    out = static_cast<std::uint8_t>(b[0]);
    return true;
  }
  bool u16(std::uint16_t& out) {
    std::string_view b;
    if (!take(2, b)) return false;
    out = readU16(b);
    return true;
  }
  bool u32(std::uint32_t& out) {
    std::string_view b;
    if (!take(4, b)) return false;
    out = readU32(b);
    return true;
  }
  bool u64(std::uint64_t& out) {
    std::uint32_t high = 0;
    std::uint32_t low = 0;
    if (!u32(high) || !u32(low)) return false;
    out = (static_cast<std::uint64_t>(high) << 32) | low;
    return true;
  }
  // A field preceded by its length, as a u8, a u16 or a u32.
  bool mediumField(std::string_view& out) {
    std::uint16_t size = 0;
    return u16(size) && take(size, out);
  }
  bool shortField(std::string_view& out) {
    std::uint8_t size = 0;
    return u8(size) && take(size, out);
  }
  bool longField(std::string_view& out) {
    std::uint32_t size = 0;
    return u32(size) && take(size, out);
  }
  std::string_view rest() {
    std::string_view out = rest_;
    rest_ = {};
    return out;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Appends big-endian integers and length-prefixed fields to a raw buffer; the caller
// has sized it with the matching Size functions.
class Writer {
 public:
  explicit Writer(char* out) : out_(out) {}
  void bytes(std::string_view b) {
    if (!b.empty()) std::memcpy(out_, b.data(), b.size());
    out_ += b.size();
  }
  void u8(std::uint8_t v) { *out_++ = static_cast<char>(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v & 0xFF));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v & 0xFFFF));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v & 0xFFFFFFFFu));
  }
  void shortField(std::string_view b) {
    u8(static_cast<std::uint8_t>(b.size()));
    bytes(b);
  }
  void mediumField(std::string_view b) {
    u16(static_cast<std::uint16_t>(b.size()));
    bytes(b);
  }
  void longField(std::string_view b) {
    u32(static_cast<std::uint32_t>(b.size()));
    bytes(b);
  }
  void caller(const Caller& c) {
    if (c.name.empty()) {
      u8(0);
      return;
    }
    u8(static_cast<std::uint8_t>(1 + c.name.size()));
    u8(c.layer);
    bytes(c.name);
  }
  void header(Command command) {
    u8(kSignature0);
    u8(kSignature1);
    u8(kVersion);
    u8(static_cast<std::uint8_t>(command));
  }
  void headers(const std::vector<Header>& hs) {
    u32(static_cast<std::uint32_t>(headersSize(hs)));
    for (const auto& h : hs) {
      u8(static_cast<std::uint8_t>(h.key.size()));
      bytes(h.key);
      u16(static_cast<std::uint16_t>(h.value.size()));
      bytes(h.value);
    }
  }
  static std::size_t headersSize(const std::vector<Header>& hs) {
    std::size_t size = 0;
    for (const auto& h : hs) size += 1 + h.key.size() + 2 + h.value.size();
    return size;
  }

 private:
  char* out_;
};

DecodeError decodeId(Reader& in, core::MessageId& id) {
  std::string_view bytes;
  if (!in.take(kIdSize, bytes)) return DecodeError::kTruncated;
  auto parsed = core::MessageId::fromBytes(bytes);
  if (!parsed || parsed->isZero()) return DecodeError::kBadId;
  id = *parsed;
  return DecodeError::kNone;
}

// A headers block: repeated [u8 key length >= 1][key][u16 BE value length][value].
// onHeader(key, value) sees each header in turn.
template <typename OnHeader>
DecodeError walkHeaderBlock(std::string_view block, OnHeader&& onHeader) {
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t keyLength = static_cast<std::uint8_t>(block[pos]);
    ++pos;
    if (keyLength == 0 || keyLength > block.size() - pos) return DecodeError::kBadHeaders;
    std::string_view key = block.substr(pos, keyLength);
    for (char c : key)
      if (!isHeaderKeyChar(c)) return DecodeError::kBadHeaders;
    pos += keyLength;
    if (block.size() - pos < 2) return DecodeError::kBadHeaders;
    std::size_t valueLength = readU16(block.substr(pos, 2));
    pos += 2;
    if (valueLength > block.size() - pos) return DecodeError::kBadHeaders;
    onHeader(key, block.substr(pos, valueLength));
    pos += valueLength;
  }
  return DecodeError::kNone;
}

DecodeError decodeHeaderBlock(std::string_view block, std::vector<Header>& out) {
  out.clear();
  return walkHeaderBlock(block, [&](std::string_view key, std::string_view value) { out.push_back({key, value}); });
}

// The headers field: its u32 size, then that many bytes.
DecodeError takeHeaderBlock(Reader& in, std::string_view& block) {
  std::uint32_t size = 0;
  if (!in.u32(size)) return DecodeError::kTruncated;
  if (size > kMaxHeadersSize) return DecodeError::kBadHeaders;
  if (!in.take(size, block)) return DecodeError::kTruncated;
  return DecodeError::kNone;
}

// A headers block kept as it is (PUBLISH, EVENTS), checked but not taken apart.
DecodeError decodeHeaderField(Reader& in, std::string_view& block) {
  if (auto error = takeHeaderBlock(in, block); error != DecodeError::kNone) return error;
  return walkHeaderBlock(block, [](std::string_view, std::string_view) {});
}

DecodeError decodeHeaders(Reader& in, std::vector<Header>& out) {
  std::string_view block;
  if (auto error = takeHeaderBlock(in, block); error != DecodeError::kNone) return error;
  return decodeHeaderBlock(block, out);
}

DecodeError decodeFlags(Reader& in, std::uint8_t& flags) {
  if (!in.u8(flags)) return DecodeError::kTruncated;
  return (flags & ~kFlagInlineBody) == 0 ? DecodeError::kNone : DecodeError::kBadFlags;
}

// The body: inline (the envelope's rest) or the frames after the envelope, never both,
// and in the one encoding the encoder would choose.
DecodeError decodeBody(Reader& in, std::uint8_t flags, Frames frames, std::vector<std::string_view>& body) {
  body.clear();
  if (flags & kFlagInlineBody) {
    if (frames.size() > 1) return DecodeError::kExtraFrame;
    std::string_view inlined = in.rest();
    if (inlined.size() > kMaxInlineBody) return DecodeError::kBadBody;
    body.push_back(inlined);
    return DecodeError::kNone;
  }
  if (!in.empty()) return DecodeError::kTrailingBytes;
  body.assign(frames.begin() + 1, frames.end());
  if (inlinesBody(body)) return DecodeError::kBadBody;
  return DecodeError::kNone;
}

DecodeError callerFrom(std::string_view field, Caller& caller) {
  caller = Caller{};
  if (field.empty()) return DecodeError::kNone;
  auto layer = static_cast<std::uint8_t>(field[0]);
  if (layer > 4 || !isValidCallerName(field.substr(1))) return DecodeError::kBadCaller;
  caller = Caller{layer, field.substr(1)};
  return DecodeError::kNone;
}

DecodeError decodeCaller(Reader& in, Caller& caller) {
  std::string_view field;
  if (!in.shortField(field)) return DecodeError::kTruncated;
  return callerFrom(field, caller);
}

DecodeError decodeRequest(Reader& in, Frames frames, Request& r) {
  std::uint8_t flags = 0;
  if (auto e = decodeFlags(in, flags); e != DecodeError::kNone) return e;
  if (auto e = decodeId(in, r.id); e != DecodeError::kNone) return e;
  if (!in.u32(r.timeoutMs)) return DecodeError::kTruncated;
  if (r.timeoutMs == 0 || r.timeoutMs > kMaxTimeoutMs) return DecodeError::kBadTimeout;
  if (auto e = decodeCaller(in, r.caller); e != DecodeError::kNone) return e;
  if (!in.shortField(r.service)) return DecodeError::kTruncated;
  if (!core::isServiceName(r.service)) return DecodeError::kBadService;
  if (auto e = decodeHeaders(in, r.headers); e != DecodeError::kNone) return e;
  return decodeBody(in, flags, frames, r.body);
}

template <typename T>
DecodeError decodeReplyLike(Reader& in, Frames frames, T& r) {
  std::uint8_t flags = 0;
  if (auto e = decodeFlags(in, flags); e != DecodeError::kNone) return e;
  if (auto e = decodeId(in, r.id); e != DecodeError::kNone) return e;
  if (auto e = decodeHeaders(in, r.headers); e != DecodeError::kNone) return e;
  return decodeBody(in, flags, frames, r.body);
}

DecodeError decodeError(Reader& in, Error& r) {
  if (auto e = decodeId(in, r.id); e != DecodeError::kNone) return e;
  std::uint16_t code = 0;
  if (!in.u16(code)) return DecodeError::kTruncated;
  if (!isKnownErrorCode(code)) return DecodeError::kBadCode;
  r.code = static_cast<ErrorCode>(code);
  r.text = in.rest();
  return r.text.size() > kMaxErrorText ? DecodeError::kBadText : DecodeError::kNone;
}

DecodeError decodeReady(Reader& in, Ready& r) {
  if (!in.u32(r.credit) || !in.u32(r.heartbeatMs)) return DecodeError::kTruncated;
  if (r.credit == 0 || r.credit > kMaxCredit) return DecodeError::kBadSettings;
  if (r.heartbeatMs < kMinHeartbeatMs || r.heartbeatMs > kMaxHeartbeatMs) return DecodeError::kBadSettings;
  r.services.clear();
  while (!in.empty()) {
    if (r.services.size() == kMaxServicesPerReady) return DecodeError::kTrailingBytes;
    std::string_view name;
    if (!in.shortField(name)) return DecodeError::kTruncated;
    if (!core::isServiceName(name)) return DecodeError::kBadService;
    r.services.push_back(name);
  }
  return r.services.empty() ? DecodeError::kTruncated : DecodeError::kNone;
}

DecodeError decodeCredit(Reader& in, Credit& r) {
  if (!in.u32(r.credit)) return DecodeError::kTruncated;
  if (r.credit == 0 || r.credit > kMaxCredit) return DecodeError::kBadCredit;
  return in.empty() ? DecodeError::kNone : DecodeError::kTrailingBytes;
}

DecodeError decodeDisconnect(Reader& in, Disconnect& r) {
  r.reason = in.rest();
  return r.reason.size() > kMaxErrorText ? DecodeError::kBadText : DecodeError::kNone;
}

DecodeError decodeSession(Reader& in, std::uint64_t& session) {
  if (!in.u64(session)) return DecodeError::kTruncated;
  return session == 0 ? DecodeError::kBadSession : DecodeError::kNone;
}

DecodeError decodeEventId(Reader& in, core::MessageId& id) {
  if (auto e = decodeId(in, id); e != DecodeError::kNone) return e;
  return eventSession(id) == 0 || eventSequence(id) == 0 ? DecodeError::kBadId : DecodeError::kNone;
}

// SUBSCRIBE and UNSUBSCRIBE: id, session, then patterns, each a u16 length and its bytes.
template <typename T>
DecodeError decodeSubscription(Reader& in, T& r, bool mayBeEmpty) {
  if (auto e = decodeId(in, r.id); e != DecodeError::kNone) return e;
  if (auto e = decodeSession(in, r.session); e != DecodeError::kNone) return e;
  r.patterns.clear();
  while (!in.empty()) {
    if (r.patterns.size() == kMaxPatternsPerMessage) return DecodeError::kBadCount;
    std::string_view pattern;
    if (!in.mediumField(pattern)) return DecodeError::kTruncated;
    if (!core::isValidPattern(pattern)) return DecodeError::kBadPattern;
    r.patterns.push_back(pattern);
  }
  return r.patterns.empty() && !mayBeEmpty ? DecodeError::kBadCount : DecodeError::kNone;
}

// count, then that many event records; in a PUBLISH the publisher field is empty (the
// broker fills it in), in EVENTS it never is.
DecodeError decodeEventRecords(Reader& in, std::vector<Event>& events, bool relayed) {
  std::uint32_t count = 0;
  if (!in.u32(count)) return DecodeError::kTruncated;
  if (count == 0 || count > kMaxEventsPerBatch) return DecodeError::kBadCount;
  events.clear();
  // A batch mostly holds runs of one publisher and one subject: a field equal to the one
  // just checked is the same valid field, and is not scanned again.
  std::string_view checkedCaller;
  std::string_view checkedSubject;
  for (std::uint32_t i = 0; i < count; ++i) {
    Event& event = events.emplace_back();
    if (auto e = decodeEventId(in, event.id); e != DecodeError::kNone) return e;
    std::string_view caller;
    if (!in.shortField(caller)) return DecodeError::kTruncated;
    if (i == 0 || caller != checkedCaller) {
      if (auto e = callerFrom(caller, event.publisher); e != DecodeError::kNone) return e;
      checkedCaller = caller;
    } else {
      event.publisher = events[i - 1].publisher;
    }
    if (event.publisher.name.empty() == relayed) return DecodeError::kBadCaller;
    if (!in.mediumField(event.subject)) return DecodeError::kTruncated;
    if (i == 0 || event.subject != checkedSubject) {
      if (!core::isValidSubject(event.subject)) return DecodeError::kBadSubject;
      checkedSubject = event.subject;
    }
    if (auto e = decodeHeaderField(in, event.headerBlock); e != DecodeError::kNone) return e;
    if (!in.longField(event.body)) return DecodeError::kTruncated;
  }
  return in.empty() ? DecodeError::kNone : DecodeError::kTrailingBytes;
}

DecodeError decodePublish(Reader& in, Publish& r) { return decodeEventRecords(in, r.events, false); }

DecodeError decodeAccepted(Reader& in, Accepted& r) {
  if (auto e = decodeSession(in, r.session); e != DecodeError::kNone) return e;
  r.ranges.clear();
  while (!in.empty()) {
    if (r.ranges.size() == kMaxAcceptedRanges) return DecodeError::kBadCount;
    SequenceRange range;
    if (!in.u64(range.first) || !in.u64(range.last)) return DecodeError::kTruncated;
    if (range.first == 0 || range.first > range.last) return DecodeError::kBadRange;
    r.ranges.push_back(range);
  }
  return r.ranges.empty() ? DecodeError::kBadCount : DecodeError::kNone;
}

DecodeError decodeEvents(Reader& in, Events& r) {
  if (!in.u64(r.batch) || !in.u64(r.dropped)) return DecodeError::kTruncated;
  if (r.batch == 0) return DecodeError::kBadRange;
  return decodeEventRecords(in, r.events, true);
}

DecodeError decodeReceived(Reader& in, Received& r) {
  if (auto e = decodeSession(in, r.session); e != DecodeError::kNone) return e;
  if (!in.u64(r.batch)) return DecodeError::kTruncated;
  if (r.batch == 0) return DecodeError::kBadRange;
  return in.empty() ? DecodeError::kNone : DecodeError::kTrailingBytes;
}

// Each message a u32 length and a one-frame version-2 message that is not a batch. Only
// the header is read here: the receiver decodes each message on its own.
DecodeError decodeBatch(Reader& in, Batch& r) {
  r.messages.clear();
  while (!in.empty()) {
    if (r.messages.size() == kMaxBatchMessages) return DecodeError::kBadCount;
    std::string_view message;
    if (!in.longField(message)) return DecodeError::kTruncated;
    Command command{};
    if (peekCommand(message, command) != DecodeError::kNone || command == Command::kBatch) {
      return DecodeError::kBadBatch;
    }
    r.messages.push_back(message);
  }
  // One message goes as itself, never as a batch of one: one encoding per message.
  return r.messages.size() < 2 ? DecodeError::kBadCount : DecodeError::kNone;
}

// The alternative T of message, reusing it (and the capacity of its vectors) when
// message already holds a T.
template <typename T>
T& reuse(Message& message) {
  if (auto* held = std::get_if<T>(&message)) return *held;
  return message.emplace<T>();
}

std::size_t replyLikeSize(const std::vector<Header>& headers, const std::vector<std::string_view>& body) {
  std::size_t size = kHeaderSize + 1 + kIdSize + 4 + Writer::headersSize(headers);
  if (inlinesBody(body)) size += body.front().size();
  return size;
}

// The body frames that follow an envelope, into out[1...], reusing out's strings.
void assignBodyFrames(const std::vector<std::string_view>& body, std::vector<std::string>& out) {
  if (inlinesBody(body)) {
    out.resize(1);
    return;
  }
  out.resize(1 + body.size());
  for (std::size_t i = 0; i < body.size(); ++i) out[1 + i].assign(body[i]);
}

template <typename T>
void encodeReplyLikeInto(Command command, const T& r, std::vector<std::string>& out) {
  out.resize(1);
  out[0].resize(replyLikeSize(r.headers, r.body));
  Writer w(out[0].data());
  bool inlined = inlinesBody(r.body);
  w.header(command);
  w.u8(inlined ? kFlagInlineBody : 0);
  w.bytes(r.id.bytes());
  w.headers(r.headers);
  if (inlined) w.bytes(r.body.front());
  assignBodyFrames(r.body, out);
}


std::string envelopeOf(Command command, std::size_t fieldsSize) {
  std::string out(kHeaderSize + fieldsSize, '\0');
  Writer(out.data()).header(command);
  return out;
}

}  // namespace

std::string_view decodeErrorName(DecodeError error) {
  switch (error) {
    case DecodeError::kNone: return "none";
    case DecodeError::kNoFrames: return "no frames";
    case DecodeError::kBadHeader: return "bad header";
    case DecodeError::kBadSignature: return "bad signature";
    case DecodeError::kBadVersion: return "unsupported protocol version";
    case DecodeError::kUnknownCommand: return "unknown command";
    case DecodeError::kTruncated: return "truncated envelope";
    case DecodeError::kTrailingBytes: return "bytes after the envelope's last field";
    case DecodeError::kExtraFrame: return "extra frame";
    case DecodeError::kBadFlags: return "bad flags";
    case DecodeError::kBadId: return "bad id";
    case DecodeError::kBadService: return "bad service name";
    case DecodeError::kBadTimeout: return "bad timeout";
    case DecodeError::kBadCaller: return "bad caller";
    case DecodeError::kBadHeaders: return "bad headers";
    case DecodeError::kBadBody: return "body in the wrong form (inline or frames)";
    case DecodeError::kBadCode: return "bad error code";
    case DecodeError::kBadText: return "bad text";
    case DecodeError::kBadSettings: return "bad worker settings";
    case DecodeError::kBadCredit: return "bad credit";
    case DecodeError::kBadSession: return "bad session";
    case DecodeError::kBadSubject: return "bad subject";
    case DecodeError::kBadPattern: return "bad subject pattern";
    case DecodeError::kBadRange: return "bad sequence range";
    case DecodeError::kBadCount: return "bad count";
    case DecodeError::kBadBatch: return "bad batched message";
  }
  return "unknown";
}

std::uint32_t readU32(std::string_view four) {
  return (static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[0])) << 24) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[2])) << 8) |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[3]));
}

std::optional<std::uint8_t> peekVersion(std::string_view envelope) {
  if (envelope.size() < kHeaderSize) return std::nullopt;
  if (static_cast<std::uint8_t>(envelope[0]) != kSignature0 || static_cast<std::uint8_t>(envelope[1]) != kSignature1) {
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(envelope[2]);
}

DecodeError peekCommand(std::string_view envelope, Command& command) {
  if (envelope.size() < kHeaderSize) return DecodeError::kBadHeader;
  auto version = peekVersion(envelope);
  if (!version) return DecodeError::kBadSignature;
  if (*version != kVersion) return DecodeError::kBadVersion;
  if (!findCommand(static_cast<std::uint8_t>(envelope[3]))) return DecodeError::kUnknownCommand;
  command = static_cast<Command>(envelope[3]);
  return DecodeError::kNone;
}

std::optional<core::MessageId> peekRequestId(std::string_view envelope) {
  Command command{};
  if (peekCommand(envelope, command) != DecodeError::kNone || command != Command::kRequest) return std::nullopt;
  if (envelope.size() < kRequestIdOffset + kIdSize) return std::nullopt;
  auto id = core::MessageId::fromBytes(envelope.substr(kRequestIdOffset, kIdSize));
  if (!id || id->isZero()) return std::nullopt;
  return id;
}

DecodeError decodeInto(Frames frames, Message& message) {
  if (frames.empty()) return DecodeError::kNoFrames;
  Command command{};
  if (auto e = peekCommand(frames[0], command); e != DecodeError::kNone) return e;
  if (frames.size() > findCommand(static_cast<std::uint8_t>(command))->maxFrames) return DecodeError::kExtraFrame;
  Reader in(frames[0]);
  switch (command) {
    case Command::kRequest: return decodeRequest(in, frames, reuse<Request>(message));
    case Command::kPartial: return decodeReplyLike(in, frames, reuse<Partial>(message));
    case Command::kReply: return decodeReplyLike(in, frames, reuse<Reply>(message));
    case Command::kError: return decodeError(in, reuse<Error>(message));
    case Command::kReady: return decodeReady(in, reuse<Ready>(message));
    case Command::kCredit: return decodeCredit(in, reuse<Credit>(message));
    case Command::kHeartbeat:
      reuse<Heartbeat>(message);
      return in.empty() ? DecodeError::kNone : DecodeError::kTrailingBytes;
    case Command::kDisconnect: return decodeDisconnect(in, reuse<Disconnect>(message));
    case Command::kSubscribe: return decodeSubscription(in, reuse<Subscribe>(message), false);
    case Command::kUnsubscribe: return decodeSubscription(in, reuse<Unsubscribe>(message), true);
    case Command::kPublish: return decodePublish(in, reuse<Publish>(message));
    case Command::kAccepted: return decodeAccepted(in, reuse<Accepted>(message));
    case Command::kEvents: return decodeEvents(in, reuse<Events>(message));
    case Command::kReceived: return decodeReceived(in, reuse<Received>(message));
    case Command::kBatch: return decodeBatch(in, reuse<Batch>(message));
  }
  return DecodeError::kUnknownCommand;
}

DecodeResult decode(Frames frames) {
  DecodeResult result;
  result.error = decodeInto(frames, result.message);
  return result;
}

bool inlinesBody(const std::vector<std::string_view>& body) {
  return body.size() == 1 && body.front().size() <= kMaxInlineBody;
}

std::size_t envelopeSize(const Request& r) {
  std::size_t caller = r.caller.name.empty() ? 0 : 1 + r.caller.name.size();
  std::size_t size = kHeaderSize + 1 + kIdSize + 4 + 1 + caller + 1 + r.service.size() + 4 +
                     Writer::headersSize(r.headers);
  if (inlinesBody(r.body)) size += r.body.front().size();
  return size;
}

void writeEnvelope(const Request& r, char* out) {
  Writer w(out);
  bool inlined = inlinesBody(r.body);
  w.header(Command::kRequest);
  w.u8(inlined ? kFlagInlineBody : 0);
  w.bytes(r.id.bytes());
  w.u32(r.timeoutMs);
  w.caller(r.caller);
  w.shortField(r.service);
  w.headers(r.headers);
  if (inlined) w.bytes(r.body.front());
}

void patchTimeout(char* envelope, std::uint32_t timeoutMs) {
  Writer(envelope + kRequestTimeoutOffset).u32(timeoutMs);
}

std::string encodeU32(std::uint32_t value) {
  std::string out(4, '\0');
  Writer(out.data()).u32(value);
  return out;
}

void encodeHeadersInto(const std::vector<Header>& headers, std::string& out) {
  out.resize(Writer::headersSize(headers));
  char* at = out.data();
  for (const auto& h : headers) {
    Writer w(at);
    w.shortField(h.key);
    w.mediumField(h.value);
    at += 1 + h.key.size() + 2 + h.value.size();
  }
}

std::string encodeHeaders(const std::vector<Header>& headers) {
  std::string out;
  encodeHeadersInto(headers, out);
  return out;
}

DecodeError parseHeaderBlock(std::string_view block, std::vector<Header>& out) {
  if (block.size() > kMaxHeadersSize) return DecodeError::kBadHeaders;
  return decodeHeaderBlock(block, out);
}

core::MessageId eventId(std::uint64_t session, std::uint64_t sequence) {
  std::array<std::uint8_t, kIdSize> bytes{};
  Writer w(reinterpret_cast<char*>(bytes.data()));
  w.u64(session);
  w.u64(sequence);
  return core::MessageId(bytes);
}

namespace {

std::uint64_t readU64(std::string_view eight) {
  return (static_cast<std::uint64_t>(readU32(eight.substr(0, 4))) << 32) | readU32(eight.substr(4, 4));
}

std::size_t callerSize(const Caller& c) { return 1 + (c.name.empty() ? 0 : 1 + c.name.size()); }

}  // namespace

std::uint64_t eventSession(const core::MessageId& id) { return readU64(id.bytes().substr(0, kEventSessionSize)); }

std::uint64_t newEventSession() {
  std::uint64_t session = 0;
  while (session == 0) session = core::randomWord();
  return session;
}

std::uint64_t eventSequence(const core::MessageId& id) { return readU64(id.bytes().substr(kEventSessionSize)); }

std::size_t eventRecordSize(const Event& e) {
  return kIdSize + callerSize(e.publisher) + 2 + e.subject.size() + 4 + e.headerBlock.size() + 4 + e.body.size();
}

void writeEventRecord(const Event& e, char* out) {
  Writer w(out);
  w.bytes(e.id.bytes());
  w.caller(e.publisher);
  w.mediumField(e.subject);
  w.longField(e.headerBlock);
  w.longField(e.body);
}

BatchWriter::BatchWriter(std::size_t maxBytes) : maxBytes_(std::min(maxBytes, kMaxBatchBytes)) {}

void BatchWriter::add(std::string_view message) {
  if (count_ == 0) {
    buffer_.resize(kHeaderSize);
    Writer(buffer_.data()).header(Command::kBatch);
  }
  std::size_t at = buffer_.size();
  buffer_.resize(at + kLengthSize + message.size());
  Writer(buffer_.data() + at).longField(message);
  ++count_;
}

std::string_view BatchWriter::frame() const {
  std::string_view all = buffer_;
  if (count_ == 1) return all.substr(kHeaderSize + kLengthSize);
  return all;
}

void BatchWriter::clear() {
  buffer_.clear();
  count_ = 0;
}

void writePublishHeader(std::uint32_t count, char* out) {
  Writer w(out);
  w.header(Command::kPublish);
  w.u32(count);
}

void writeEventsHeader(std::uint64_t batch, std::uint64_t dropped, std::uint32_t count, char* out) {
  Writer w(out);
  w.header(Command::kEvents);
  w.u64(batch);
  w.u64(dropped);
  w.u32(count);
}

namespace {

// The one frame of a command without body frames: all but REQUEST, PARTIAL and REPLY.
struct SingleFrameEncoder {
  std::string operator()(const Error& r) const {
    std::string out = envelopeOf(Command::kError, kIdSize + 2 + r.text.size());
    Writer w(out.data() + kHeaderSize);
    w.bytes(r.id.bytes());
    w.u16(static_cast<std::uint16_t>(r.code));
    w.bytes(r.text);
    return out;
  }
  std::string operator()(const Ready& r) const {
    std::size_t names = 0;
    for (auto s : r.services) names += 1 + s.size();
    std::string out = envelopeOf(Command::kReady, 8 + names);
    Writer w(out.data() + kHeaderSize);
    w.u32(r.credit);
    w.u32(r.heartbeatMs);
    for (auto s : r.services) {
      w.u8(static_cast<std::uint8_t>(s.size()));
      w.bytes(s);
    }
    return out;
  }
  std::string operator()(const Credit& r) const {
    std::string out = envelopeOf(Command::kCredit, 4);
    Writer(out.data() + kHeaderSize).u32(r.credit);
    return out;
  }
  std::string operator()(const Heartbeat&) const { return envelopeOf(Command::kHeartbeat, 0); }
  std::string operator()(const Disconnect& r) const {
    std::string out = envelopeOf(Command::kDisconnect, r.reason.size());
    Writer(out.data() + kHeaderSize).bytes(r.reason);
    return out;
  }
  std::string operator()(const Subscribe& r) const { return subscription(Command::kSubscribe, r); }
  std::string operator()(const Unsubscribe& r) const { return subscription(Command::kUnsubscribe, r); }
  std::string operator()(const Publish& r) const {
    std::string out(kPublishHeaderSize + recordsSize(r.events), '\0');
    writePublishHeader(static_cast<std::uint32_t>(r.events.size()), out.data());
    writeRecords(r.events, out.data() + kPublishHeaderSize);
    return out;
  }
  std::string operator()(const Accepted& r) const {
    std::string out = envelopeOf(Command::kAccepted, 8 + 16 * r.ranges.size());
    Writer w(out.data() + kHeaderSize);
    w.u64(r.session);
    for (const auto& range : r.ranges) {
      w.u64(range.first);
      w.u64(range.last);
    }
    return out;
  }
  std::string operator()(const Events& r) const {
    std::string out(kEventsHeaderSize + recordsSize(r.events), '\0');
    writeEventsHeader(r.batch, r.dropped, static_cast<std::uint32_t>(r.events.size()), out.data());
    writeRecords(r.events, out.data() + kEventsHeaderSize);
    return out;
  }
  static std::size_t recordsSize(const std::vector<Event>& events) {
    std::size_t size = 0;
    for (const auto& e : events) size += eventRecordSize(e);
    return size;
  }
  static void writeRecords(const std::vector<Event>& events, char* at) {
    for (const auto& e : events) {
      writeEventRecord(e, at);
      at += eventRecordSize(e);
    }
  }
  std::string operator()(const Received& r) const {
    std::string out = envelopeOf(Command::kReceived, 16);
    Writer w(out.data() + kHeaderSize);
    w.u64(r.session);
    w.u64(r.batch);
    return out;
  }
  std::string operator()(const Batch& r) const {
    std::size_t size = 0;
    for (auto m : r.messages) size += 4 + m.size();
    std::string out = envelopeOf(Command::kBatch, size);
    Writer w(out.data() + kHeaderSize);
    for (auto m : r.messages) w.longField(m);
    return out;
  }
  template <typename T>
  static std::string subscription(Command command, const T& r) {
    std::size_t size = kIdSize + 8;
    for (auto p : r.patterns) size += 2 + p.size();
    std::string out = envelopeOf(command, size);
    Writer w(out.data() + kHeaderSize);
    w.bytes(r.id.bytes());
    w.u64(r.session);
    for (auto p : r.patterns) w.mediumField(p);
    return out;
  }
  // Commands with a body are encoded by encodeInto itself.
  std::string operator()(const Request&) const { return {}; }
  std::string operator()(const Partial&) const { return {}; }
  std::string operator()(const Reply&) const { return {}; }
};

}  // namespace

void encodeInto(const Message& message, std::vector<std::string>& out) {
  if (const auto* r = std::get_if<Request>(&message)) {
    out.resize(1);
    out[0].resize(envelopeSize(*r));
    writeEnvelope(*r, out[0].data());
    assignBodyFrames(r->body, out);
  } else if (const auto* reply = std::get_if<Reply>(&message)) {
    encodeReplyLikeInto(Command::kReply, *reply, out);
  } else if (const auto* partial = std::get_if<Partial>(&message)) {
    encodeReplyLikeInto(Command::kPartial, *partial, out);
  } else {
    out.resize(1);
    out[0] = std::visit(SingleFrameEncoder{}, message);
  }
}

std::vector<std::string> encode(const Message& message) {
  std::vector<std::string> out;
  encodeInto(message, out);
  return out;
}

// Version 1 put every field in a frame of its own after a 4-byte header frame:
// REQUEST was [header][id][service][timeout u32][caller][headers block][body]*, ERROR
// [header][id][code u16][text], DISCONNECT [header][reason].
namespace {

std::string version1Header(Command command) {
  return std::string{static_cast<char>(kSignature0), static_cast<char>(kSignature1), static_cast<char>(kVersion1),
                     static_cast<char>(command)};
}

constexpr std::size_t kV1RequestFrames = 6;  // header to headers; body frames follow
// REPLY was [header][id][headers block][body]*.

}  // namespace

std::optional<std::vector<std::string>> versionRefusal(Frames frames) {
  if (frames.empty() || frames[0].size() != kHeaderSize || peekVersion(frames[0]) != kVersion1) return std::nullopt;
  const std::string text = "this peer speaks Strata protocol version 1; this server speaks version " +
                           std::to_string(kVersion) + " only: upgrade the peer";
  if (static_cast<Command>(frames[0][3]) == Command::kRequest && frames.size() > 1) {
    auto id = core::MessageId::fromBytes(frames[1]);
    if (id && !id->isZero()) {
      std::string code(2, '\0');
      code[1] = static_cast<char>(ErrorCode::kMalformed);
      return std::vector<std::string>{version1Header(Command::kError), std::string(id->bytes()), code, text};
    }
  }
  return std::vector<std::string>{version1Header(Command::kDisconnect), text};
}

std::optional<std::vector<std::string>> upgradeVersion1(Frames frames) {
  if (frames.size() < 2 || frames[0].size() != kHeaderSize || peekVersion(frames[0]) != kVersion1) return std::nullopt;
  auto id = core::MessageId::fromBytes(frames[1]);
  if (!id || id->isZero()) return std::nullopt;
  auto command = static_cast<Command>(frames[0][3]);
  if (command == Command::kRequest && frames.size() >= kV1RequestFrames) {
    Request r;
    r.id = *id;
    r.service = frames[2];
    if (!core::isServiceName(r.service) || frames[3].size() != 4) return std::nullopt;
    r.timeoutMs = readU32(frames[3]);
    if (r.timeoutMs == 0 || r.timeoutMs > kMaxTimeoutMs) return std::nullopt;
    if (!frames[4].empty()) {
      auto layer = static_cast<std::uint8_t>(frames[4][0]);
      if (layer > 4 || !isValidCallerName(frames[4].substr(1))) return std::nullopt;
      r.caller = Caller{layer, frames[4].substr(1)};
    }
    if (frames[5].size() > kMaxHeadersSize || decodeHeaderBlock(frames[5], r.headers) != DecodeError::kNone) {
      return std::nullopt;
    }
    r.body.assign(frames.begin() + kV1RequestFrames, frames.end());
    return encode(r);
  }
  if (command == Command::kReply && frames.size() >= 3) {
    Reply r;
    r.id = *id;
    if (frames[2].size() > kMaxHeadersSize || decodeHeaderBlock(frames[2], r.headers) != DecodeError::kNone) {
      return std::nullopt;
    }
    r.body.assign(frames.begin() + 3, frames.end());
    return encode(r);
  }
  if (command == Command::kError && frames.size() == 4 && frames[2].size() == 2 && isKnownErrorCode(readU16(frames[2])) &&
      frames[3].size() <= kMaxErrorText) {
    return encode(Error{*id, static_cast<ErrorCode>(readU16(frames[2])), frames[3]});
  }
  return std::nullopt;
}

std::string packFrames(const std::vector<std::string>& frames) {
  std::size_t size = 0;
  for (const auto& f : frames) size += 4 + f.size();
  std::string out;
  out.reserve(size);
  for (const auto& f : frames) out += encodeU32(static_cast<std::uint32_t>(f.size())) + f;
  return out;
}

std::optional<std::vector<std::string_view>> unpackFrames(std::string_view blob) {
  std::vector<std::string_view> frames;
  while (!blob.empty()) {
    if (blob.size() < 4) return std::nullopt;
    std::size_t size = readU32(blob.substr(0, 4));
    blob.remove_prefix(4);
    if (size > blob.size()) return std::nullopt;
    frames.push_back(blob.substr(0, size));
    blob.remove_prefix(size);
  }
  return frames;
}

}  // namespace strata::codecs
