#pragma once

// An RFC 2822 (RFC 5322) mail message as Strata carries it: the addressing headers apart,
// every other header in order, and the body as bytes. Mail is hostile input: every
// header name and value is checked for CR, LF, NUL and other control characters, every
// address against a conservative addr-spec, and the size before any parsing.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include <strata/codecs/payload.h>

namespace strata::codecs {

struct MailResult;

struct MailMessage {
  // RFC 5322 2.1.1: a line is at most 998 characters without its CRLF.
  static constexpr std::size_t kMaxLineLength = 998;

  std::string from;             // one mailbox: "a@b.example" or "Name <a@b.example>"
  std::vector<std::string> to;  // mailboxes, each as written
  std::vector<std::string> cc;
  std::vector<std::string> bcc;
  std::string subject;
  // Every other header in message order, names as written. A name may repeat.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Parses a whole message: headers (folded lines unfolded), an empty line, the body
  // (kept as it came). Refuses, with a text naming the fault: more than limits.maxBytes
  // (before reading anything), no empty line after the headers, a line that is neither a
  // header nor a continuation, control characters in a name or value, a repeated
  // From/To/Cc/Bcc/Subject, a bad address, a missing From, NUL in the body.
  static MailResult parse(std::string_view bytes, const PayloadLimits& limits = {});

  // Reads the JSON shape {"from", "to": [...], "cc": [...], "bcc": [...], "subject",
  // "headers": {"Name": "value" | ["v1", "v2"]}, "body"} (every member optional here) and
  // validates what is present; From may be empty (a sender fills a default in). Extra
  // members are refused so that a typo ("too") is not silently dropped.
  static MailResult fromValue(const Poco::Dynamic::Var& value);

  // The JSON shape above; cc, bcc and headers only when not empty. A repeated header
  // becomes an array of its values in order.
  Poco::Dynamic::Var toValue() const;

  // Empty when the message is fit to format and send; otherwise what is wrong. Checks
  // From present, every address, every header name and value (no control characters, no
  // header that duplicates a member above, at most kMaxLineLength per line), NUL in body.
  std::string validate() const;

  // The message as RFC 5322 text: From, To, Cc, (Bcc when includeBcc), Subject, the other
  // headers, an empty line, the body with every line end (LF, CR or CRLF) made CRLF.
  // Address lists are folded between addresses. Call only on a message validate() passed.
  std::string format(bool includeBcc = true) const;

  // The value of the first header named name (any case) among headers, or nullptr.
  const std::string* header(std::string_view name) const;
};

struct MailResult {
  MailMessage message;
  std::string error;  // empty when message is good
  bool ok() const { return error.empty(); }
  static MailResult failure(std::string text) { return {{}, std::move(text)}; }
};

// Address checks, shared with the SMTP integration.
namespace mail {

// True for a conservative addr-spec: dot-atom local part of at most 64 characters from
// RFC 5322 atext, '@', a domain of LDH labels (no leading or trailing hyphen, at least two
// labels or "localhost"), at most 254 characters in all. Quoted local parts, comments and
// address literals are refused.
bool isAddrSpec(std::string_view address);

// The addr-spec of a mailbox: "a@b.example" itself, or the part between < > of
// "Display Name <a@b.example>" / "\"Quoted, Name\" <a@b.example>". Empty when the mailbox
// is not one of those forms or its addr-spec fails isAddrSpec.
std::string addrSpecOf(std::string_view mailbox);

// Splits an address-list header value at commas outside quotes and angle brackets, each
// item trimmed. An empty item (",,") is kept so that the check names it.
std::vector<std::string> splitAddressList(std::string_view value);

// Line ends made CRLF: a CRLF stays, a lone LF or lone CR becomes CRLF.
std::string normaliseLineEnds(std::string_view text);

// True when every byte is 7-bit ASCII.
bool isAscii(std::string_view text);

// RFC 2047 B-encoded words of UTF-8 text, each at most 75 characters, split only between
// characters and joined by spaces (which decoders drop between adjacent encoded words,
// and where a header may fold).
std::string encodedWords(std::string_view text);

// A mailbox with its display name as encoded words when the name is not ASCII
// ("Grüße <a@b.example>" -> "=?UTF-8?B?R3LDvMOfZQ==?= <a@b.example>"; a quoted name is
// unquoted first); any other mailbox as it is.
std::string encodedMailbox(std::string_view mailbox);

// RFC 2045 6.7 quoted-printable of CRLF text: its line ends kept as hard breaks, every
// line at most 76 characters (soft breaks "=" CRLF), '=', controls, 8-bit bytes and
// whitespace before a line end written as =XX.
std::string quotedPrintable(std::string_view crlfText);

}  // namespace mail

}  // namespace strata::codecs
