// The RFC 2822 mail payload codec and MailMessage (<strata/codecs/mail_message.h>), which
// it is built on; one file because the codec is only MailMessage seen through PayloadCodec.
#include <strata/codecs/mail_message.h>
#include <strata/codecs/payload.h>
#include <strata/codecs/text.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

namespace strata::codecs {

namespace {

constexpr std::size_t kMaxAddressLength = 254;     // RFC 5321 4.5.3.1.3 (path minus < >)
constexpr std::size_t kMaxLocalPartLength = 64;    // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomainLabelLength = 63;  // RFC 1035 2.3.4
constexpr std::size_t kFoldWidth = 78;             // RFC 5322 2.1.1: SHOULD not exceed
constexpr char kDelete = 0x7f;

constexpr std::string_view kCrlf = "\r\n";

bool isWsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isWsp(text.front())) text.remove_prefix(1);
  while (!text.empty() && isWsp(text.back())) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) { return a.size() == b.size() && lower(a) == lower(b); }

// RFC 5322 3.2.3 atext.
bool isAtext(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// A header field name: printable US-ASCII except ':' (RFC 5322 3.6.8).
bool isFieldName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < kDelete && c != ':'; });
}

// Names the first control character in a value (HTAB is whitespace, not control), or
// returns empty. Bytes from 0x80 up are UTF-8 (RFC 6532) and pass.
std::string controlCharacterIn(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || c == kDelete) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(u));
      const char* name = c == '\r' ? "CR" : c == '\n' ? "LF" : c == '\0' ? "NUL" : "control character";
      return std::string(name) + " (" + hex + ")";
    }
  }
  return {};
}

std::string checkHeaderValue(std::string_view name, std::string_view value) {
  auto bad = controlCharacterIn(value);
  if (!bad.empty()) return "header '" + std::string(name) + "' contains " + bad + "; refused (header injection)";
  return {};
}

// A display name: a quoted-string, or words of atext, '.' and spaces (RFC 5322 phrase,
// with obs-phrase's '.'), or UTF-8 text (RFC 6532).
bool isDisplayName(std::string_view name) {
  if (name.empty()) return true;
  if (name.front() == '"') {
    if (name.size() < 2 || name.back() != '"') return false;
    auto inner = name.substr(1, name.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '\\') {
        if (++i == inner.size()) return false;  // an escape needs a character to escape
      } else if (inner[i] == '"') {
        return false;
      }
    }
    return true;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return isAtext(c) || c == '.' || isWsp(c) || static_cast<unsigned char>(c) >= 0x80;
  });
}

// Folds "Name: value" into lines of at most kFoldWidth where whitespace allows: each break
// goes before a WSP, which starts the next line, so unfolding (removing the CRLFs) gives
// back the value exactly. A word longer than the width stays whole on its own line.
std::vector<std::string> foldHeader(std::string_view name, std::string_view value) {
  std::string whole = std::string(name) + ": " + std::string(value);
  std::vector<std::string> lines;
  std::size_t start = 0;
  std::size_t firstBreakable = name.size() + 2;  // never break inside "Name: "
  while (whole.size() - start > kFoldWidth) {
    std::size_t limit = start + kFoldWidth;
    std::size_t cut = std::string::npos;
    for (std::size_t i = limit; i > std::max(start, firstBreakable); --i) {
      if (isWsp(whole[i])) {
        cut = i;
        break;
      }
    }
    if (cut == std::string::npos) {  // no whitespace within the width: break after the word
      for (std::size_t i = limit + 1; i < whole.size(); ++i) {
        if (isWsp(whole[i]) && i > firstBreakable) {
          cut = i;
          break;
        }
      }
      if (cut == std::string::npos) break;
    }
    // Keep at least one non-WSP character on each line, so no line is whitespace only.
    if (trim(std::string_view(whole).substr(start, cut - start)).empty()) break;
    lines.push_back(whole.substr(start, cut - start));
    start = cut;
    firstBreakable = 0;
  }
  lines.push_back(whole.substr(start));
  return lines;
}

