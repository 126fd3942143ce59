#pragma once

#include <string>
#include <vector>

namespace strata::integrations::smtp {

// A mail ready for SMTP: what the outbox stores and the transport sends.
struct OutboundMail {
  std::string id;                       // the request id in hex: the outbox key
  std::string envelopeFrom;             // addr-spec for MAIL FROM
  std::vector<std::string> recipients;  // addr-specs for RCPT TO (To, Cc and Bcc, once each)
  std::string data;                     // RFC 5322 text, CRLF line ends, no Bcc, not dot-stuffed
};

}  // namespace strata::integrations::smtp
