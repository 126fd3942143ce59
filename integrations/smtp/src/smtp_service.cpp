#include <strata/integrations/smtp/smtp_service.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/integrations/smtp/smtp_transport.h>

namespace strata::integrations::smtp {

namespace {

// A request id in hex: 32 hex digits. mail.status takes nothing else as an id.
constexpr std::size_t kIdHexLength = 32;
// A mail.status body is an id, plain or in a small JSON object; anything longer is not.
constexpr std::size_t kMaxStatusBody = 256;

std::string toJson(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

bool isIdHex(std::string_view text) {
  return text.size() == kIdHexLength &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

RetryPolicy policyOf(const SmtpConfig& config) {
  RetryPolicy policy;
  policy.base = config.retryBase;
  policy.maxAttempts = config.maxAttempts;
  return policy;
}

}  // namespace

SmtpService::SmtpService(const SmtpConfig& config, MailSender::Log log, std::unique_ptr<MailTransport> transport)
    : log_(std::move(log)),
      composer_(config.defaultFrom, config.heloName),
      outbox_(config.outbox),
      transport_(transport ? std::move(transport) : std::make_unique<SmtpTransport>(config)),
      sender_(outbox_, *transport_, policyOf(config), log_) {
  int requeued = outbox_.requeueInterrupted(MailSender::systemNow());
  if (requeued > 0) {
    log_(STRATA_LOG_WARNING, std::to_string(requeued) +
                                 " mail were being sent when the node stopped; sending them again (a recipient may "
                                 "get one twice, with the same Message-ID)");
  }
  sender_.start();
}

SmtpService::~SmtpService() { sender_.stop(); }

ServiceAnswer SmtpService::send(const std::string& id, std::string_view contentType, std::string_view body) {
  auto composed = composer_.compose(id, contentType, body, std::chrono::system_clock::now());
  if (!composed.ok()) return {composed.code, composed.error};
  MailStatus status;
  try {
    status = outbox_.enqueue(composed.mail, MailSender::systemNow());
  } catch (const std::exception& e) {
    log_(STRATA_LOG_ERROR, "smtp outbox: cannot queue mail " + id + ": " + e.what());
    return {STRATA_ERROR_UNAVAILABLE, std::string("the outbox cannot take the mail: ") + e.what()};
  }
  if (status.state == MailState::kQueued) sender_.wake();
  Poco::JSON::Object answer;
  answer.set("id", id);
  answer.set("status", std::string(toString(status.state)));
  return {STRATA_OK, toJson(answer)};
}

ServiceAnswer SmtpService::status(std::string_view body) {
  if (body.size() > kMaxStatusBody) return {STRATA_ERROR_MALFORMED, "mail.status needs a request id of 32 hex digits"};
  auto text = trimmed(body);
  std::string id = text;
  if (!text.empty() && text.front() == '{') {
    try {
      auto object = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
      id = object->optValue<std::string>("id", "");
    } catch (const Poco::Exception& e) {
      return {STRATA_ERROR_MALFORMED, "mail.status body is not JSON: " + e.displayText()};
    }
  }
  if (!isIdHex(id)) return {STRATA_ERROR_MALFORMED, "mail.status needs a request id of 32 hex digits"};
  for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Poco::JSON::Object answer;
  answer.set("id", id);
  std::optional<MailStatus> status;
  try {
    status = outbox_.status(id);
  } catch (const std::exception& e) {
    return {STRATA_ERROR_UNAVAILABLE, std::string("the outbox cannot be read: ") + e.what()};
  }
  if (!status) {
    answer.set("status", "unknown");
    return {STRATA_OK, toJson(answer)};
  }
  answer.set("status", std::string(toString(status->state)));
  answer.set("attempts", status->attempts);
  answer.set("reply", status->lastReply);
  return {STRATA_OK, toJson(answer)};
}

}  // namespace strata::integrations::smtp
