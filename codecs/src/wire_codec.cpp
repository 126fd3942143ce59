#include <strata/codecs/wire_codec.h>

namespace strata::codecs {

namespace {

constexpr std::uint32_t kMinHeartbeatMs = 10;
constexpr std::uint32_t kMaxHeartbeatMs = 600'000;
constexpr std::size_t kSettingsSize = 8;
constexpr std::size_t kCodeSize = 2;
constexpr std::size_t kU32Size = 4;

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

void appendU16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xFF));
}

DecodeError decodeId(std::string_view frame, core::MessageId& id) {
  auto parsed = core::MessageId::fromBytes(frame);
  if (!parsed || parsed->isZero()) return DecodeError::kBadId;
  id = *parsed;
  return DecodeError::kNone;
}

// Headers frame: repeated [u8 key length >= 1][key][u16 BE value length][value].
// Lengths are compared against what is left, never added to a pointer first.
DecodeError decodeHeaders(std::string_view frame, std::vector<Header>& out) {
  if (frame.size() > kMaxHeadersFrame) return DecodeError::kBadHeaders;
  std::size_t pos = 0;
  while (pos < frame.size()) {
    std::size_t keyLength = static_cast<std::uint8_t>(frame[pos]);
    ++pos;
    if (keyLength == 0 || keyLength > frame.size() - pos) return DecodeError::kBadHeaders;
    std::string_view key = frame.substr(pos, keyLength);
    for (char c : key)
      if (!isHeaderKeyChar(c)) return DecodeError::kBadHeaders;
    pos += keyLength;
    if (frame.size() - pos < 2) return DecodeError::kBadHeaders;
    std::size_t valueLength = readU16(frame.substr(pos, 2));
    pos += 2;
    if (valueLength > frame.size() - pos) return DecodeError::kBadHeaders;
    out.push_back({key, frame.substr(pos, valueLength)});
    pos += valueLength;
  }
  return DecodeError::kNone;
}

DecodeError decodeCaller(std::string_view frame, Caller& caller) {
  if (frame.empty()) return DecodeError::kNone;
  auto layer = static_cast<std::uint8_t>(frame[0]);
  if (layer > 4 || !isValidCallerName(frame.substr(1))) return DecodeError::kBadCaller;
  caller = Caller{layer, frame.substr(1)};
  return DecodeError::kNone;
}

DecodeError decodeRequest(Frames f, Request& r) {
  if (auto e = decodeId(f[kRequestIdFrame], r.id); e != DecodeError::kNone) return e;
  if (!isValidServiceName(f[kRequestServiceFrame])) return DecodeError::kBadService;
  r.service = f[kRequestServiceFrame];
  if (f[kRequestTimeoutFrame].size() != kU32Size) return DecodeError::kBadTimeout;
  r.timeoutMs = readU32(f[kRequestTimeoutFrame]);
  if (r.timeoutMs == 0 || r.timeoutMs > kMaxTimeoutMs) return DecodeError::kBadTimeout;
  if (auto e = decodeCaller(f[kRequestCallerFrame], r.caller); e != DecodeError::kNone) return e;
  if (auto e = decodeHeaders(f[kRequestHeadersFrame], r.headers); e != DecodeError::kNone) return e;
  r.body.assign(f.begin() + kRequestBodyFrame, f.end());
  return DecodeError::kNone;
}

template <typename T>
DecodeError decodeReplyLike(Frames f, T& r) {
  if (auto e = decodeId(f[1], r.id); e != DecodeError::kNone) return e;
  if (auto e = decodeHeaders(f[2], r.headers); e != DecodeError::kNone) return e;
  r.body.assign(f.begin() + kReplyBodyFrame, f.end());
  return DecodeError::kNone;
}

DecodeError decodeError(Frames f, Error& r) {
  if (auto e = decodeId(f[1], r.id); e != DecodeError::kNone) return e;
  if (f[2].size() != kCodeSize || !isKnownErrorCode(readU16(f[2]))) return DecodeError::kBadCode;
  r.code = static_cast<ErrorCode>(readU16(f[2]));
  if (f[3].size() > kMaxErrorText) return DecodeError::kBadText;
  r.text = f[3];
  return DecodeError::kNone;
}

