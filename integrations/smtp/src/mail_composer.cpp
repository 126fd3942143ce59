#include <strata/integrations/smtp/mail_composer.h>

#include <algorithm>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>

#include <strata/codecs/mail_message.h>
#include <strata/codecs/payload.h>

namespace strata::integrations::smtp {

namespace {

ComposeResult failure(strata_error code, std::string text) {
  ComposeResult result;
  result.code = code;
  result.error = std::move(text);
  return result;
}

std::string longestBodyLineProblem(const std::string& crlfBody) {
  std::size_t start = 0;
  std::size_t line = 1;
  while (start <= crlfBody.size()) {
    auto end = crlfBody.find("\r\n", start);
    if (end == std::string::npos) end = crlfBody.size();
    if (end - start > codecs::MailMessage::kMaxLineLength) {
      return "body line " + std::to_string(line) + " has " + std::to_string(end - start) + " characters; SMTP allows " +
             std::to_string(codecs::MailMessage::kMaxLineLength);
    }
    if (end == crlfBody.size()) break;
    start = end + 2;
    ++line;
  }
  return {};
}

// RFC 5322 3.6.2, 3.6.3 and 3.6.6: the headers that hold mailboxes.
bool isAddressHeader(const std::string& name) {
  for (const char* known : {"Sender", "Reply-To", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc",
                            "Resent-Bcc"}) {
    if (Poco::icompare(name, known) == 0) return true;
  }
  return false;
}

std::string encodedList(std::string_view value) {
  std::string out;
  for (const auto& mailbox : codecs::mail::splitAddressList(value)) {
    if (!out.empty()) out += ", ";
    out += codecs::mail::encodedMailbox(mailbox);
  }
  return out;
}

// Headers are 7-bit without SMTPUTF8: every text that is not ASCII becomes RFC 2047
// encoded words, in an address only the display name (the address itself is ASCII).
void encodeHeaders(codecs::MailMessage& message) {
  message.from = codecs::mail::encodedMailbox(message.from);
  for (auto* list : {&message.to, &message.cc, &message.bcc}) {
    for (auto& mailbox : *list) mailbox = codecs::mail::encodedMailbox(mailbox);
  }
  if (!codecs::mail::isAscii(message.subject)) message.subject = codecs::mail::encodedWords(message.subject);
  for (auto& [name, value] : message.headers) {
    if (codecs::mail::isAscii(value)) continue;
    value = isAddressHeader(name) ? encodedList(value) : codecs::mail::encodedWords(value);
  }
}

void addHeaderUnlessPresent(codecs::MailMessage& message, std::string name, std::string value) {
  if (message.header(name) == nullptr) message.headers.emplace_back(std::move(name), std::move(value));
}

// A body SMTP carries as it is has 7-bit lines of at most 998 octets. Any other body is
// written quoted-printable, unless the message chose its own transfer encoding or is
// multipart (whose parts carry theirs): then it goes as 8bit, declared BODY=8BITMIME to
// the server, and a line too long is refused. Empty when the body is ready.
std::string encodeBody(codecs::MailMessage& message) {
  bool ascii = codecs::mail::isAscii(message.body);
  auto longLine = longestBodyLineProblem(message.body);
  if (ascii && longLine.empty()) return {};
  const auto* type = message.header("Content-Type");
  auto media = type == nullptr ? std::string() : codecs::mediaType(*type);
  bool composite = media.starts_with("multipart/") || media.starts_with("message/");
  addHeaderUnlessPresent(message, "MIME-Version", "1.0");
  if (composite || message.header("Content-Transfer-Encoding") != nullptr) {
    if (!longLine.empty()) return longLine + " (leave Content-Transfer-Encoding out, and Strata encodes the body)";
    addHeaderUnlessPresent(message, "Content-Transfer-Encoding", "8bit");
    return {};
  }
  addHeaderUnlessPresent(message, "Content-Type", "text/plain; charset=utf-8");
  message.headers.emplace_back("Content-Transfer-Encoding", "quoted-printable");
  message.body = codecs::mail::quotedPrintable(message.body);
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
  auto type = codecs::mediaType(contentType);
  codecs::MailResult read;
  if (type.empty() || type == codecs::kJsonType) {
    auto decoded = codecs::jsonCodec().decode(body, limits_);
    if (!decoded.ok()) return failure(STRATA_ERROR_MALFORMED, "mail.send body is not JSON: " + decoded.error);
    const auto& value = decoded.value;
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
  problem = encodeBody(message);
  if (!problem.empty()) return failure(STRATA_ERROR_MALFORMED, problem);
  encodeHeaders(message);
  if (message.header("Date") == nullptr) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    message.headers.emplace_back(
        "Date", Poco::DateTimeFormatter::format(Poco::Timestamp(micros), Poco::DateTimeFormat::RFC1123_FORMAT));
  }
  if (message.header("Message-ID") == nullptr) message.headers.emplace_back("Message-ID", "<" + id + "@" + domain_ + ">");
  problem = message.validate();  // what was added must pass too (a long encoded header)
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
