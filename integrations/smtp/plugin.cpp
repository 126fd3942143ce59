// The `smtp` plug-in: mail.send and mail.status (see docs/integrations.md) on strata_smtp_core.
#include <memory>
#include <string>

#include <strata/core/message_id.h>
#include <strata/integrations/smtp/smtp_config.h>
#include <strata/integrations/smtp/smtp_service.h>
#include <strata/plugin.h>

namespace {

using strata::integrations::smtp::ServiceAnswer;
using strata::integrations::smtp::SmtpConfig;
using strata::integrations::smtp::SmtpService;

void answer(strata::plugin::Reply& reply, const ServiceAnswer& outcome) {
  if (outcome.code != STRATA_OK) {
    reply.error(outcome.code, outcome.body);
    return;
  }
  reply.header("content-type", "application/json");
  reply.frame(outcome.body);
}

class SmtpPlugin : public strata::plugin::Plugin {
 public:
  explicit SmtpPlugin(strata::plugin::Host& host) {
    auto lookup = [&host](const std::string& key) { return host.config(key); };
    auto config = SmtpConfig::load(lookup, host.dataDir());
    const strata::plugin::Host* logHost = &host;  // the Host outlives the plug-in instance
    service_ = std::make_unique<SmtpService>(
        config, [logHost](strata_log_level level, const std::string& text) { logHost->log(level, text); });
    host.addService("mail.send", [this](const strata::plugin::Request& request, strata::plugin::Reply& reply) {
      auto id = strata::core::MessageId(request.id()).hex();
      auto contentType = request.header("content-type").value_or("");
      answer(reply, service_->send(id, contentType, request.body()));
    });
    host.addService("mail.status", [this](const strata::plugin::Request& request, strata::plugin::Reply& reply) {
      answer(reply, service_->status(request.body()));
    });
    host.info("smtp: relay " + config.host + ":" + std::to_string(config.port) + ", starttls " +
              (config.startTls == SmtpConfig::StartTls::kRequired ? "required" : "off") +
              (config.username.empty() ? std::string() : ", AUTH as " + config.username) + ", outbox " +
              config.outbox.string());
  }

 private:
  std::unique_ptr<SmtpService> service_;
};

}  // namespace

STRATA_PLUGIN(SmtpPlugin, "smtp", "1.0.0", "sends mail through an SMTP relay from a durable outbox", "host", "port",
              "starttls", "ca_file", "username", "password_file", "from", "helo", "timeout_ms", "retry_ms",
              "max_attempts", "outbox")