DecodeError decodeReady(Frames f, Ready& r) {
  if (f[1].size() != kSettingsSize) return DecodeError::kBadSettings;
  r.credit = readU32(f[1].substr(0, 4));
  r.heartbeatMs = readU32(f[1].substr(4, 4));
  if (r.credit == 0 || r.credit > kMaxCredit) return DecodeError::kBadSettings;
  if (r.heartbeatMs < kMinHeartbeatMs || r.heartbeatMs > kMaxHeartbeatMs) return DecodeError::kBadSettings;
  for (std::size_t i = 2; i < f.size(); ++i) {
    if (!isValidServiceName(f[i])) return DecodeError::kBadService;
    r.services.push_back(f[i]);
  }
  return DecodeError::kNone;
}

DecodeError decodeCredit(Frames f, Credit& r) {
  if (f[1].size() != kU32Size) return DecodeError::kBadCredit;
  r.credit = readU32(f[1]);
  if (r.credit == 0 || r.credit > kMaxCredit) return DecodeError::kBadCredit;
  return DecodeError::kNone;
}

template <typename T>
DecodeResult finish(T&& value, DecodeError error) {
  return DecodeResult{Message(std::forward<T>(value)), error};
}

template <typename T, typename Fn>
DecodeResult decodeAs(Frames frames, Fn fn) {
  T value;
  DecodeError error = fn(frames, value);
  return finish(std::move(value), error);
}

void appendBody(std::vector<std::string>& out, const std::vector<std::string_view>& body) {
  for (auto frame : body) out.emplace_back(frame);
}

}  // namespace

std::string_view decodeErrorName(DecodeError error) {
  switch (error) {
    case DecodeError::kNone: return "none";
    case DecodeError::kNoFrames: return "no frames";
    case DecodeError::kBadHeader: return "bad header frame";
    case DecodeError::kBadSignature: return "bad signature";
    case DecodeError::kBadVersion: return "unsupported version";
    case DecodeError::kUnknownCommand: return "unknown command";
    case DecodeError::kMissingFrame: return "missing frame";
    case DecodeError::kExtraFrame: return "extra frame";
    case DecodeError::kBadId: return "bad id";
    case DecodeError::kBadService: return "bad service name";
    case DecodeError::kBadTimeout: return "bad timeout";
    case DecodeError::kBadCaller: return "bad caller";
    case DecodeError::kBadHeaders: return "bad headers";
    case DecodeError::kBadCode: return "bad error code";
    case DecodeError::kBadText: return "bad error text";
    case DecodeError::kBadSettings: return "bad worker settings";
    case DecodeError::kBadCredit: return "bad credit";
  }
  return "unknown";
}

bool isValidServiceName(std::string_view name) {
  if (name.empty() || name.size() > kMaxServiceName) return false;
  for (char c : name)
    if (!isNameChar(c)) return false;
  return true;
}

std::uint32_t readU32(std::string_view four) {
  return (static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[0])) << 24) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[2])) << 8) |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(four[3]));
}

DecodeError peekCommand(std::string_view header, Command& command) {
  if (header.size() != kHeaderSize) return DecodeError::kBadHeader;
  if (static_cast<std::uint8_t>(header[0]) != kSignature0 || static_cast<std::uint8_t>(header[1]) != kSignature1) {
    return DecodeError::kBadSignature;
  }
  if (static_cast<std::uint8_t>(header[2]) != kVersion) return DecodeError::kBadVersion;
  if (!findCommand(static_cast<std::uint8_t>(header[3]))) return DecodeError::kUnknownCommand;
  command = static_cast<Command>(header[3]);
  return DecodeError::kNone;
}

DecodeResult decode(Frames frames) {
  if (frames.empty()) return {Heartbeat{}, DecodeError::kNoFrames};
  Command command{};
  if (auto e = peekCommand(frames[0], command); e != DecodeError::kNone) return {Heartbeat{}, e};
  const CommandSpec& spec = *findCommand(static_cast<std::uint8_t>(command));
  if (frames.size() < spec.minFrames) return {Heartbeat{}, DecodeError::kMissingFrame};
  if (frames.size() > spec.maxFrames) return {Heartbeat{}, DecodeError::kExtraFrame};
  switch (command) {
    case Command::kRequest: return decodeAs<Request>(frames, decodeRequest);
    case Command::kPartial: return decodeAs<Partial>(frames, decodeReplyLike<Partial>);
    case Command::kReply: return decodeAs<Reply>(frames, decodeReplyLike<Reply>);
    case Command::kError: return decodeAs<Error>(frames, decodeError);
    case Command::kReady: return decodeAs<Ready>(frames, decodeReady);
    case Command::kCredit: return decodeAs<Credit>(frames, decodeCredit);
    case Command::kHeartbeat: return {Heartbeat{}, DecodeError::kNone};
    case Command::kDisconnect:
      if (frames[1].size() > kMaxErrorText) return {Heartbeat{}, DecodeError::kBadText};
      return {Disconnect{frames[1]}, DecodeError::kNone};
  }
  return {Heartbeat{}, DecodeError::kUnknownCommand};
}

