#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <strata/integrations/smtp/mail_composer.h>
#include <strata/integrations/smtp/mail_sender.h>
#include <strata/integrations/smtp/mail_transport.h>
#include <strata/integrations/smtp/outbox.h>
#include <strata/integrations/smtp/smtp_config.h>
#include <strata/plugin_abi.h>

namespace strata::integrations::smtp {

// What a service answers: a JSON body, or an error code with its text.
struct ServiceAnswer {
  strata_error code = STRATA_OK;
  std::string body;  // JSON when code is STRATA_OK, the error text otherwise
};

// mail.send and mail.status on an outbox and a sender thread. Handlers may run on many
// threads at once.
class SmtpService {
 public:
  // Opens the outbox, requeues mail a crash left in sending, starts the sender. transport
  // may be null (then an SmtpTransport on config). Throws strata::ConfigError.
  SmtpService(const SmtpConfig& config, MailSender::Log log, std::unique_ptr<MailTransport> transport = nullptr);
  ~SmtpService();  // stops the sender after the delivery in progress

  // mail.send: validates everything, then queues the mail under id (hex of the request
  // id) in one COMMIT, and answers {"id": ..., "status": "queued"} once it is on disk. A
  // retried id is not queued again: it answers the id's current status. It does not wait
  // for delivery (ask mail.status).
  ServiceAnswer send(const std::string& id, std::string_view contentType, std::string_view body);

  // mail.status: body is the id in hex, or {"id": "..."}. Answers {"id", "status":
  // queued | sending | sent | dead | unknown, "attempts", "reply"}.
  ServiceAnswer status(std::string_view body);

 private:
  MailSender::Log log_;
  MailComposer composer_;
  Outbox outbox_;
  std::unique_ptr<MailTransport> transport_;
  MailSender sender_;
};

}  // namespace strata::integrations::smtp
