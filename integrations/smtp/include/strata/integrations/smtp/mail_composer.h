#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <strata/codecs/payload.h>
#include <strata/integrations/smtp/outbound_mail.h>
#include <strata/plugin_abi.h>

namespace strata::integrations::smtp {

// The outcome of composing: a mail, or the error code and text mail.send answers with.
struct ComposeResult {
  OutboundMail mail;
  strata_error code = STRATA_OK;
  std::string error;
  bool ok() const { return code == STRATA_OK; }
};

// Turns a mail.send body into an OutboundMail. Pure: no I/O; any thread.
class MailComposer {
 public:
  // defaultFrom fills a missing From (may be empty); domain ends generated Message-IDs.
  MailComposer(std::string defaultFrom, std::string domain, codecs::PayloadLimits limits = {});

  // body is the JSON shape of <strata/codecs/mail_message.h> (contentType
  // application/json, or empty) or a whole RFC 5322 message (message/rfc822). Refuses,
  // with STRATA_ERROR_MALFORMED and a text naming the fault, anything MailMessage refuses,
  // a mail without To, a body line over 998 characters after CRLF normalisation, another
  // content type; with STRATA_ERROR_TOO_LARGE a body over limits.maxBytes (unread).
  // Adds Date (from now) and Message-ID (<id@domain>) when missing, encodes a non-ASCII
  // Subject as an RFC 2047 word, and marks a non-ASCII body as UTF-8 text when the mail
  // has no Content-Type.
  ComposeResult compose(const std::string& id, std::string_view contentType, std::string_view body,
                        std::chrono::system_clock::time_point now) const;

 private:
  std::string defaultFrom_;
  std::string domain_;
  codecs::PayloadLimits limits_;
};

}  // namespace strata::integrations::smtp
