#pragma once

#include <string>
#include <string_view>

#include <strata/integrations/smtp/mail_transport.h>
#include <strata/integrations/smtp/smtp_config.h>

namespace strata::integrations::smtp {

// Delivers over SMTP with Poco::Net: one connection per mail, EHLO, STARTTLS when
// required (failing closed when the server does not offer it or its certificate does not
// verify against ca_file for the configured host), AUTH PLAIN or LOGIN when a username is
// set, MAIL FROM, RCPT TO for each recipient, DATA with the message dot-stuffed, QUIT.
// Replies to MAIL, RCPT and DATA classify the outcome (4xx transient, 5xx permanent); any
// failure before MAIL (connection, greeting, EHLO, TLS, AUTH) is transient, since it says
// nothing about this mail.
class SmtpTransport final : public MailTransport {
 public:
  explicit SmtpTransport(SmtpConfig config);
  ~SmtpTransport() override;
  SmtpTransport(const SmtpTransport&) = delete;
  SmtpTransport& operator=(const SmtpTransport&) = delete;

  DeliveryResult deliver(const OutboundMail& mail) override;

  // The bytes sent after DATA's 354: data with every line end made CRLF, a '.' added
  // before each line that starts with '.', a final CRLF if data lacks one, then ".\r\n"
  // (RFC 5321 4.5.2). Nothing in data can end the DATA early.
  static std::string transparentData(std::string_view data);

 private:
  SmtpConfig config_;
};

}  // namespace strata::integrations::smtp
