#pragma once

#include <string>

#include <strata/integrations/smtp/outbound_mail.h>

namespace strata::integrations::smtp {

struct DeliveryResult {
  enum class Outcome {
    kSent,       // the server answered 250 to the end of DATA
    kTransient,  // try again later: 4xx, no connection, timeout, TLS or AUTH failure
    kPermanent,  // the server refused this mail with 5xx: never retried
  };
  Outcome outcome = Outcome::kTransient;
  std::string reply;  // the server's reply text, or what went wrong
};

// Delivers one mail. Called from the sender thread only.
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // Never throws: every failure is a DeliveryResult.
  virtual DeliveryResult deliver(const OutboundMail& mail) = 0;
};

}  // namespace strata::integrations::smtp
