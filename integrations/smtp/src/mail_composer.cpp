#include <strata/integrations/smtp/mail_composer.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <Poco/Base64Encoder.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <strata/codecs/mail_message.h>

namespace strata::integrations::smtp {

namespace {

// RFC 2047 2: an encoded word is at most 75 characters; 45 bytes make 60 base64
// characters, 72 with "=?UTF-8?B?" and "?=".
constexpr std::size_t kEncodedWordBytes = 45;

ComposeResult failure(strata_error code, std::string text) {
  ComposeResult result;
  result.code = code;
  result.error = std::move(text);
  return result;
}

std::string mediaType(std::string_view contentType) {
  auto type = contentType.substr(0, contentType.find(';'));
  std::string out;
  for (char c : type) {
    if (c != ' ' && c != '\t') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// How deeply arrays and objects nest in JSON text, strings skipped. Poco's parser recurses
// per level, so this is checked before parsing.
std::size_t jsonDepth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool isAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string base64(std::string_view bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

// RFC 2047 B-encoded words, split only between UTF-8 characters, joined by spaces (which
// decoders drop between adjacent encoded words, and where the header may fold).
std::string encodedWords(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + kEncodedWordBytes);
    while (end < text.size() && end > start + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + base64(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string longestBodyLineProblem(const std::string& crlfBody) {
  std::size_t start = 0;
  std::size_t line = 1;
  while (start <= crlfBody.size()) {
    auto end = crlfBody.find("\r\n", start);
    if (end == std::string::npos) end = crlfBody.size();
    if (end - start > codecs::MailMessage::kMaxLineLength) {
      return "body line " + std::to_string(line) + " has " + std::to_string(end - start) + " characters; SMTP allows " +
             std::to_string(codecs::MailMessage::kMaxLineLength) + " (wrap it, or encode the body)";
    }
    if (end == crlfBody.size()) break;
    start = end + 2;
    ++line;
  }
  return {};
}

}  // namespace

MailComposer::MailComposer(std::string defaultFrom, std::string domain, codecs::PayloadLimits limits)
    : defaultFrom_(std::move(defaultFrom)), domain_(std::move(domain)), limits_(limits) {}

ComposeResult MailComposer::compose(const std::string& id, std::string_view contentType, std::string_view body,
                                    std::chrono::system_clock::time_point now) const {
  if (body.size() > limits_.maxBytes) {
    return failure(STRATA_ERROR_TOO_LARGE, "mail of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                                               std::to_string(limits_.maxBytes));
  }
  auto type = mediaType(contentType);
  codecs::MailResult read;
  if (type.empty() || type == codecs::kJsonType) {
    if (jsonDepth(body) > limits_.maxDepth) {
      return failure(STRATA_ERROR_MALFORMED, "JSON nests deeper than " + std::to_string(limits_.maxDepth));
    }
    Poco::Dynamic::Var value;
    try {
      value = Poco::JSON::Parser().parse(std::string(body));
    } catch (const Poco::Exception& e) {
      return failure(STRATA_ERROR_MALFORMED, "mail.send body is not JSON: " + e.displayText());
    }
    read = codecs::MailMessage::fromValue(value);
  } else if (type == codecs::kMailType) {
    read = codecs::MailMessage::parse(body, limits_);
  } else {
    return failure(STRATA_ERROR_MALFORMED, "content-type '" + std::string(contentType) + "' is not " +
                                               std::string(codecs::kJsonType) + " or " + std::string(codecs::kMailType));
  }
  if (!read.ok()) return failure(STRATA_ERROR_MALFORMED, read.error);
  auto& message = read.message;
  if (message.from.empty()) {
    if (defaultFrom_.empty()) return failure(STRATA_ERROR_MALFORMED, "no From, and no strata.plugin.smtp.from to use");
    message.from = defaultFrom_;
  }
  if (message.to.empty()) return failure(STRATA_ERROR_MALFORMED, "\"to\" needs at least one address");
  auto problem = message.validate();
  if (!problem.empty()) return failure(STRATA_ERROR_MALFORMED, problem);
  message.body = codecs::mail::normaliseLineEnds(message.body);
  problem = longestBodyLineProblem(message.body);
  if (!problem.empty()) return failure(STRATA_ERROR_MALFORMED, problem);

  if (!isAscii(message.subject)) message.subject = encodedWords(message.subject);
  if (message.header("Date") == nullptr) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    message.headers.emplace_back(
        "Date", Poco::DateTimeFormatter::format(Poco::Timestamp(micros), Poco::DateTimeFormat::RFC1123_FORMAT));
  }
  if (message.header("Message-ID") == nullptr) message.headers.emplace_back("Message-ID", "<" + id + "@" + domain_ + ">");
  if (!isAscii(message.body) && message.header("Content-Type") == nullptr) {
    if (message.header("MIME-Version") == nullptr) message.headers.emplace_back("MIME-Version", "1.0");
    message.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    if (message.header("Content-Transfer-Encoding") == nullptr) {
      message.headers.emplace_back("Content-Transfer-Encoding", "8bit");
    }
  }
  problem = message.validate();  // what was added must pass too (a long encoded Subject)
  if (!problem.empty()) return failure(STRATA_ERROR_MALFORMED, problem);

  ComposeResult result;
  result.mail.id = id;
  result.mail.envelopeFrom = codecs::mail::addrSpecOf(message.from);
  for (const auto* list : {&message.to, &message.cc, &message.bcc}) {
    for (const auto& mailbox : *list) {
      auto address = codecs::mail::addrSpecOf(mailbox);
      auto& recipients = result.mail.recipients;
      if (std::find(recipients.begin(), recipients.end(), address) == recipients.end()) recipients.push_back(address);
    }
  }
  result.mail.data = message.format(false);
  return result;
}

}  // namespace strata::integrations::smtp