std::string encodeHeaderFrame(Command command) {
  return std::string{static_cast<char>(kSignature0), static_cast<char>(kSignature1), static_cast<char>(kVersion),
                     static_cast<char>(command)};
}

std::string encodeU32(std::uint32_t value) {
  return std::string{static_cast<char>(value >> 24), static_cast<char>((value >> 16) & 0xFF),
                     static_cast<char>((value >> 8) & 0xFF), static_cast<char>(value & 0xFF)};
}

std::string packFrames(const std::vector<std::string>& frames) {
  std::string out;
  for (const auto& f : frames) out += encodeU32(static_cast<std::uint32_t>(f.size())) + f;
  return out;
}

std::optional<std::vector<std::string_view>> unpackFrames(std::string_view blob) {
  std::vector<std::string_view> frames;
  while (!blob.empty()) {
    if (blob.size() < kU32Size) return std::nullopt;
    std::size_t size = readU32(blob.substr(0, kU32Size));
    blob.remove_prefix(kU32Size);
    if (size > blob.size()) return std::nullopt;
    frames.push_back(blob.substr(0, size));
    blob.remove_prefix(size);
  }
  return frames;
}

std::string encodeHeaders(const std::vector<Header>& headers) {
  std::string out;
  for (const auto& h : headers) {
    out.push_back(static_cast<char>(h.key.size()));
    out.append(h.key);
    appendU16(out, static_cast<std::uint16_t>(h.value.size()));
    out.append(h.value);
  }
  return out;
}

std::string encodeCaller(const Caller& caller) {
  if (caller.name.empty()) return {};
  std::string out(1, static_cast<char>(caller.layer));
  out.append(caller.name);
  return out;
}

std::vector<std::string> encode(const Message& message) {
  struct Encoder {
    std::vector<std::string> operator()(const Request& r) const {
      std::vector<std::string> out{encodeHeaderFrame(Command::kRequest), std::string(r.id.bytes()),
                                   std::string(r.service), encodeU32(r.timeoutMs), encodeCaller(r.caller),
                                   encodeHeaders(r.headers)};
      appendBody(out, r.body);
      return out;
    }
    std::vector<std::string> operator()(const Partial& r) const {
      std::vector<std::string> out{encodeHeaderFrame(Command::kPartial), std::string(r.id.bytes()),
                                   encodeHeaders(r.headers)};
      appendBody(out, r.body);
      return out;
    }
    std::vector<std::string> operator()(const Reply& r) const {
      std::vector<std::string> out{encodeHeaderFrame(Command::kReply), std::string(r.id.bytes()),
                                   encodeHeaders(r.headers)};
      appendBody(out, r.body);
      return out;
    }
    std::vector<std::string> operator()(const Error& r) const {
      std::string code;
      appendU16(code, static_cast<std::uint16_t>(r.code));
      return {encodeHeaderFrame(Command::kError), std::string(r.id.bytes()), code, std::string(r.text)};
    }
    std::vector<std::string> operator()(const Ready& r) const {
      std::vector<std::string> out{encodeHeaderFrame(Command::kReady), encodeU32(r.credit) + encodeU32(r.heartbeatMs)};
      for (auto s : r.services) out.emplace_back(s);
      return out;
    }
    std::vector<std::string> operator()(const Credit& r) const {
      return {encodeHeaderFrame(Command::kCredit), encodeU32(r.credit)};
    }
    std::vector<std::string> operator()(const Heartbeat&) const { return {encodeHeaderFrame(Command::kHeartbeat)}; }
    std::vector<std::string> operator()(const Disconnect& r) const {
      return {encodeHeaderFrame(Command::kDisconnect), std::string(r.reason)};
    }
  };
  return std::visit(Encoder{}, message);
}

}  // namespace strata::codecs