std::string joinList(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

bool isAddressField(std::string_view lowerName) { return lowerName == "to" || lowerName == "cc" || lowerName == "bcc"; }
bool isMemberField(std::string_view lowerName) {
  return lowerName == "from" || lowerName == "subject" || isAddressField(lowerName);
}

std::string checkMailboxes(std::string_view field, const std::vector<std::string>& list) {
  for (const auto& mailbox : list) {
    if (mail::addrSpecOf(mailbox).empty()) {
      return std::string(field) + " address '" + mailbox + "' is not a valid mailbox (name@domain.example or Name <name@domain.example>)";
    }
  }
  return {};
}

// The lines format() writes for the headers, each without its CRLF.
std::vector<std::string> headerLines(const MailMessage& m, bool includeBcc) {
  std::vector<std::string> lines;
  auto add = [&lines](std::string_view name, std::string_view value) {
    auto folded = foldHeader(name, value);
    lines.insert(lines.end(), folded.begin(), folded.end());
  };
  add("From", m.from);
  if (!m.to.empty()) add("To", joinList(m.to));
  if (!m.cc.empty()) add("Cc", joinList(m.cc));
  if (includeBcc && !m.bcc.empty()) add("Bcc", joinList(m.bcc));
  if (!m.subject.empty()) add("Subject", m.subject);
  for (const auto& [name, value] : m.headers) add(name, value);
  return lines;
}

// Reads a JSON member that is a list of address strings.
std::string readList(const Poco::JSON::Object& object, const std::string& key, std::vector<std::string>& out) {
  auto value = object.get(key);
  if (value.isEmpty()) return {};
  if (value.type() != typeid(Poco::JSON::Array::Ptr)) return "\"" + key + "\" must be an array of address strings";
  auto array = value.extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto item = array->get(static_cast<unsigned>(i));
    if (!item.isString()) return "\"" + key + "\" must be an array of address strings";
    out.push_back(item.extract<std::string>());
  }
  return {};
}

std::string readString(const Poco::JSON::Object& object, const std::string& key, std::string& out) {
  auto value = object.get(key);
  if (value.isEmpty()) return {};
  if (!value.isString()) return "\"" + key + "\" must be a string";
  out = value.extract<std::string>();
  return {};
}

Poco::JSON::Object::Ptr objectOf(const Poco::Dynamic::Var& value) {
  if (value.type() == typeid(Poco::JSON::Object::Ptr)) return value.extract<Poco::JSON::Object::Ptr>();
  if (value.type() == typeid(Poco::JSON::Object)) return new Poco::JSON::Object(value.extract<Poco::JSON::Object>());
  return nullptr;
}

Poco::JSON::Array::Ptr arrayOf(const std::vector<std::string>& list) {
  Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
  for (const auto& item : list) array->add(item);
  return array;
}

// MailMessage::validate(), with From optional when requireFrom is false.
std::string validateMessage(const MailMessage& m, bool requireFrom);

class MailCodec final : public PayloadCodec {
 public:
  std::string_view contentType() const override { return kMailType; }

  PayloadResult decode(std::string_view bytes, const PayloadLimits& limits) const override {
    auto parsed = MailMessage::parse(bytes, limits);
    if (!parsed.ok()) return PayloadResult::failure(parsed.error);
    return {parsed.message.toValue(), {}};
  }

  std::string encode(const Poco::Dynamic::Var& value) const override {
    auto read = MailMessage::fromValue(value);
    if (!read.ok()) throw std::invalid_argument(read.error);
    auto problem = read.message.validate();
    if (!problem.empty()) throw std::invalid_argument(problem);
    return read.message.format(true);
  }
};

}  // namespace

namespace mail {

bool isAddrSpec(std::string_view address) {
  if (address.empty() || address.size() > kMaxAddressLength) return false;
  auto at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) return false;
  auto local = address.substr(0, at);
  auto domain = address.substr(at + 1);
  if (local.empty() || local.size() > kMaxLocalPartLength || local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  if (!std::all_of(local.begin(), local.end(), [](char c) { return isAtext(c) || c == '.'; })) return false;
  if (equalsIgnoreCase(domain, "localhost")) return true;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (true) {
    auto dot = domain.find('.', start);
    auto label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > kMaxDomainLabelLength || label.front() == '-' || label.back() == '-') return false;
    bool ldh = std::all_of(label.begin(), label.end(),
                           [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; });
    if (!ldh) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

std::string addrSpecOf(std::string_view mailbox) {
  mailbox = trim(mailbox);
  if (mailbox.empty()) return {};
  if (mailbox.back() != '>') return isAddrSpec(mailbox) ? std::string(mailbox) : std::string();
  // "Display Name <addr>": the '<' that opens the angle address is the last one, and a
  // quoted display name may not hide it (isDisplayName checks the quotes).
  auto open = mailbox.rfind('<');
  if (open == std::string_view::npos) return {};
  auto display = trim(mailbox.substr(0, open));
  auto address = mailbox.substr(open + 1, mailbox.size() - open - 2);
  if (!isDisplayName(display)) return {};
  return isAddrSpec(address) ? std::string(address) : std::string();
}

bool isAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string encodedWords(std::string_view text) {
  // 45 bytes make 60 base64 characters, 72 with "=?UTF-8?B?" and "?=" (RFC 2047 2: 75 at most).
  constexpr std::size_t kWordBytes = 45;
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + kWordBytes);
    while (end < text.size() && end > start + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + toBase64(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string encodedMailbox(std::string_view mailbox) {
  auto trimmed = trim(mailbox);
  auto open = trimmed.rfind('<');
  if (isAscii(trimmed) || trimmed.empty() || trimmed.back() != '>' || open == std::string_view::npos) {
    return std::string(mailbox);
  }
  auto display = trim(trimmed.substr(0, open));
  std::string name;
  if (display.size() >= 2 && display.front() == '"' && display.back() == '"') {
    for (std::size_t i = 1; i + 1 < display.size(); ++i) {
      if (display[i] == '\\' && i + 2 < display.size()) ++i;
      name += display[i];
    }
  } else {
    name = std::string(display);
  }
  return encodedWords(name) + " " + std::string(trimmed.substr(open));
}

std::string quotedPrintable(std::string_view crlfText) {
  constexpr std::size_t kLineWidth = 76;  // RFC 2045 6.7 (5), the "=" of a soft break included
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(crlfText.size() + crlfText.size() / 8);
  std::size_t start = 0;
  while (start <= crlfText.size()) {
    auto end = crlfText.find(kCrlf, start);
    if (end == std::string_view::npos) end = crlfText.size();
    std::size_t column = 0;
    for (std::size_t i = start; i < end; ++i) {
      auto byte = static_cast<unsigned char>(crlfText[i]);
      bool lastOnLine = i + 1 == end;
      bool literal = (byte >= 33 && byte <= 126 && byte != '=') || ((byte == ' ' || byte == '\t') && !lastOnLine);
      std::size_t width = literal ? 1 : 3;
      // Room for this character and, unless it ends the line, the "=" of a soft break.
      if (column + width + (lastOnLine ? 0 : 1) > kLineWidth) {
        out += "=\r\n";
        column = 0;
      }
      if (literal) {
        out += static_cast<char>(byte);
      } else {
        out += '=';
        out += kHex[byte >> 4];
        out += kHex[byte & 0x0F];
      }
      column += width;
    }
    if (end == crlfText.size()) break;
    out += kCrlf;
    start = end + kCrlf.size();
  }
  return out;
}

std::vector<std::string> splitAddressList(std::string_view value) {
  std::vector<std::string> items;
  if (trim(value).empty()) return items;
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      --angle;
    } else if (c == ',' && angle == 0) {
      items.emplace_back(trim(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  items.emplace_back(trim(value.substr(std::min(start, value.size()))));
  return items;
}

std::string normaliseLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += kCrlf;
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += kCrlf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace mail

MailResult MailMessage::parse(std::string_view bytes, const PayloadLimits& limits) {
  if (bytes.size() > limits.maxBytes) {
    return MailResult::failure("mail message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                               std::to_string(limits.maxBytes));
  }
  // Header section: lines ending in LF (a CR before it dropped) up to the first empty line.
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = 0;
  std::size_t lineNumber = 0;
  bool separated = false;
  while (pos < bytes.size()) {
    auto newline = bytes.find('\n', pos);
    if (newline == std::string_view::npos) break;  // an unterminated last line: no separator
    auto line = bytes.substr(pos, newline - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = newline + 1;
    ++lineNumber;
    if (line.empty()) {
      separated = true;
      break;
    }
    if (line.find('\r') != std::string_view::npos) {
      return MailResult::failure("header line " + std::to_string(lineNumber) + " contains a bare CR; refused (header injection)");
    }
    if (isWsp(line.front())) {
      if (fields.empty()) return MailResult::failure("line 1 is a continuation line, not a header");
      fields.back().second += line;  // RFC 5322 2.2.3: unfolding removes only the CRLF
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return MailResult::failure("header line " + std::to_string(lineNumber) + " is not 'Name: value' (no colon)");
    }
    auto name = line.substr(0, colon);
    if (!isFieldName(name)) {
      auto bad = controlCharacterIn(name);
      return MailResult::failure("header line " + std::to_string(lineNumber) + " has an invalid field name" +
                                 (bad.empty() ? std::string() : " (" + bad + ")"));
    }
    fields.emplace_back(std::string(name), std::string(line.substr(colon + 1)));
  }
  if (!separated) return MailResult::failure("no empty line separates the headers from the body");

  MailResult result;
  MailMessage& m = result.message;
  bool seen[5] = {false, false, false, false, false};
  const char* const kMembers[5] = {"from", "to", "cc", "bcc", "subject"};
  for (auto& [name, rawValue] : fields) {
    std::string value(trim(rawValue));
    auto problem = checkHeaderValue(name, value);
    if (!problem.empty()) return MailResult::failure(problem);
    auto key = lower(name);
    auto member = std::find(std::begin(kMembers), std::end(kMembers), key);
    if (member == std::end(kMembers)) {
      m.headers.emplace_back(name, std::move(value));
      continue;
    }
    auto index = static_cast<std::size_t>(member - std::begin(kMembers));
    if (seen[index]) return MailResult::failure("header '" + name + "' appears more than once");
    seen[index] = true;
    if (key == "from") {
      m.from = value;
    } else if (key == "subject") {
      m.subject = value;
    } else {
      auto list = mail::splitAddressList(value);
      (key == "to" ? m.to : key == "cc" ? m.cc : m.bcc) = std::move(list);
    }
  }
  m.body = std::string(bytes.substr(pos));
  auto problem = m.validate();
  if (!problem.empty()) return MailResult::failure(problem);
  return result;
}

MailResult MailMessage::fromValue(const Poco::Dynamic::Var& value) {
  auto object = objectOf(value);
  if (!object) return MailResult::failure("a mail must be a JSON object");
  static const std::vector<std::string> kKnown = {"from", "to", "cc", "bcc", "subject", "headers", "body"};
  for (const auto& name : object->getNames()) {
    if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) {
      return MailResult::failure("unknown member \"" + name + "\" (known: from, to, cc, bcc, subject, headers, body)");
    }
  }
  MailResult result;
  MailMessage& m = result.message;
  for (auto problem : {readString(*object, "from", m.from), readList(*object, "to", m.to), readList(*object, "cc", m.cc),
                       readList(*object, "bcc", m.bcc), readString(*object, "subject", m.subject),
                       readString(*object, "body", m.body)}) {
    if (!problem.empty()) return MailResult::failure(problem);
  }
  auto headers = object->get("headers");
  if (!headers.isEmpty()) {
    auto headerObject = objectOf(headers);
    if (!headerObject) return MailResult::failure("\"headers\" must be an object of strings");
    for (const auto& name : headerObject->getNames()) {
      auto item = headerObject->get(name);
      if (item.isString()) {
        m.headers.emplace_back(name, item.extract<std::string>());
      } else if (item.type() == typeid(Poco::JSON::Array::Ptr)) {
        auto array = item.extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
          auto one = array->get(static_cast<unsigned>(i));
          if (!one.isString()) return MailResult::failure("header \"" + name + "\" must be a string or an array of strings");
          m.headers.emplace_back(name, one.extract<std::string>());
        }
      } else {
        return MailResult::failure("header \"" + name + "\" must be a string or an array of strings");
      }
    }
  }
  // Everything but a missing From: a sender may fill that in from its configuration.
  auto problem = validateMessage(m, false);
  if (!problem.empty()) return MailResult::failure(problem);
  return result;
}

Poco::Dynamic::Var MailMessage::toValue() const {
  Poco::JSON::Object::Ptr object = new Poco::JSON::Object;
  object->set("from", from);
  object->set("to", arrayOf(to));
  object->set("cc", arrayOf(cc));
  if (!bcc.empty()) object->set("bcc", arrayOf(bcc));
  object->set("subject", subject);
  Poco::JSON::Object::Ptr headerObject = new Poco::JSON::Object;
  for (const auto& [name, value] : headers) {
    if (!headerObject->has(name)) {
      headerObject->set(name, value);
      continue;
    }
    auto existing = headerObject->get(name);
    if (existing.isString()) {
      Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
      array->add(existing);
      array->add(value);
      headerObject->set(name, array);
    } else {
      Poco::JSON::Array::Ptr array = existing.extract<Poco::JSON::Array::Ptr>();
      array->add(value);
    }
  }
  object->set("headers", headerObject);
  object->set("body", body);
  return object;
}

std::string MailMessage::validate() const { return validateMessage(*this, true); }

namespace {

std::string validateMessage(const MailMessage& m, bool requireFrom) {
  const auto& [from, to, cc, bcc, subject, headers, body] = m;
  std::string problem;
  if (from.empty()) {
    if (requireFrom) return "no From: a mail needs a sender";
  } else {
    problem = checkHeaderValue("From", from);
    if (!problem.empty()) return problem;
    if (mail::splitAddressList(from).size() != 1) return "From must be one mailbox, not a list";
    problem = checkMailboxes("From", {from});
    if (!problem.empty()) return problem;
  }
  for (const auto* list : {&to, &cc, &bcc}) {
    const char* field = list == &to ? "To" : list == &cc ? "Cc" : "Bcc";
    for (const auto& mailbox : *list) {
      problem = checkHeaderValue(field, mailbox);
      if (!problem.empty()) return problem;
      if (mail::splitAddressList(mailbox).size() > 1) {
        return std::string(field) + " entry '" + mailbox + "' holds more than one address; give one per entry";
      }
    }
    problem = checkMailboxes(field, *list);
    if (!problem.empty()) return problem;
  }
  problem = checkHeaderValue("Subject", subject);
  if (!problem.empty()) return problem;
  for (const auto& [name, value] : headers) {
    if (!isFieldName(name)) {
      auto bad = controlCharacterIn(name);
      return "header name '" + name + "' is not valid" + (bad.empty() ? std::string() : " (contains " + bad + ")");
    }
    if (isMemberField(lower(name))) return "header '" + name + "' must be given as the member \"" + lower(name) + "\"";
    problem = checkHeaderValue(name, value);
    if (!problem.empty()) return problem;
  }
  if (body.find('\0') != std::string::npos) return "the body contains NUL";
  for (const auto& line : headerLines(m, true)) {
    if (line.size() > MailMessage::kMaxLineLength) {
      return "header line '" + line.substr(0, line.find(':')) + "' cannot be folded under " +
             std::to_string(MailMessage::kMaxLineLength) + " characters";
    }
  }
  return {};
}

}  // namespace

std::string MailMessage::format(bool includeBcc) const {
  std::string out;
  for (const auto& line : headerLines(*this, includeBcc)) {
    out += line;
    out += kCrlf;
  }
  out += kCrlf;
  out += mail::normaliseLineEnds(body);
  return out;
}

const std::string* MailMessage::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

const PayloadCodec& mailCodec() {
  static const MailCodec codec;
  return codec;
}

}  // namespace strata::codecs
